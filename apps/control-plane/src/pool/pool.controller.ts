import {
  BadGatewayException,
  BadRequestException,
  ConflictException,
  Body,
  Controller,
  Get,
  HttpCode,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';

import { ExoscaleApiError } from '@app/exoscale-client';

import { DecisionEntry, DecisionLogService } from '../scaling/decision-log.service';
import { ScalingService } from '../scaling/scaling.service';
import { ApiTokenGuard } from './api-token.guard';
import { DecisionEntryDto, PoolStatusDto } from './dto/pool-status.dto';
import { ScaleRequestDto } from './dto/scale-request.dto';
import { PoolService } from './pool.service';

@ApiTags('pool')
@Controller('pool')
export class PoolController {
  constructor(
    private readonly pool: PoolService,
    private readonly scaling: ScalingService,
    private readonly decisions: DecisionLogService,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'The pool: size, state, bounds, members, load balancer health, pending signal, next tick',
  })
  @ApiOkResponse({ type: PoolStatusDto })
  @ApiBadGatewayResponse({ description: 'The Exoscale API could not be read' })
  async status(): Promise<PoolStatusDto> {
    try {
      return await this.pool.status();
    } catch (error) {
      if (error instanceof ExoscaleApiError) throw new BadGatewayException(`Exoscale API: ${error.message}`);
      throw error;
    }
  }

  @Post('scale')
  @HttpCode(200)
  @UseGuards(ApiTokenGuard)
  @ApiBearerAuth('api-token')
  @ApiOperation({
    summary: 'Manual scaling: one step {"direction":"up"|"down"} or an absolute {"size":N}',
    description: 'Shares the lock and the bounds with the tick. Answers with the decision log entry.',
  })
  @ApiOkResponse({ type: DecisionEntryDto })
  @ApiBadRequestResponse({
    description: 'Neither or both of direction and size, or a size outside the bounds',
  })
  @ApiUnauthorizedResponse({ description: 'API_TOKEN is set and the bearer token is missing or wrong' })
  @ApiConflictResponse({
    description: 'The pool is not running (a scaling operation is under way): nothing changed',
  })
  @ApiBadGatewayResponse({ description: 'The Exoscale API failed: nothing changed; the reasons say why' })
  async scale(@Body() body: ScaleRequestDto): Promise<DecisionEntry> {
    const hasDirection = body.direction !== undefined;
    const hasSize = body.size !== undefined;
    if (hasDirection === hasSize) throw new BadRequestException(['give exactly one of direction or size']);
    if (hasSize) {
      const { min, max } = this.scaling.bounds;
      if (body.size! < min || body.size! > max) {
        throw new BadRequestException([
          `size ${body.size} is outside the bounds POOL_MIN_SIZE=${min} and POOL_MAX_SIZE=${max}`,
        ]);
      }
    }
    const entry = await this.scaling.manual(hasSize ? { size: body.size! } : { direction: body.direction! });
    // The entry is in the decision log either way; the status tells a caller whether the pool changed.
    const message = entry.reasons.map((r) => r.text);
    if (entry.outcome === 'deferred') throw new ConflictException({ message, code: entry.code, entry });
    if (entry.outcome === 'error') throw new BadGatewayException({ message, code: entry.code, entry });
    return entry;
  }

  @Get('events')
  @ApiOperation({ summary: 'The decision log, newest first' })
  @ApiQuery({ name: 'limit', required: false, example: 50 })
  @ApiOkResponse({ type: [DecisionEntryDto] })
  events(@Query('limit') limit?: string): DecisionEntry[] {
    if (limit === undefined) return this.decisions.list();
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1) throw new BadRequestException(['limit must be a positive integer']);
    return this.decisions.list(n);
  }
}
