import { Injectable } from '@nestjs/common';

import { LoadBalancer } from '@app/exoscale-client';
import { nextWindowStart } from '@app/scaling-policy';

import { PoolScope } from '../fleet/pool-scope';
import { PoolStatusDto, PoolSummaryDto, ScheduleStatusDto } from './dto/pool-status.dto';

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** What the API and the status page show of a pool. */
@Injectable()
export class PoolService {
  /** The active SCHEDULES windows and the next start (GET /pool, the status page). */
  schedules(scope: PoolScope, now: number): ScheduleStatusDto {
    const next = nextWindowStart(scope.settings.schedules, now);
    return {
      active: scope.scaling.schedule(now).active,
      next: next ? { name: next.name, at: iso(next.at) } : null,
      configured: scope.scaling.bounds,
    };
  }

  /**
   * A pool as this control plane knows it, without calling the API (GET /pools: cheap for a thousand pools):
   * the last size read, the bounds in force, the last utilisation and decision.
   */
  summary(scope: PoolScope, now = Date.now() / 1000): PoolSummaryDto {
    const last = scope.scaling.lastPool;
    const members = scope.discovery.status.members;
    const u = scope.scaling.lastUtilisation;
    const decision = scope.log.latest();
    const pending = scope.signals.snapshot();
    return {
      name: scope.name,
      id: scope.id,
      zone: scope.zone,
      size: last?.size ?? (scope.discovery.status.lastSuccessAt ? members.length : null),
      state: last?.state ?? null,
      min: scope.scaling.effectiveBounds(undefined, now).min,
      max: scope.scaling.effectiveBounds(undefined, now).max,
      members: members.filter((m) => m.state === 'running').length,
      utilisation: u && now - u.at <= 2 * scope.settings.SCALING_INTERVAL_SECONDS + 60 ? u.value : null,
      pending: { up: Boolean(pending.up), down: Boolean(pending.down) },
      firing: scope.signals.firing(now).length,
      policy: scope.settings.SCALING_POLICY,
      lastDecision: decision
        ? {
            id: decision.id,
            time: decision.time,
            outcome: decision.outcome,
            code: decision.code,
            targetSize: decision.targetSize,
          }
        : null,
      nextTickAt: scope.scaling.nextTickAt?.toISOString() ?? null,
    };
  }

  async status(scope: PoolScope): Promise<PoolStatusDto> {
    const { settings, exoscale, signals, scaling, health } = scope;
    const decisions = scope.log;
    const poolId = scope.id;
    const [pool, members, loadBalancers] = await Promise.all([
      exoscale.getInstancePool(poolId),
      exoscale.listInstances({ managerId: poolId }),
      // The NLB is optional for the status: the pool can run without one, or the key may not be allowed to read it.
      exoscale.listLoadBalancers().catch(() => [] as LoadBalancer[]),
    ]);
    const service = loadBalancers
      .flatMap((lb) => lb.services.map((s) => ({ lb, s })))
      .find(({ s }) => s.instancePoolId === poolId);
    const healthByIp = new Map(service?.s.healthcheckStatus.map((h) => [h.publicIp, h.status]) ?? []);
    const pending = signals.snapshot();
    const now = Date.now();
    const judged = new Map(health.judgements(now / 1000).map((j) => [j.id, j]));
    return {
      id: pool.id,
      name: pool.name,
      pool: scope.name,
      zone: settings.EXOSCALE_ZONE,
      size: pool.size,
      state: pool.state,
      bounds: scaling.effectiveBounds(pool, now / 1000),
      members: members.map((m) => ({
        id: m.id,
        name: m.name,
        ip: m.publicIp,
        state: m.state,
        ...(m.publicIp && healthByIp.has(m.publicIp) ? { health: healthByIp.get(m.publicIp) } : {}),
        createdAt: m.createdAt ?? null,
        warmingUp: m.createdAt ? now - Date.parse(m.createdAt) < settings.WARMUP_SECONDS * 1000 : false,
        judgedHealth: judged.get(m.id)?.health ?? 'unknown',
        healthReason: judged.get(m.id)?.text ?? 'not observed yet',
      })),
      loadBalancer: service
        ? {
            ip: service.lb.ip,
            healthy: service.s.healthcheckStatus.filter((h) => h.status === 'success').length,
            total: service.s.healthcheckStatus.length,
          }
        : null,
      pending: { up: Boolean(pending.up), down: Boolean(pending.down) },
      alerts: signals.firing().map((a) => ({
        direction: a.direction,
        alert: a.alert,
        firingSince: iso(a.firingSince),
        lastReceivedAt: iso(a.lastReceivedAt),
        value: a.value?.utilisation ?? null,
        expiresAt: iso(a.lastReceivedAt + signals.ttlSeconds),
      })),
      policy: {
        name: settings.SCALING_POLICY,
        targetUtilization: settings.TARGET_UTILIZATION,
        scaleInUtilization: settings.SCALE_IN_UTILIZATION,
        warmupSeconds: settings.WARMUP_SECONDS,
        alertTtlSeconds: settings.ALERT_TTL_SECONDS,
        readsPrometheus: Boolean(settings.PROMETHEUS_URL),
      },
      nextTickAt: scaling.nextTickAt?.toISOString() ?? null,
      dryRun: settings.DRY_RUN,
      lastDecision: decisions.latest() ?? null,
      ...(settings.schedules.length > 0 ? { schedules: this.schedules(scope, now / 1000) } : {}),
      ...(scaling.lastForecast
        ? {
            forecast: {
              mode: scaling.lastForecast.mode,
              size: scaling.lastForecast.forecastSize,
              load: scaling.lastForecast.forecastLoad,
              source: scaling.lastForecast.source,
              reason: scaling.lastForecast.reason.text,
              at: iso(scaling.lastForecast.at),
            },
          }
        : {}),
    };
  }
}
