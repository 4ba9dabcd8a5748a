import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';

import { PartStatus } from '../discovery/discovery.service';
import { Fleet } from '../fleet/fleet.service';
import { LeadershipService } from '../ha/leadership.service';
import { PoolScope } from '../fleet/pool-scope';

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
 * state could be saved), `scalingTick` (ticks keep coming, and the last found the pool). One failing part never shows up as another's failure.
 */
interface Part {
  up: boolean;
  details: Record<string, unknown>;
}

/** A pool's parts, each up or down with its details (see the controller's doc). */
export function poolParts(scope: PoolScope): Record<string, Part> {
  const part = (status: PartStatus, extra: Record<string, unknown> = {}): Part => ({
    up: status.consecutiveFailures === 0 && status.lastSuccessAt !== null,
    details: {
      lastSuccessAt: iso(status.lastSuccessAt),
      consecutiveFailures: status.consecutiveFailures,
      lastError: status.lastError,
      ...extra,
    },
  });
  const { discovery, state, scaling } = scope;
  const api = discovery.status.api;
  return {
    exoscale: part(api, api.lastError ? { hint: exoscaleHint(api.lastError) } : {}),
    discovery: {
      up: discovery.isFresh(),
      details: {
        lastSuccessAt: iso(discovery.status.lastSuccessAt),
        targets: discovery.status.targets,
        lastError: discovery.status.lastError,
      },
    },
    sdFile: part(discovery.status.sdFile),
    // Up until a write fails: a fresh control plane has nothing to save yet.
    stateFile: {
      up: state.status.consecutiveFailures === 0,
      details: {
        path: state.path,
        lastSuccessAt: iso(state.status.lastSuccessAt),
        lastError: state.status.lastError,
      },
    },
    // Down too when the last tick found no such pool: a wrong id or zone must not look healthy.
    scalingTick: {
      up: scaling.tickAlive() && scaling.poolMissing === null,
      details: {
        lastTickAt: iso(scaling.lastTickAt),
        nextTickAt: iso(scaling.nextTickAt),
        ...(scaling.poolMissing ? { lastError: scaling.poolMissing } : {}),
      },
    },
  };
}

/**
 * Each part by its own name, with its last error: `exoscale` (the API answers discovery's calls; with a hint
 * naming the clock when the API refused a request for its time, else the key or the endpoint), `discovery`
 * (the member list is fresh), `sdFile` (the service discovery file could be written), `stateFile` (the
 * state could be saved), `scalingTick` (ticks keep coming, and the last found the pool). One failing part never shows up as another's failure.
 * With several pools (or `?pool=`), one entry per pool, named `pool:<name>`, holding its parts; down if any is.
 */
@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly fleet: Fleet,
    private readonly leadership: LeadershipService,
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({
    summary:
      'Health of each part: exoscale (API), discovery (fresh members), sdFile (writable), scalingTick (alive); 503 if any is down; by pool when several',
  })
  @ApiQuery({ name: 'pool', required: false, description: "One pool's parts (name or id)" })
  check(@Query('pool') pool?: string | string[]) {
    const lease = this.fleet.ha
      ? [
          () => {
            const indicator = this.indicators.check('leadership');
            const details = {
              ...this.leadership.state(),
              lastError: this.leadership.lastAttemptFailure?.error ?? null,
            };
            return this.leadership.healthy() ? indicator.up(details) : indicator.down(details);
          },
        ]
      : [];
    const labels = this.fleet.discovery;
    const discovery = labels
      ? [
          () => {
            const indicator = this.indicators.check('poolDiscovery');
            const details = {
              lastSuccessAt: iso(labels.status.lastSuccessAt),
              lastError: labels.status.lastError,
              discovered: labels.status.discovered,
              problems: labels.status.problems,
            };
            return labels.status.lastError === null && labels.status.lastSuccessAt
              ? indicator.up(details)
              : indicator.down(details);
          },
        ]
      : [];
    if (pool !== undefined || this.fleet.size === 1) {
      const parts = poolParts(this.fleet.resolve(pool));
      return this.health.check([
        ...Object.entries(parts).map(([key, { up, details }]) => () => {
          const indicator = this.indicators.check(key);
          return up ? indicator.up(details) : indicator.down(details);
        }),
        ...(pool === undefined ? [...lease, ...discovery] : []),
      ]);
    }
    return this.health.check([
      ...lease,
      ...discovery,
      ...this.fleet.all().map((scope) => () => {
        const parts = poolParts(scope);
        const indicator = this.indicators.check(`pool:${scope.name}`);
        const down = Object.entries(parts)
          .filter(([, p]) => !p.up)
          .map(([key]) => key);
        const details = {
          down,
          ...Object.fromEntries(Object.entries(parts).map(([k, p]) => [k, { up: p.up, ...p.details }])),
        };
        return down.length === 0 ? indicator.up(details) : indicator.down(details);
      }),
    ]);
  }
}
