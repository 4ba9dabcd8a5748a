import { Logger } from '@nestjs/common';

import { ExoscaleClient, InstancePool } from '@app/exoscale-client';
import { chooseVictims, scheduledBounds, ScheduledBounds } from '@app/scaling-policy';

import { Settings } from '../config/settings';
import { DiscoveryService } from '../discovery/discovery.service';
import { MemberHealthService } from '../discovery/member-health.service';
import { describeError } from './scale-executor';

/** An anti-affinity group holds at most this many instances (Exoscale's documented limit). */
const ANTI_AFFINITY_MAX = 8;

/**
 * What limits a pool's size besides the policy: its bounds (configured, raised by schedules, capped by an
 * anti-affinity group), the organisation's instance quota, and which members a scale-in removes.
 */
export class PoolLimits {
  private readonly logger = new Logger(PoolLimits.name);
  private quotaError: string | null = null;
  private antiAffinityWarned = false;

  constructor(
    private readonly settings: Settings,
    private readonly exoscale: ExoscaleClient,
    private readonly health: MemberHealthService,
    private readonly discovery: DiscoveryService,
  ) {}

  get bounds(): { min: number; max: number } {
    return { min: this.settings.POOL_MIN_SIZE, max: this.settings.POOL_MAX_SIZE };
  }

  /**
   * The bounds in force: the settings', raised (or capped) by the SCHEDULES windows active at `now`, with the maximum
   * clamped to 8 when the pool is in an anti-affinity group (a group holds at most 8 instances, and every member
   * joins each of the pool's groups).
   */
  effectiveBounds(
    pool?: Pick<InstancePool, 'antiAffinityGroupIds'>,
    now = Date.now() / 1000,
  ): { min: number; max: number } {
    const { min, max } = this.schedule(now);
    if (!pool || pool.antiAffinityGroupIds.length === 0 || max <= ANTI_AFFINITY_MAX) return { min, max };
    if (!this.antiAffinityWarned) {
      this.antiAffinityWarned = true;
      this.logger.warn({
        msg: `the pool is in an anti-affinity group, which holds at most ${ANTI_AFFINITY_MAX} instances: POOL_MAX_SIZE ${max} is clamped to ${ANTI_AFFINITY_MAX}`,
      });
    }
    return { min: Math.min(min, ANTI_AFFINITY_MAX), max: ANTI_AFFINITY_MAX };
  }

  /** The SCHEDULES windows active at `now` and the bounds they put in force (libs/scaling-policy, pure). */
  schedule(now = Date.now() / 1000): ScheduledBounds {
    return scheduledBounds(this.settings.schedules, this.bounds, now);
  }

  /** The members a scale-in removes: unhealthy first, then the newest (libs/scaling-policy `chooseVictims`). */
  victims(pool: InstancePool, count: number): string[] {
    const judged = new Map(this.health.judgements().map((j) => [j.id, j.health]));
    const created = new Map(
      this.discovery.status.members.map((m) => [m.id, m.createdAt ? Date.parse(m.createdAt) / 1000 : null]),
    );
    return chooseVictims(
      pool.instanceIds.map((id) => ({
        id,
        createdAt: Number.isFinite(created.get(id) ?? NaN) ? created.get(id)! : null,
        health: judged.get(id) ?? 'unknown',
      })),
      count,
    );
  }

  /** Instances the organisation may still create (`get-quota`), or null when unlimited or unreadable. */
  async quotaHeadroom(): Promise<number | null> {
    try {
      const quota = await this.exoscale.getQuota('instance');
      this.quotaError = null;
      return quota.limit < 0 ? null : quota.limit - quota.usage;
    } catch (error) {
      if (this.quotaError === null)
        this.logger.warn({
          msg: 'cannot read the instance quota: scaling goes on without it',
          error: describeError(error),
        });
      this.quotaError = describeError(error);
      return null;
    }
  }
}
