import { BadRequestException, Injectable, Logger, NotFoundException } from '@nestjs/common';

import { ExoscaleClient } from '@app/exoscale-client';

import { FleetConfig } from '../config/fleet-config';
import { MetricsService } from '../metrics/metrics.service';
import { Versioned } from '@app/state-store';

import { HaRuntime, poolKey } from '../ha/ha';
import { PoolDiscovery } from './pool-discovery';
import { PoolScope } from './pool-scope';

/** API requests time out after this long (the settlement's grace in libs/scaling-policy counts on it). */
export const API_TIMEOUT_MS = 15_000;

/**
 * The managed pools, by name: one {@link PoolScope} each, and one API client per zone (a zone's endpoint is its
 * own: https://api-<zone>.exoscale.com/v2), each allowing API_CONCURRENCY_PER_ZONE requests in flight.
 */
@Injectable()
export class Fleet {
  private readonly logger = new Logger(Fleet.name);
  private readonly byName = new Map<string, PoolScope>();
  private readonly byId = new Map<string, PoolScope>();
  readonly clients = new Map<string, ExoscaleClient>();
  readonly source: FleetConfig['source'];

  constructor(
    private readonly config: FleetConfig,
    private readonly metrics: MetricsService,
    /** High availability (DATABASE_URL): the state store and the lease; null: the state file, one process. */
    readonly ha: HaRuntime | null = null,
    /** HA: every pool's stored document, by pool id, read at start. */
    documents: Map<string, Versioned<unknown> | null> = new Map(),
  ) {
    this.source = config.source;
    this.acting = ha === null;
    for (const pool of config.pools) this.add(pool, documents.get(pool.id.toLowerCase()) ?? null);
    this.discovery = config.discovery
      ? new PoolDiscovery(this, config as FleetConfig & { discovery: NonNullable<FleetConfig['discovery']> })
      : null;
  }

  /**
   * HA: set by LeadershipService while this replica's term is under way and it has taken over (waited out one lease
   * period, settled its predecessor's calls); with the state file, always.
   */
  acting = true;

  /** Whether a decision may be made here now, and why not. */
  mayAct(): { ok: true } | { ok: false; why: string } {
    if (!this.ha || this.acting) return { ok: true };
    const lease = this.ha.lease.state();
    return {
      ok: false,
      why:
        lease.role === 'leader'
          ? "this replica leads but is still taking over (one lease period, then the last leader's calls settled): retry in a few seconds"
          : `this replica does not lead: the leader is ${lease.holder ?? 'not known yet'} (ask it, or any replica's GET /leadership)`,
    };
  }

  /** Label discovery, when the pools file asks for it. */
  readonly discovery: PoolDiscovery | null;

  /** The zone's API client (one per zone, created on first use). */
  clientFor(zone: string, endpoint: string): ExoscaleClient {
    let client = this.clients.get(zone);
    if (client) return client;
    const { settings } = this.config;
    const metrics = this.metrics;
    // Labelled by zone in pools-file mode; the one-pool shorthand keeps its series as they were.
    const zoneLabel = this.config.source === 'file' ? { zone } : {};
    client = new ExoscaleClient({
      apiKey: settings.EXOSCALE_KEY,
      apiSecret: settings.EXOSCALE_SECRET,
      zone,
      endpoint,
      timeoutMs: API_TIMEOUT_MS,
      maxConcurrentRequests: settings.API_CONCURRENCY_PER_ZONE,
      // HA: the leader's calls carry its epoch, so a call log shows which term made each call.
      userAgent: () => {
        const lease = this.ha?.lease;
        const epoch = lease?.isLeader() ? lease.state().epoch : null;
        return epoch === null ? 'exoscale-autoscaler' : `exoscale-autoscaler epoch/${epoch}`;
      },
      logger: { warn: (line) => this.logger.warn({ msg: line, zone }) },
      onRequest: (event) => {
        metrics.apiRequests.inc({ ...zoneLabel, operation: event.operation, status: event.status });
        metrics.apiLatency.observe({ ...zoneLabel, operation: event.operation }, event.durationMs / 1000);
        const peak = this.clients.get(zone)?.concurrency.peak;
        if (peak !== undefined) metrics.apiInFlightPeak.set(zoneLabel, peak);
      },
    });
    this.clients.set(zone, client);
    return client;
  }

  /**
   * Starts managing a pool (at boot, or found by label discovery).
   * @param initial HA: the pool's document as stored (null: none yet); ignored with the state file
   */
  add(pool: FleetConfig['pools'][number], initial: Versioned<unknown> | null = null): PoolScope {
    const scope = new PoolScope(
      pool,
      this.clientFor(pool.zone, pool.settings.apiEndpoint),
      this.metrics,
      this.config.source === 'file',
      this.ha ? { store: this.ha.store, key: poolKey(pool.id), lease: this.ha.lease, initial } : undefined,
    );
    scope.scaling.mayAct = () => this.mayAct();
    const lease = this.ha?.lease;
    if (lease) scope.log.epoch = () => (lease.isLeader() ? lease.state().epoch : null);
    this.byName.set(pool.name, scope);
    this.byId.set(pool.id.toLowerCase(), scope);
    this.metrics.pools.set(this.byName.size);
    return scope;
  }

  /** Stops managing a pool (label discovery no longer finds it): its state stays on disk. */
  remove(scope: PoolScope): void {
    scope.scaling.abort();
    this.byName.delete(scope.name);
    this.byId.delete(scope.id.toLowerCase());
    this.metrics.pools.set(this.byName.size);
  }

  /** Every pool, in the configured order. */
  all(): PoolScope[] {
    return [...this.byName.values()];
  }

  get size(): number {
    return this.byName.size;
  }

  /** The pool whose state store key is `key` (HA: `pool:<id>`), or undefined. */
  byKey(key: string): PoolScope | undefined {
    return key.startsWith('pool:') ? this.byId.get(key.slice('pool:'.length)) : undefined;
  }

  /** The pool named `key` (its name, or its UUID), or undefined. */
  find(key: string): PoolScope | undefined {
    return this.byName.get(key) ?? this.byId.get(key.trim().toLowerCase());
  }

  /**
   * The pool a request names (by name or id), or the only pool when it names none.
   * @throws NotFoundException for a pool not managed here; BadRequestException when none is named among several
   */
  resolve(key: unknown): PoolScope {
    // A query parameter given twice (?pool=a&pool=b) or as an object (?pool[x]=a) reaches here as one.
    if (key !== undefined && typeof key !== 'string')
      throw new BadRequestException(['pool must be given once, as ?pool=NAME']);
    if (key !== undefined && key !== '') {
      const scope = this.find(key);
      if (!scope)
        throw new NotFoundException([`no managed pool is named ${JSON.stringify(key)} (${this.names()})`]);
      return scope;
    }
    if (this.byName.size === 1) return this.all()[0];
    if (this.byName.size === 0)
      throw new NotFoundException(['no pool is managed yet (label discovery found none)']);
    throw new BadRequestException([
      `several pools are managed (${this.names()}): name one with ?pool=NAME or /pools/NAME`,
    ]);
  }

  /** The first pool: what the one-pool aliases (/pool, bare /up) act on when only one is managed. */
  first(): PoolScope {
    return this.all()[0];
  }

  names(): string {
    const names = [...this.byName.keys()];
    return names.length <= 10
      ? names.join(', ')
      : `${names.slice(0, 10).join(', ')}, ... ${names.length} pools`;
  }

  /** Stops every pool's waits for operations in flight (shutdown). */
  abort(): void {
    for (const scope of this.all()) scope.scaling.abort();
  }
}
