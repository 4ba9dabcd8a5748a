import { randomUUID } from 'node:crypto';

/** An in-memory Exoscale zone: instance pools whose members have a lifecycle, async operations, load balancers. */

export interface MemberRuntime {
  /** Brings a member up (e.g. starts its process); resolves when it is started. */
  start(member: EmulatedInstance): Promise<void>;
  /** Takes a member down; resolves when it is gone. */
  stop(member: EmulatedInstance): Promise<void>;
}

export const NO_RUNTIME: MemberRuntime = { start: async () => undefined, stop: async () => undefined };

export interface ZoneTimings {
  /** Time a new member spends in `starting`, as a VM's boot would take. */
  bootDelayMs: number;
  /** Time a removed member spends in `stopping`. */
  stopDelayMs: number;
  /**
   * While a pool is scaling, its API answers report the size it had before (the new size shows once it runs
   * again). Off by default; tests of a caller reading a moving pool turn it on.
   */
  sizeShownWhenSettled?: boolean;
}

export interface EmulatedInstance {
  id: string;
  name: string;
  state: 'starting' | 'running' | 'stopping' | 'stopped' | 'destroyed' | 'error';
  publicIp: string;
  poolId: string;
  createdAt: string;
  /** Creation order, for "newest first" removal. */
  seq: number;
}

export interface EmulatedPool {
  id: string;
  name: string;
  description: string;
  size: number;
  state: 'running' | 'scaling-up' | 'scaling-down';
  instancePrefix: string;
  instanceIds: string[];
  labels: Record<string, string>;
  /** The size the API reports while a transition runs (see ZoneTimings.sizeShownWhenSettled). */
  shownSize?: number;
  /** Anti-affinity group ids (every member joins each). */
  antiAffinityGroupIds: string[];
  /** Members are API objects only (no process, addresses in 10.0.0.0/8): for benchmarks with many pools. */
  virtual: boolean;
}

export interface EmulatedOperation {
  id: string;
  state: 'pending' | 'success' | 'failure';
  reason?: string;
  message?: string;
  referenceId: string;
  command: string;
}

export interface EmulatedLoadBalancer {
  id: string;
  name: string;
  ip: string;
  service: {
    id: string;
    name: string;
    port: number;
    targetPort: number;
    poolId: string;
    healthcheck: {
      mode: 'http' | 'tcp';
      port: number;
      uri: string;
      interval: number;
      timeout: number;
      retries: number;
    };
  };
}

export class ZoneConflictError extends Error {}
export class ZoneNotFoundError extends Error {}

export class EmulatedZone {
  readonly pools = new Map<string, EmulatedPool>();
  readonly instances = new Map<string, EmulatedInstance>();
  readonly operations = new Map<string, EmulatedOperation>();
  readonly loadBalancers = new Map<string, EmulatedLoadBalancer>();
  /** Number of scale/evict calls accepted while another one was still pending on the same pool. */
  overlappingOperations = 0;
  /** Health of each member as the load balancer sees it; when unset, a running member counts as healthy. */
  healthOf: (ip: string) => 'success' | 'failure' = (ip) =>
    [...this.instances.values()].some((i) => i.publicIp === ip && i.state === 'running')
      ? 'success'
      : 'failure';

  private nextHost = 1;
  private nextVirtualHost = 1;
  private nextSeq = 1;
  /** Each pool's member runtime (the zone's own unless the pool was given one). */
  private readonly runtimes = new Map<string, MemberRuntime>();
  private readonly pending = new Map<string, Promise<void>>();
  private stopped = false;
  /** Cuts boot and stop delays short at shutdown. */
  private readonly stopping = new AbortController();

  constructor(
    readonly name: string,
    private readonly runtime: MemberRuntime = NO_RUNTIME,
    readonly timings: ZoneTimings = { bootDelayMs: 0, stopDelayMs: 0 },
  ) {}

  /**
   * Creates a pool and waits until its initial members run (without the boot delay). A `virtual` pool's members
   * are API objects only, with addresses in 10.0.0.0/8 (run by `runtime` when given, else by nothing).
   */
  async createPool(options: {
    name: string;
    size: number;
    id?: string;
    instancePrefix?: string;
    antiAffinityGroupIds?: string[];
    virtual?: boolean;
    runtime?: MemberRuntime;
  }): Promise<EmulatedPool> {
    if (options.id !== undefined && this.pools.has(options.id))
      throw new ZoneConflictError(`instance pool ${options.id} exists already`);
    const pool: EmulatedPool = {
      id: options.id ?? randomUUID(),
      name: options.name,
      description: 'emulated instance pool',
      size: 0,
      state: 'running',
      instancePrefix: options.instancePrefix ?? 'pool',
      instanceIds: [],
      labels: {},
      antiAffinityGroupIds: options.antiAffinityGroupIds ?? [],
      virtual: options.virtual ?? false,
    };
    this.pools.set(pool.id, pool);
    this.runtimes.set(pool.id, options.runtime ?? (pool.virtual ? NO_RUNTIME : this.runtime));
    // The pool exists before the stack starts, as after a `terraform apply`: its first members boot without delay.
    const operation = this.scale(pool.id, options.size, 0);
    await this.pending.get(operation.id);
    if (operation.state === 'failure') throw new Error(`pool ${pool.name}: ${operation.message}`);
    return pool;
  }

  createLoadBalancer(options: {
    name: string;
    poolId: string;
    port: number;
    targetPort: number;
    ip?: string;
  }): EmulatedLoadBalancer {
    const lb: EmulatedLoadBalancer = {
      id: randomUUID(),
      name: options.name,
      ip: options.ip ?? '127.0.0.1',
      service: {
        id: randomUUID(),
        name: 'http',
        port: options.port,
        targetPort: options.targetPort,
        poolId: options.poolId,
        healthcheck: {
          mode: 'http',
          port: options.targetPort,
          uri: '/health',
          interval: 10,
          timeout: 3,
          retries: 1,
        },
      },
    };
    this.loadBalancers.set(lb.id, lb);
    return lb;
  }

  getPool(id: string): EmulatedPool {
    const pool = this.pools.get(id);
    if (!pool) throw new ZoneNotFoundError(`instance pool ${id} not found`);
    return pool;
  }

  /** Members of a pool that are not destroyed yet, oldest first. */
  members(poolId: string): EmulatedInstance[] {
    const pool = this.pools.get(poolId);
    if (!pool) return [];
    return pool.instanceIds
      .map((id) => this.instances.get(id))
      .filter((i): i is EmulatedInstance => i !== undefined && i.state !== 'destroyed');
  }

  /** `bootDelayMs` overrides the zone's boot delay for the members this call creates. */
  scale(poolId: string, size: number, bootDelayMs = this.timings.bootDelayMs): EmulatedOperation {
    const pool = this.getPool(poolId);
    this.assertIdle(pool);
    const current = pool.instanceIds.length;
    pool.size = size;
    if (size === current) return this.finishedOperation(pool.id, 'scale');
    const members = pool.instanceIds.map((id) => this.instances.get(id)!);
    const removed = size < current ? [...members].sort(byNewestFirst).slice(0, current - size) : [];
    return this.transition(pool, size > current ? size - current : 0, removed, 'scale', bootDelayMs);
  }

  evict(poolId: string, instanceIds: string[]): EmulatedOperation {
    const pool = this.getPool(poolId);
    this.assertIdle(pool);
    const unknown = instanceIds.filter((id) => !pool.instanceIds.includes(id));
    if (unknown.length > 0) throw new ZoneNotFoundError(`instances not in pool: ${unknown.join(', ')}`);
    pool.size = pool.instanceIds.length - instanceIds.length;
    return this.transition(
      pool,
      0,
      instanceIds.map((id) => this.instances.get(id)!),
      'evict',
      this.timings.bootDelayMs,
    );
  }

  /** A member died (its process exited): like a pool, replace it with a new one. */
  memberDied(instanceId: string): void {
    const instance = this.instances.get(instanceId);
    if (!instance || instance.state === 'destroyed' || instance.state === 'stopping' || this.stopped) return;
    const pool = this.pools.get(instance.poolId);
    instance.state = 'destroyed';
    this.instances.delete(instance.id);
    if (!pool) return;
    pool.instanceIds = pool.instanceIds.filter((id) => id !== instanceId);
    if (pool.instanceIds.length < pool.size) {
      void this.bootMember(pool, this.timings.bootDelayMs).catch(() => undefined);
    }
  }

  private gate: Promise<void> = Promise.resolve();

  /**
   * Holds every transition that starts from now on (its members are neither created nor removed, its operation
   * stays pending) until the returned function is called; for tests that act while an operation runs.
   */
  holdTransitions(): () => void {
    let release!: () => void;
    this.gate = new Promise<void>((resolve) => (release = resolve));
    return () => {
      release();
      this.gate = Promise.resolve();
    };
  }

  /**
   * The organisation's instance quota (`get-quota` for `instance`): usage counts every instance not destroyed;
   * -1 is unlimited, as on Exoscale.
   */
  instanceQuotaLimit = -1;

  instanceQuota(): { resource: string; usage: number; limit: number } {
    const usage = [...this.instances.values()].filter((i) => i.state !== 'destroyed').length;
    return { resource: 'instance', usage, limit: this.instanceQuotaLimit };
  }

  /**
   * Puts a member into an instance state, as a failing VM would be (`error`) or one stopped from the console
   * (`stopped`); for tests of health replacement. Its process (if any) keeps running: only the API shows it.
   */
  setMemberState(instanceId: string, state: 'error' | 'stopped' | 'running'): void {
    const instance = this.instances.get(instanceId);
    if (!instance || instance.state === 'destroyed')
      throw new ZoneNotFoundError(`instance ${instanceId} not found`);
    instance.state = state;
  }

  /** Waits for every transition in flight; for tests and shutdown. */
  async settle(): Promise<void> {
    await Promise.all([...this.pending.values()]);
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    await this.settle().catch(() => undefined);
    await Promise.all(
      [...this.instances.values()]
        .filter((i) => i.state !== 'destroyed')
        .map((i) =>
          this.runtimeOf(i.poolId)
            .stop(i)
            .catch(() => undefined),
        ),
    );
  }

  private runtimeOf(poolId: string): MemberRuntime {
    return this.runtimes.get(poolId) ?? this.runtime;
  }

  private assertIdle(pool: EmulatedPool): void {
    if (pool.state !== 'running') {
      this.overlappingOperations++;
      throw new ZoneConflictError(`instance pool ${pool.id} is busy (${pool.state})`);
    }
  }

  private finishedOperation(referenceId: string, command: string): EmulatedOperation {
    const op: EmulatedOperation = { id: randomUUID(), state: 'success', referenceId, command };
    this.operations.set(op.id, op);
    return op;
  }

  private transition(
    pool: EmulatedPool,
    add: number,
    remove: EmulatedInstance[],
    command: string,
    bootDelayMs: number,
  ): EmulatedOperation {
    const op: EmulatedOperation = { id: randomUUID(), state: 'pending', referenceId: pool.id, command };
    this.operations.set(op.id, op);
    pool.state = add > 0 ? 'scaling-up' : 'scaling-down';
    if (this.timings.sizeShownWhenSettled) pool.shownSize = pool.instanceIds.length;
    const gate = this.gate;
    const work = gate
      .then(() =>
        Promise.all([
          ...Array.from({ length: add }, () => this.bootMember(pool, bootDelayMs)),
          ...remove.map((member) => this.removeMember(pool, member)),
        ]),
      )
      .then(
        () => {
          op.state = 'success';
        },
        (error: unknown) => {
          op.state = 'failure';
          op.reason = 'fault';
          op.message = error instanceof Error ? error.message : String(error);
        },
      );
    const done = work.finally(() => {
      pool.state = 'running';
      pool.shownSize = undefined;
      this.pending.delete(op.id);
    });
    this.pending.set(op.id, done);
    return op;
  }

  private async bootMember(pool: EmulatedPool, bootDelayMs: number): Promise<void> {
    const instance: EmulatedInstance = {
      id: randomUUID(),
      name: `${pool.instancePrefix}-${randomUUID().slice(0, 5)}-${randomUUID().slice(0, 5)}`,
      state: 'starting',
      publicIp: pool.virtual ? this.allocateVirtualIp() : this.allocateIp(),
      poolId: pool.id,
      createdAt: new Date().toISOString(),
      seq: this.nextSeq++,
    };
    this.instances.set(instance.id, instance);
    pool.instanceIds.push(instance.id);
    try {
      await Promise.all([this.runtimeOf(pool.id).start(instance), delay(bootDelayMs, this.stopping.signal)]);
    } catch (error) {
      instance.state = 'error';
      throw error;
    }
    if (instance.state === 'starting') instance.state = 'running';
  }

  private async removeMember(pool: EmulatedPool, member: EmulatedInstance): Promise<void> {
    member.state = 'stopping';
    await Promise.all([
      this.runtimeOf(pool.id).stop(member),
      delay(this.timings.stopDelayMs, this.stopping.signal),
    ]);
    member.state = 'destroyed';
    this.instances.delete(member.id);
    pool.instanceIds = pool.instanceIds.filter((id) => id !== member.id);
  }

  private allocateIp(): string {
    const used = new Set([...this.instances.values()].map((i) => i.publicIp));
    for (let tries = 0; tries < 254; tries++) {
      const host = this.nextHost;
      this.nextHost = (this.nextHost % 254) + 1;
      const ip = `127.0.1.${host}`;
      if (!used.has(ip)) return ip;
    }
    throw new Error('no free member address in 127.0.1.0/24');
  }

  /** A virtual member's address: 10.0.0.1 upwards (never bound, so never reused), skipping .0 and .255. */
  private allocateVirtualIp(): string {
    for (;;) {
      const n = this.nextVirtualHost++;
      if ((n & 255) === 0 || (n & 255) === 255) continue;
      return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    }
  }
}

function byNewestFirst(a: EmulatedInstance, b: EmulatedInstance): number {
  return b.seq - a.seq;
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
