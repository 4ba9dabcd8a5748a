import {
  BadGatewayException,
  BadRequestException,
  ConflictException,
  Body,
  Controller,
  Injectable,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';

import { ExoscaleApiError } from '@app/exoscale-client';

import { Fleet } from '../fleet/fleet.service';
import { PoolScope } from '../fleet/pool-scope';
import { DecisionEntry } from '../scaling/decision-log.service';
import { ApiTokenGuard } from './api-token.guard';
import { DecisionEntryDto, PoolStatusDto, PoolSummaryDto } from './dto/pool-status.dto';
import { ScaleRequestDto } from './dto/scale-request.dto';
import { PoolService } from './pool.service';

/** The pool API's handlers, shared by /pool (the one-pool aliases) and /pools/{name}. */
@Injectable()
export class PoolHandlers {
  constructor(private readonly pool: PoolService) {}

  async status(scope: PoolScope): Promise<PoolStatusDto> {
    try {
      return await this.pool.status(scope);
    } catch (error) {
      if (error instanceof ExoscaleApiError) throw new BadGatewayException(`Exoscale API: ${error.message}`);
      throw error;
    }
  }

  async scale(scope: PoolScope, body: ScaleRequestDto): Promise<DecisionEntry> {
    const hasDirection = body.direction !== undefined;
    const hasSize = body.size !== undefined;
    if (hasDirection === hasSize) throw new BadRequestException(['give exactly one of direction or size']);
    if (hasSize) {
      const { min, max } = scope.scaling.bounds;
      if (body.size! < min || body.size! > max) {
        const [minName, maxName] = scope.settings.POOLS_FILE
          ? [`the pool's min=`, 'max=']
          : ['POOL_MIN_SIZE=', 'POOL_MAX_SIZE='];
        throw new BadRequestException([
          `size ${body.size} is outside the bounds ${minName}${min} and ${maxName}${max}`,
        ]);
      }
    }
    const entry = await scope.scaling.manual(hasSize ? { size: body.size! } : { direction: body.direction! });
    // The entry is in the decision log either way; the status tells a caller whether the pool changed.
    const message = entry.reasons.map((r) => r.text);
    if (entry.outcome === 'deferred') throw new ConflictException({ message, code: entry.code, entry });
    if (entry.outcome === 'error') throw new BadGatewayException({ message, code: entry.code, entry });
    return entry;
  }

  events(scope: PoolScope, limit?: string): DecisionEntry[] {
    if (limit === undefined) return scope.log.list();
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1) throw new BadRequestException(['limit must be a positive integer']);
    return scope.log.list(n);
  }
}

const SCALE_DESCRIPTION =
  'Shares the lock and the bounds with the tick. Answers with the decision log entry.';
const POOL_QUERY = {
  name: 'pool',
  required: false,
  description: 'With several pools: the pool (name or id); with one, it may be left out',
};

@ApiTags('pool')
@Controller('pool')
export class PoolController {
  constructor(
    private readonly fleet: Fleet,
    private readonly handlers: PoolHandlers,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'The pool: size, state, bounds, members, load balancer health, pending signal, next tick',
  })
  @ApiQuery(POOL_QUERY)
  @ApiOkResponse({ type: PoolStatusDto })
  @ApiBadGatewayResponse({ description: 'The Exoscale API could not be read' })
  status(@Query('pool') pool?: string | string[]): Promise<PoolStatusDto> {
    return this.handlers.status(this.fleet.resolve(pool));
  }

  @Post('scale')
  @HttpCode(200)
  @UseGuards(ApiTokenGuard)
  @ApiBearerAuth('api-token')
  @ApiOperation({
    summary: 'Manual scaling: one step {"direction":"up"|"down"} or an absolute {"size":N}',
    description: SCALE_DESCRIPTION,
  })
  @ApiQuery(POOL_QUERY)
  @ApiOkResponse({ type: DecisionEntryDto })
  @ApiBadRequestResponse({
    description: 'Neither or both of direction and size, or a size outside the bounds',
  })
  @ApiUnauthorizedResponse({ description: 'API_TOKEN is set and the bearer token is missing or wrong' })
  @ApiConflictResponse({
    description: 'The pool is not running (a scaling operation is under way): nothing changed',
  })
  @ApiBadGatewayResponse({ description: 'The Exoscale API failed: nothing changed; the reasons say why' })
  scale(@Body() body: ScaleRequestDto, @Query('pool') pool?: string | string[]): Promise<DecisionEntry> {
    return this.handlers.scale(this.fleet.resolve(pool), body);
  }

  @Get('events')
  @ApiOperation({ summary: 'The decision log, newest first' })
  @ApiQuery({ name: 'limit', required: false, example: 50 })
  @ApiQuery(POOL_QUERY)
  @ApiOkResponse({ type: [DecisionEntryDto] })
  events(@Query('limit') limit?: string, @Query('pool') pool?: string | string[]): DecisionEntry[] {
    return this.handlers.events(this.fleet.resolve(pool), limit);
  }
}

/** Every managed pool (docs/architecture.md §4, "Many pools"). */
@ApiTags('pools')
@Controller('pools')
export class PoolsController {
  constructor(
    private readonly fleet: Fleet,
    private readonly pool: PoolService,
    private readonly handlers: PoolHandlers,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Every managed pool: name, id, zone, size, bounds, utilisation, last decision (no API call)',
  })
  @ApiOkResponse({ type: [PoolSummaryDto] })
  list(): PoolSummaryDto[] {
    const now = Date.now() / 1000;
    return this.fleet.all().map((scope) => this.pool.summary(scope, now));
  }

  @Get(':name')
  @ApiOperation({ summary: 'One pool, as GET /pool shows it (read from the API)' })
  @ApiParam({ name: 'name', description: "The pool's name (or id)" })
  @ApiOkResponse({ type: PoolStatusDto })
  @ApiNotFoundResponse({ description: 'No managed pool has that name' })
  @ApiBadGatewayResponse({ description: 'The Exoscale API could not be read' })
  status(@Param('name') name: string): Promise<PoolStatusDto> {
    return this.handlers.status(this.fleet.resolve(name));
  }

  @Post(':name/scale')
  @HttpCode(200)
  @UseGuards(ApiTokenGuard)
  @ApiBearerAuth('api-token')
  @ApiOperation({
    summary: 'Manual scaling of one pool: {"direction":"up"|"down"} or {"size":N}',
    description: SCALE_DESCRIPTION,
  })
  @ApiParam({ name: 'name', description: "The pool's name (or id)" })
  @ApiOkResponse({ type: DecisionEntryDto })
  @ApiBadRequestResponse({
    description: 'Neither or both of direction and size, or a size outside the bounds',
  })
  @ApiNotFoundResponse({ description: 'No managed pool has that name' })
  @ApiUnauthorizedResponse({ description: 'API_TOKEN is set and the bearer token is missing or wrong' })
  @ApiConflictResponse({ description: 'The pool is not running: nothing changed' })
  @ApiBadGatewayResponse({ description: 'The Exoscale API failed: nothing changed; the reasons say why' })
  scale(@Param('name') name: string, @Body() body: ScaleRequestDto): Promise<DecisionEntry> {
    return this.handlers.scale(this.fleet.resolve(name), body);
  }

  @Get(':name/events')
  @ApiOperation({ summary: "One pool's decision log, newest first" })
  @ApiParam({ name: 'name', description: "The pool's name (or id)" })
  @ApiQuery({ name: 'limit', required: false, example: 50 })
  @ApiOkResponse({ type: [DecisionEntryDto] })
  @ApiNotFoundResponse({ description: 'No managed pool has that name' })
  events(@Param('name') name: string, @Query('limit') limit?: string): DecisionEntry[] {
    return this.handlers.events(this.fleet.resolve(name), limit);
  }
}
