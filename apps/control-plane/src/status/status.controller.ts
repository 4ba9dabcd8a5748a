import { Controller, Get, Header, Param, Query } from '@nestjs/common';
import {
  ApiExcludeEndpoint,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';

import { Fleet } from '../fleet/fleet.service';
import { renderPoolSparkline, renderStatusChart } from './status-chart';
import { HistorySample } from './status-history.service';
import {
  OVERVIEW_PAGE_HTML,
  OVERVIEW_PAGE_SCRIPT,
  STATUS_PAGE_CSP,
  STATUS_PAGE_HTML,
  STATUS_PAGE_SCRIPT,
} from './status-page';

const POOL_QUERY = {
  name: 'pool',
  required: false,
  description: 'With several pools: the pool (name or id)',
};

/** The read-only status page and what it shows. Scaling stays behind POST /pool/scale and its token. */
@ApiTags('status')
@Controller()
export class StatusController {
  constructor(private readonly fleet: Fleet) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', STATUS_PAGE_CSP)
  @Header('X-Content-Type-Options', 'nosniff')
  @ApiOperation({
    summary: 'Status page: pool, members, alert state, the last hour as a chart, the last decisions',
  })
  @ApiQuery(POOL_QUERY)
  @ApiProduces('text/html')
  page(@Query('pool') pool?: string | string[]): string {
    // With several pools, the overview (each pool linking to its page); one pool's page otherwise.
    if (pool === undefined && this.fleet.size > 1) return OVERVIEW_PAGE_HTML;
    if (pool !== undefined) this.fleet.resolve(pool);
    return STATUS_PAGE_HTML;
  }

  @Get('status/pools/:name')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', STATUS_PAGE_CSP)
  @Header('X-Content-Type-Options', 'nosniff')
  @ApiOperation({ summary: "One pool's status page (the page / shows for a single pool)" })
  @ApiParam({ name: 'name', description: "The pool's name (or id)" })
  @ApiProduces('text/html')
  poolPage(@Param('name') name: string): string {
    this.fleet.resolve(name);
    return STATUS_PAGE_HTML;
  }

  @Get('status/overview.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('X-Content-Type-Options', 'nosniff')
  @ApiExcludeEndpoint()
  overviewScript(): string {
    return OVERVIEW_PAGE_SCRIPT;
  }

  @Get('status/pools/:name/spark.svg')
  @Header('Content-Type', 'image/svg+xml; charset=utf-8')
  @Header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
  @Header('X-Content-Type-Options', 'nosniff')
  @ApiOperation({
    summary: "A pool's last 15 minutes as a small SVG chart: requested and serving size, utilisation",
  })
  @ApiParam({ name: 'name', description: "The pool's name (or id)" })
  @ApiProduces('image/svg+xml')
  sparkline(@Param('name') name: string): string {
    const scope = this.fleet.resolve(name);
    return renderPoolSparkline(Date.now() / 1000, scope.history.samples(), scope.scaling.bounds);
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
  @ApiQuery(POOL_QUERY)
  @ApiProduces('image/svg+xml')
  chart(@Query('pool') pool?: string | string[]): string {
    const scope = this.fleet.resolve(pool);
    return renderStatusChart({
      now: Date.now() / 1000,
      samples: scope.history.samples(),
      decisions: scope.log.list(),
      bounds: scope.scaling.bounds,
      targetUtilisation: scope.settings.TARGET_UTILIZATION,
      scaleInUtilisation: scope.settings.SCALE_IN_UTILIZATION,
    });
  }

  @Get('pool/history')
  @ApiQuery(POOL_QUERY)
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
  historySamples(@Query('pool') pool?: string | string[]): HistorySample[] {
    return this.fleet.resolve(pool).history.samples();
  }
}
