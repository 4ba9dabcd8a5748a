import { Injectable, Logger } from '@nestjs/common';

import { ExoscaleClient, Instance } from '@app/exoscale-client';
import { judgeMember, MemberJudgement, MemberObservation } from '@app/scaling-policy';

import { Settings } from '../config/settings';

interface LbReads {
  failures: number;
  failingSince: number | null;
}

/**
 * What the control plane knows of each member's health: its instance state (from discovery) and the load
 * balancer's health check for its public IP, read at every discovery pass and counted as consecutive failures.
 * The judgement itself is libs/scaling-policy's `judgeMember`. Reads start over after a restart (conservative:
 * K new reads are needed before anyone is judged unhealthy).
 */
@Injectable()
export class MemberHealthService {
  private readonly logger = new Logger(MemberHealthService.name);
  private readonly reads = new Map<string, LbReads>();
  private members: Instance[] = [];
  private service: { lbId: string; serviceId: string } | null = null;
  /** The members the last successful read of the load balancer reported healthy, and when (Unix seconds). */
  private served: { ids: Set<string>; at: number } | null = null;
  /** Whether the last read of the load balancer succeeded (no NLB, or not readable: nothing is judged by it). */
  lbKnown = false;
  lastError: string | null = null;

  constructor(
    private readonly settings: Settings,
    private readonly exoscale: ExoscaleClient,
  ) {}

  /**
   * Records one read: the members as discovery listed them, and the NLB's `healthcheck-status` for them.
   * @param members the pool's members (discovery's last list)
   * @param now Unix seconds
   */
  async observe(members: Instance[], now = Date.now() / 1000): Promise<void> {
    this.members = members;
    const status = await this.readLoadBalancer();
    this.lbKnown = status !== null;
    const ids = new Set(members.map((m) => m.id));
    for (const id of this.reads.keys()) if (!ids.has(id)) this.reads.delete(id);
    if (status)
      this.served = {
        ids: new Set(members.filter((m) => m.publicIp && status.get(m.publicIp) === 'success').map((m) => m.id)),
        at: now,
      };
    for (const m of members) {
      const seen = m.publicIp && status ? status.get(m.publicIp) : undefined;
      if (seen === undefined) {
        this.reads.delete(m.id);
        continue;
      }
      const before = this.reads.get(m.id) ?? { failures: 0, failingSince: null };
      this.reads.set(
        m.id,
        seen === 'failure'
          ? { failures: before.failures + 1, failingSince: before.failingSince ?? now }
          : { failures: 0, failingSince: null },
      );
    }
  }

  /**
   * How many of the given members the load balancer reported healthy (they take traffic) at its last successful
   * read, if that is at most three discovery passes old (one failed read does not lose it); otherwise null (no NLB in
   * front of the pool, or no recent read).
   * @param ids the pool's current member ids (a member gone since the read is not counted)
   * @param now Unix seconds
   */
  servingCount(ids: string[], now = Date.now() / 1000): number | null {
    if (!this.served || now - this.served.at > 3 * this.settings.DISCOVERY_INTERVAL_SECONDS) return null;
    const served = this.served.ids;
    return ids.filter((id) => served.has(id)).length;
  }

  /** Every current member as observed, for the judgement. */
  observations(): MemberObservation[] {
    return this.members.map((m) => {
      const created = m.createdAt ? Date.parse(m.createdAt) / 1000 : NaN;
      return {
        id: m.id,
        createdAt: Number.isFinite(created) ? created : null,
        state: String(m.state),
        lb: this.reads.get(m.id) ?? null,
      };
    });
  }

  /** Every current member's judgement (`GET /pool`, the status page, the replacement). */
  judgements(now = Date.now() / 1000): MemberJudgement[] {
    return this.observations().map((o) => judgeMember(o, now, this.settings.healthSettings));
  }

  /** The NLB service in front of the pool: its per-member status by public IP, or null when there is none. */
  private async readLoadBalancer(): Promise<Map<string, 'success' | 'failure'> | null> {
    const poolId = this.settings.EXOSCALE_INSTANCEPOOL_ID;
    try {
      if (!this.service) {
        const lbs = await this.exoscale.listLoadBalancers();
        const found = lbs
          .flatMap((lb) => lb.services.map((s) => ({ lbId: lb.id, serviceId: s.id, pool: s.instancePoolId })))
          .find((s) => s.pool === poolId);
        if (!found) return null;
        this.service = { lbId: found.lbId, serviceId: found.serviceId };
      }
      const lb = await this.exoscale.getLoadBalancer(this.service.lbId);
      const service = lb.services.find((s) => s.id === this.service!.serviceId);
      if (!service || service.instancePoolId !== poolId) {
        this.service = null;
        return null;
      }
      this.lastError = null;
      return new Map(service.healthcheckStatus.map((h) => [h.publicIp, h.status as 'success' | 'failure']));
    } catch (error) {
      this.service = null;
      this.lastError = error instanceof Error ? error.message : String(error);
      this.logger.warn({
        msg: 'cannot read the load balancer health: members are not judged by it',
        error: this.lastError,
      });
      return null;
    }
  }
}
