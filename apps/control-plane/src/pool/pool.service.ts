import { Injectable } from '@nestjs/common';

import { ExoscaleClient, LoadBalancer } from '@app/exoscale-client';
import { nextWindowStart } from '@app/scaling-policy';

import { Settings } from '../config/settings';
import { MemberHealthService } from '../discovery/member-health.service';
import { DecisionLogService } from '../scaling/decision-log.service';
import { ScalingService } from '../scaling/scaling.service';
import { SignalStore } from '../scaling/signal-store';
import { PoolStatusDto, ScheduleStatusDto } from './dto/pool-status.dto';

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

@Injectable()
export class PoolService {
  constructor(
    private readonly settings: Settings,
    private readonly exoscale: ExoscaleClient,
    private readonly signals: SignalStore,
    private readonly scaling: ScalingService,
    private readonly decisions: DecisionLogService,
    private readonly health: MemberHealthService,
  ) {}

  /** The active SCHEDULES windows and the next start (GET /pool, the status page). */
  schedules(now: number): ScheduleStatusDto {
    const next = nextWindowStart(this.settings.schedules, now);
    return {
      active: this.scaling.schedule(now).active,
      next: next ? { name: next.name, at: iso(next.at) } : null,
      configured: this.scaling.bounds,
    };
  }

  async status(): Promise<PoolStatusDto> {
    const poolId = this.settings.EXOSCALE_INSTANCEPOOL_ID;
    const [pool, members, loadBalancers] = await Promise.all([
      this.exoscale.getInstancePool(poolId),
      this.exoscale.listInstances({ managerId: poolId }),
      // The NLB is optional for the status: the pool can run without one, or the key may not be allowed to read it.
      this.exoscale.listLoadBalancers().catch(() => [] as LoadBalancer[]),
    ]);
    const service = loadBalancers
      .flatMap((lb) => lb.services.map((s) => ({ lb, s })))
      .find(({ s }) => s.instancePoolId === poolId);
    const healthByIp = new Map(service?.s.healthcheckStatus.map((h) => [h.publicIp, h.status]) ?? []);
    const pending = this.signals.snapshot();
    const now = Date.now();
    const judged = new Map(this.health.judgements(now / 1000).map((j) => [j.id, j]));
    return {
      id: pool.id,
      name: pool.name,
      zone: this.settings.EXOSCALE_ZONE,
      size: pool.size,
      state: pool.state,
      bounds: this.scaling.effectiveBounds(pool, now / 1000),
      members: members.map((m) => ({
        id: m.id,
        name: m.name,
        ip: m.publicIp,
        state: m.state,
        ...(m.publicIp && healthByIp.has(m.publicIp) ? { health: healthByIp.get(m.publicIp) } : {}),
        createdAt: m.createdAt ?? null,
        warmingUp: m.createdAt ? now - Date.parse(m.createdAt) < this.settings.WARMUP_SECONDS * 1000 : false,
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
      alerts: this.signals.firing().map((a) => ({
        direction: a.direction,
        alert: a.alert,
        firingSince: iso(a.firingSince),
        lastReceivedAt: iso(a.lastReceivedAt),
        value: a.value?.utilisation ?? null,
        expiresAt: iso(a.lastReceivedAt + this.signals.ttlSeconds),
      })),
      policy: {
        name: this.settings.SCALING_POLICY,
        targetUtilization: this.settings.TARGET_UTILIZATION,
        scaleInUtilization: this.settings.SCALE_IN_UTILIZATION,
        warmupSeconds: this.settings.WARMUP_SECONDS,
        alertTtlSeconds: this.settings.ALERT_TTL_SECONDS,
        readsPrometheus: Boolean(this.settings.PROMETHEUS_URL),
      },
      nextTickAt: this.scaling.nextTickAt?.toISOString() ?? null,
      dryRun: this.settings.DRY_RUN,
      lastDecision: this.decisions.latest() ?? null,
      ...(this.settings.schedules.length > 0 ? { schedules: this.schedules(now / 1000) } : {}),
    };
  }
}
