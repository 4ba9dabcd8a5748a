import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';

import { DiscoveryService, PartStatus } from '../discovery/discovery.service';
import { ScalingService } from '../scaling/scaling.service';
import { StateFile } from '../scaling/state-file.service';

const iso = (d: Date | null) => d?.toISOString() ?? null;

/**
 * What to check when the API refuses discovery's calls, from the client's message: a refusal caused by this host's
 * clock (an expired signature) says so, so the key is not blamed for it.
 */
export function exoscaleHint(lastError: string | null): string | null {
  if (!lastError) return null;
  if (/clock skew|refused the request for its time/.test(lastError))
    return "this host's clock is off: fix it (NTP); the API key is not at fault";
  if (/\(HTTP 40[13]\)/.test(lastError))
    return "the API refused the credentials: check EXOSCALE_KEY / EXOSCALE_SECRET and the key's IAM role";
  return "check EXOSCALE_API_ENDPOINT, the network and Exoscale's status";
}

/**
 * Each part by its own name, with its last error: `exoscale` (the API answers discovery's calls; with a hint
 * naming the clock when the API refused a request for its time, else the key or the endpoint), `discovery`
 * (the member list is fresh), `sdFile` (the service discovery file could be written), `stateFile` (the
 * state could be saved), `scalingTick` (ticks keep coming). One failing part never shows up as another's failure.
 */
@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly discovery: DiscoveryService,
    private readonly scaling: ScalingService,
    private readonly state: StateFile,
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({
    summary:
      'Health of each part: exoscale (API), discovery (fresh members), sdFile (writable), scalingTick (alive); 503 if any is down',
  })
  check() {
    const part = (key: string, status: PartStatus, extra: Record<string, unknown> = {}) => {
      const indicator = this.indicators.check(key);
      const details = {
        lastSuccessAt: iso(status.lastSuccessAt),
        consecutiveFailures: status.consecutiveFailures,
        lastError: status.lastError,
        ...extra,
      };
      return status.consecutiveFailures === 0 && status.lastSuccessAt
        ? indicator.up(details)
        : indicator.down(details);
    };
    return this.health.check([
      () => {
        const api = this.discovery.status.api;
        return part('exoscale', api, api.lastError ? { hint: exoscaleHint(api.lastError) } : {});
      },
      () => {
        const status = this.discovery.status;
        const indicator = this.indicators.check('discovery');
        const details = {
          lastSuccessAt: iso(status.lastSuccessAt),
          targets: status.targets,
          lastError: status.lastError,
        };
        return this.discovery.isFresh() ? indicator.up(details) : indicator.down(details);
      },
      () => part('sdFile', this.discovery.status.sdFile),
      () => {
        // Up until a write fails: a fresh control plane has nothing to save yet.
        const status = this.state.status;
        const indicator = this.indicators.check('stateFile');
        const details = {
          path: this.state.path,
          lastSuccessAt: iso(status.lastSuccessAt),
          lastError: status.lastError,
        };
        return status.consecutiveFailures === 0 ? indicator.up(details) : indicator.down(details);
      },
      () => {
        const indicator = this.indicators.check('scalingTick');
        const details = {
          lastTickAt: iso(this.scaling.lastTickAt),
          nextTickAt: iso(this.scaling.nextTickAt),
        };
        return this.scaling.tickAlive() ? indicator.up(details) : indicator.down(details);
      },
    ]);
  }
}
