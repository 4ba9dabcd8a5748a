import { LocalLoadBalancer } from './load-balancer';
import { derivePoolId, PoolSpec } from './options';
import { VirtualMembers } from './virtual-members';
import { EmulatedLoadBalancer, EmulatedPool, EmulatedZone } from './zone';

export interface PoolSummary {
  id: string;
  name: string;
  size: number;
  state: string;
  virtual: boolean;
  /** The local NLB in front of a process-backed pool. */
  nlb?: string;
  loadBalancerId?: string;
}

/**
 * The zone's pools as the emulator runs them: process-backed pools, each behind its own local NLB on its own
 * port, and virtual pools whose members are API objects only (VirtualMembers). Pool ids after the first are
 * derived from it (derivePoolId), in creation order.
 */
export class Fleet {
  readonly loadBalancers = new Map<
    string,
    { lb: EmulatedLoadBalancer; nlb: LocalLoadBalancer; url: string }
  >();
  private readonly virtualNames = new Map<string, number>();

  constructor(
    readonly zone: EmulatedZone,
    readonly virtualMembers: VirtualMembers,
    private readonly options: { firstPoolId: string; healthIntervalMs: number; targetPort: number },
  ) {}

  async addPool(spec: PoolSpec): Promise<EmulatedPool> {
    if (spec.virtual) {
      return this.zone.createPool({
        id: spec.id,
        name: spec.name,
        size: spec.size,
        virtual: true,
        runtime: this.virtualMembers,
      });
    }
    const pool = await this.zone.createPool({ id: spec.id, name: spec.name, size: spec.size });
    const port = spec.nlbPort!;
    const n = this.loadBalancers.size;
    const lb = this.zone.createLoadBalancer({
      name: n === 0 ? 'local-nlb' : `local-nlb-${n + 1}`,
      poolId: pool.id,
      port,
      targetPort: this.options.targetPort,
    });
    const interval = this.options.healthIntervalMs;
    lb.service.healthcheck.interval = Math.max(1, Math.round(interval / 1000));
    const nlb = new LocalLoadBalancer(this.zone, {
      poolId: pool.id,
      listenHost: '127.0.0.1',
      listenPort: port,
      targetPort: this.options.targetPort,
      healthcheck: {
        port: this.options.targetPort,
        uri: '/health',
        intervalMs: interval,
        timeoutMs: Math.min(2000, interval),
      },
    });
    this.loadBalancers.set(pool.id, { lb, nlb, url: `http://127.0.0.1:${port}` });
    return pool;
  }

  /**
   * Creates `count` virtual pools of `size` members each, named `<prefix>-<n>` (n counting on from the last one of
   * that prefix), with the next derived ids.
   */
  async addVirtualPools(count: number, size: number, prefix = 'virtual'): Promise<EmulatedPool[]> {
    const created: EmulatedPool[] = [];
    for (let i = 0; i < count; i++) {
      const n = (this.virtualNames.get(prefix) ?? this.countNamed(prefix)) + 1;
      this.virtualNames.set(prefix, n);
      created.push(await this.addPool({ id: this.nextId(), name: `${prefix}-${n}`, size, virtual: true }));
    }
    return created;
  }

  /** Starts every NLB's listener and health checks. */
  async startLoadBalancers(): Promise<void> {
    for (const { nlb } of this.loadBalancers.values()) await nlb.start();
  }

  async stopLoadBalancers(): Promise<void> {
    await Promise.all([...this.loadBalancers.values()].map(({ nlb }) => nlb.stop()));
  }

  /** A member's health as its load balancer sees it; a virtual member's is its settable flag. */
  healthOf(ip: string): 'success' | 'failure' {
    for (const { nlb } of this.loadBalancers.values()) if (nlb.health.has(ip)) return nlb.healthOf(ip);
    const member = [...this.zone.instances.values()].find((i) => i.publicIp === ip);
    return member && this.memberHealth(member.id) === 'success' ? 'success' : 'failure';
  }

  memberHealth(instanceId: string): 'success' | 'failure' {
    const member = this.zone.instances.get(instanceId);
    if (!member) return 'failure';
    if (this.virtualMembers.has(instanceId))
      return member.state === 'running' && this.virtualMembers.healthy(instanceId) ? 'success' : 'failure';
    return this.loadBalancers.get(member.poolId)?.nlb.healthOf(member.publicIp) ?? 'failure';
  }

  nlbOf(poolId: string): LocalLoadBalancer | undefined {
    return this.loadBalancers.get(poolId)?.nlb;
  }

  summary(pool: EmulatedPool): PoolSummary {
    const lb = this.loadBalancers.get(pool.id);
    return {
      id: pool.id,
      name: pool.name,
      size: pool.size,
      state: pool.state,
      virtual: pool.virtual,
      ...(lb ? { nlb: lb.url, loadBalancerId: lb.lb.id } : {}),
    };
  }

  list(): PoolSummary[] {
    return [...this.zone.pools.values()].map((p) => this.summary(p));
  }

  private nextId(): string {
    for (let k = this.zone.pools.size; ; k++) {
      const id = derivePoolId(this.options.firstPoolId, k);
      if (!this.zone.pools.has(id)) return id;
    }
  }

  private countNamed(prefix: string): number {
    let n = 0;
    for (const pool of this.zone.pools.values()) if (pool.name.startsWith(`${prefix}-`)) n++;
    return n;
  }
}
