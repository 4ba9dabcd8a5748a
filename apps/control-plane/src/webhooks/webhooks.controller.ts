import {
  BadRequestException,
  Controller,
  Get,
  HttpCode,
  Post,
  Query,
  Req,
  Res,
  UnsupportedMediaTypeException,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBasicAuth,
  ApiBearerAuth,
  ApiBody,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiResponse,
  ApiTags,
  ApiUnauthorizedResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';

import { Direction } from '@app/scaling-policy';
import { AlertGroupPayloadDto } from './dto/alert-group-payload.dto';
import { GrafanaLegacyPayloadDto } from './dto/grafana-legacy-payload.dto';
import { WebhookResultDto } from './dto/webhook-result.dto';
import { WebhookAuthGuard } from './webhook-auth.guard';
import { InvalidWebhookError, IntakeRequest, WebhookIntakeService } from './webhook-intake.service';

const anyPayload = {
  required: false,
  schema: {
    oneOf: [{ $ref: getSchemaPath(AlertGroupPayloadDto) }, { $ref: getSchemaPath(GrafanaLegacyPayloadDto) }],
  },
  examples: {
    alertmanager: {
      value: {
        version: '4',
        status: 'firing',
        receiver: 'autoscaler',
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'PoolCpuHigh', autoscale: 'up' },
            startsAt: '2026-11-23T10:00:00Z',
          },
        ],
      },
    },
    grafanaLegacy: {
      value: { state: 'alerting', ruleName: 'Pool CPU high', tags: { autoscale: 'up' }, evalMatches: [] },
    },
  },
};

function hasBody(req: Request & { rawBody?: Buffer }): boolean {
  const length = Number(req.headers['content-length'] ?? 0);
  return length > 0 || req.headers['transfer-encoding'] !== undefined || (req.rawBody?.length ?? 0) > 0;
}

function parseDirection(value: string | undefined): Direction | undefined {
  if (value === undefined) return undefined;
  if (value === 'up' || value === 'down') return value;
  throw new BadRequestException([`direction must be up or down, got ${JSON.stringify(value)}`]);
}

@ApiTags('webhooks')
@ApiExtraModels(AlertGroupPayloadDto, GrafanaLegacyPayloadDto)
@ApiBasicAuth('webhook-basic')
@ApiBearerAuth('webhook-bearer')
@ApiResponse({
  status: 202,
  description: 'A signal was recorded; the next tick applies it',
  type: WebhookResultDto,
})
@ApiOkResponse({
  description: 'A valid payload that records nothing (resolved, ok, test notification)',
  type: WebhookResultDto,
})
@ApiBadRequestResponse({
  description: 'Invalid body, or the direction cannot be determined; nothing recorded',
})
@ApiUnauthorizedResponse({ description: 'Webhook authentication is configured and failed' })
@ApiResponse({ status: 413, description: 'Body larger than 1 MiB' })
@ApiResponse({ status: 415, description: 'A body that is not application/json' })
@ApiQuery({
  name: 'pool',
  required: false,
  description:
    "The pool (name or id) the notification is for; else each alert's `pool` label, else the only pool",
})
@UseGuards(WebhookAuthGuard)
@Controller()
export class WebhooksController {
  constructor(private readonly intake: WebhookIntakeService) {}

  @Get('up')
  @HttpCode(202)
  @ApiOperation({ summary: 'Scale-up signal from a bare GET (the course grader)' })
  upByGet(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<WebhookResultDto> {
    return this.handle(req, res, 'any', 'up');
  }

  @Post('up')
  @HttpCode(202)
  @ApiOperation({ summary: 'Scale-up signal: a bare POST, or a Grafana/Alertmanager notification' })
  @ApiBody(anyPayload)
  upByPost(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<WebhookResultDto> {
    return this.handle(req, res, 'any', 'up');
  }

  @Get('down')
  @HttpCode(202)
  @ApiOperation({ summary: 'Scale-down signal from a bare GET (the course grader)' })
  downByGet(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<WebhookResultDto> {
    return this.handle(req, res, 'any', 'down');
  }

  @Post('down')
  @HttpCode(202)
  @ApiOperation({ summary: 'Scale-down signal: a bare POST, or a Grafana/Alertmanager notification' })
  @ApiBody(anyPayload)
  downByPost(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<WebhookResultDto> {
    return this.handle(req, res, 'any', 'down');
  }

  @Post('webhooks/grafana')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Grafana unified (8+) or legacy (<= 10) notification; direction from label `autoscale` or ?direction=',
  })
  @ApiQuery({ name: 'direction', required: false, enum: ['up', 'down'] })
  @ApiBody({ ...anyPayload, required: true })
  grafana(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @Query('direction') direction?: string,
  ): Promise<WebhookResultDto> {
    return this.handle(req, res, 'grafana', parseDirection(direction), true);
  }

  @Post('webhooks/alertmanager')
  @HttpCode(202)
  @ApiOperation({ summary: 'Alertmanager v4 notification; direction from label `autoscale` or ?direction=' })
  @ApiQuery({ name: 'direction', required: false, enum: ['up', 'down'] })
  @ApiBody({ type: AlertGroupPayloadDto })
  alertmanager(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @Query('direction') direction?: string,
  ): Promise<WebhookResultDto> {
    return this.handle(req, res, 'alertmanager', parseDirection(direction), true);
  }

  private async handle(
    req: Request,
    res: Response,
    source: IntakeRequest['source'],
    direction: Direction | undefined,
    bodyRequired = false,
  ): Promise<WebhookResultDto> {
    const withBody = hasBody(req);
    if (withBody && !req.is('application/json')) {
      throw new UnsupportedMediaTypeException('webhook bodies must be application/json');
    }
    if (!withBody && bodyRequired) throw new BadRequestException(['a JSON notification body is required']);
    try {
      const pool = req.query.pool;
      if (pool !== undefined && typeof pool !== 'string')
        throw new BadRequestException(['pool must be given once, as ?pool=NAME']);
      const result = await this.intake.receive({
        source,
        direction,
        body: withBody ? (req.body as unknown) : undefined,
        ...(pool !== undefined ? { pool } : {}),
      });
      res.status(result.status === 'accepted' ? 202 : 200);
      return result;
    } catch (error) {
      if (error instanceof InvalidWebhookError) throw new BadRequestException(error.reasons);
      throw error;
    }
  }
}
