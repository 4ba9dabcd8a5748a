import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';

import { Settings } from '../config/settings';
import { MetricsService } from '../metrics/metrics.service';
import { SAMPLE_SECONDS } from '../status/status-history.service';
import { Fleet } from './fleet.service';
import { PoolScope } from './pool-scope';

/**
 * Runs `work` for every item, at most `limit` at once, and resolves when all have finished (a failure of one is
 * reported through `onError` and never stops the others).
 */
export async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
  onError: (item: T, error: unknown) => void,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (error) {
        onError(item, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * The fleet's clocks: every SCALING_INTERVAL_SECONDS one tick over all pools, every DISCOVERY_INTERVAL_SECONDS one
 * discovery pass over all pools, zones in parallel and POOL_CONCURRENCY pools of a zone at a time. A round still running when the next is due is
 * not doubled: the due round is skipped and counted (`autoscaler_tick_overruns_total`), so ticks never pile up;
 * every pool keeps its own lock, so a manual action and a tick on one pool never overlap either.
 */
@Injectable()
export class FleetScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(FleetScheduler.name);
  private readonly timers: NodeJS.Timeout[] = [];
  private ticking = false;
  private tickTimer: NodeJS.Timeout | null = null;
  private discovering = false;
  /** How long the last complete tick over every pool took, in ms (the status overview, the bench). */
  lastTickMs: number | null = null;

  constructor(
    private readonly settings: Settings,
    private readonly fleet: Fleet,
    private readonly metrics: MetricsService,
  ) {}

  onApplicationBootstrap(): void {
    this.metrics.pools.set(this.fleet.size);
    for (const scope of this.fleet.all()) scope.history.sample();
    // With a state store only the leader ticks: LeadershipService starts the ticks when its term begins.
    if (!this.fleet.ha) {
      for (const scope of this.fleet.all())
        if (scope.scaling.unsettled)
          scope.scaling
            .settleAtStart()
            .catch((error: unknown) =>
              this.logger.error({ msg: 'settling at start failed', pool: scope.name, error: String(error) }),
            );
      this.startTicking();
    }
    void this.discover();
    this.every(this.settings.DISCOVERY_INTERVAL_SECONDS * 1000, () => void this.discover());
    const labels = this.fleet.discovery;
    if (labels) this.every(labels.intervalSeconds * 1000, () => void labels.refresh());
    this.every(SAMPLE_SECONDS * 1000, () => {
      for (const scope of this.fleet.all()) scope.history.sample();
    });
  }

  onApplicationShutdown(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.stopTicking();
    this.fleet.abort();
  }

  /** Starts the periodic ticks (at boot; with a state store, when this replica's term as leader begins). */
  startTicking(): void {
    if (this.tickTimer) return;
    const periodMs = this.settings.SCALING_INTERVAL_SECONDS * 1000;
    this.setNextTick(periodMs);
    this.tickTimer = setInterval(() => {
      this.setNextTick(periodMs);
      void this.tick();
    }, periodMs);
    this.tickTimer.unref?.();
  }

  /** Stops the periodic ticks (shutdown; the end of a term). */
  stopTicking(): void {
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.tickTimer = null;
    for (const scope of this.fleet.all()) scope.scaling.nextTickAt = null;
  }

  /** One tick over every pool; resolves when all are done. A tick still running makes this one a no-op. */
  async tick(): Promise<void> {
    if (this.ticking) {
      this.metrics.tickOverruns.inc();
      this.logger.warn({
        msg: 'the previous tick is still running: this one is skipped (raise POOL_CONCURRENCY or the interval)',
        pools: this.fleet.size,
      });
      return;
    }
    this.ticking = true;
    const started = Date.now();
    try {
      await this.forEachPool((scope) => scope.scaling.tick(), 'scaling tick failed');
      this.lastTickMs = Date.now() - started;
      this.metrics.tickDuration.observe(this.lastTickMs / 1000);
    } finally {
      this.ticking = false;
    }
  }

  /** One discovery pass over every pool (a pass still running makes this one a no-op). */
  async discover(): Promise<void> {
    if (this.discovering) return;
    this.discovering = true;
    try {
      await this.forEachPool((scope) => scope.discover(), 'discovery failed');
    } finally {
      this.discovering = false;
    }
  }

  /**
   * Every pool, zone by zone in parallel and POOL_CONCURRENCY pools at a time within a zone: a slow or unreachable
   * zone's API holds back only that zone's pools.
   */
  private async forEachPool(work: (scope: PoolScope) => Promise<unknown>, failure: string): Promise<void> {
    const zones = new Map<string, PoolScope[]>();
    for (const scope of this.fleet.all()) {
      const list = zones.get(scope.zone);
      if (list) list.push(scope);
      else zones.set(scope.zone, [scope]);
    }
    await Promise.all(
      [...zones.values()].map((scopes) =>
        forEachBounded(
          scopes,
          this.settings.POOL_CONCURRENCY,
          async (scope) => void (await work(scope)),
          (scope, error) => this.logger.error({ msg: failure, pool: scope.name, error: String(error) }),
        ),
      ),
    );
  }

  private setNextTick(periodMs: number): void {
    const at = new Date(Date.now() + periodMs);
    for (const scope of this.fleet.all()) scope.scaling.nextTickAt = at;
  }

  private every(ms: number, run: () => void): void {
    const timer = setInterval(run, ms);
    timer.unref?.();
    this.timers.push(timer);
  }
}
