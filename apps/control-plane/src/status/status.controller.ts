import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';

import { Settings } from '../config/settings';
import { DecisionLogService } from '../scaling/decision-log.service';
import { renderStatusChart } from './status-chart';
import { HistorySample, StatusHistory } from './status-history.service';
import { STATUS_PAGE_CSP, STATUS_PAGE_HTML, STATUS_PAGE_SCRIPT } from './status-page';

/** The read-only status page and what it shows. Scaling stays behind POST /pool/scale and its token. */
@ApiTags('status')
@Controller()
export class StatusController {
  constructor(
    private readonly settings: Settings,
    private readonly history: StatusHistory,
    private readonly decisions: DecisionLogService,
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', STATUS_PAGE_CSP)
  @Header('X-Content-Type-Options', 'nosniff')
  @ApiOperation({
    summary: 'Status page: pool, members, alert state, the last hour as a chart, the last decisions',
  })
  @ApiProduces('text/html')
  page(): string {
    return STATUS_PAGE_HTML;
  }

  @Get('status/app.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('X-Content-Type-Options', 'nosniff')
  @ApiExcludeEndpoint()
  script(): string {
    return STATUS_PAGE_SCRIPT;
  }

  @Get('status/chart.svg')
  @Header('Content-Type', 'image/svg+xml; charset=utf-8')
  @Header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
  @Header('X-Content-Type-Options', 'nosniff')
  @ApiOperation({
    summary: 'The last hour as an SVG chart: sizes, bounds, utilisation, decisions with their reasons',
  })
  @ApiProduces('image/svg+xml')
  chart(): string {
    return renderStatusChart({
      now: Date.now() / 1000,
      samples: this.history.samples(),
      decisions: this.decisions.list(),
      bounds: { min: this.settings.POOL_MIN_SIZE, max: this.settings.POOL_MAX_SIZE },
      targetUtilisation: this.settings.TARGET_UTILIZATION,
      scaleInUtilisation: this.settings.SCALE_IN_UTILIZATION,
    });
  }

  @Get('pool/history')
  @ApiOperation({
    summary: 'The last hour of the pool, sampled every 5 s: requested and serving size, utilisation',
  })
  @ApiOkResponse({
    schema: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          t: { type: 'number', example: 1795000000 },
          requested: { type: 'number', nullable: true, example: 3 },
          serving: { type: 'number', example: 2 },
          utilisation: { type: 'number', nullable: true, example: 0.71 },
        },
      },
    },
  })
  historySamples(): HistorySample[] {
    return this.history.samples();
  }
}
