import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';

import { DiscoveryService } from '../discovery/discovery.service';

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly discovery: DiscoveryService,
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({
    summary: 'Health: the Exoscale API answers and the service discovery file is fresh (503 otherwise)',
  })
  check() {
    return this.health.check([
      () => {
        const status = this.discovery.status;
        const indicator = this.indicators.check('exoscale');
        return status.consecutiveFailures === 0 && status.lastSuccessAt
          ? indicator.up()
          : indicator.down({ consecutiveFailures: status.consecutiveFailures, lastError: status.lastError });
      },
      () => {
        const status = this.discovery.status;
        const indicator = this.indicators.check('discovery');
        const details = {
          lastSuccessAt: status.lastSuccessAt?.toISOString() ?? null,
          targets: status.targets,
        };
        return this.discovery.isFresh() ? indicator.up(details) : indicator.down(details);
      },
    ]);
  }
}
