import { Injectable, Logger } from '@nestjs/common';

import { ExoscaleApiError, ExoscaleClient, InstancePool } from '@app/exoscale-client';

import { Settings } from '../config/settings';
import { DiscoveryService } from '../discovery/discovery.service';
import { MetricsService } from '../metrics/metrics.service';
import { DecisionEntry, DecisionLogService, EntryOutcome, Trigger } from './decision-log.service';
import { Mutex } from './mutex';
import { decideScaling, Decision, Direction, PolicyInput } from './scaling-policy';
import { SignalStore } from './signal-store';

export type ManualRequest = { direction: Direction } | { size: number };

/**
 * Carries out scaling decisions. Tick and manual actions share one lock, so at most one scale call (and the wait
 * for its operation) is in flight at any time, and every decision sees the pool size the previous one left.
 */
@Injectable()
export class ScalingService {
  private readonly logger = new Logger(ScalingService.name);
  private readonly lock = new Mutex();
  private readonly shutdown = new AbortController();
  /** When the last scale call succeeded (in memory: a restart starts without a cooldown). */
  private lastScaledAt: number | null = null;
  nextTickAt: Date | null = null;

  constructor(
    private readonly settings: Settings,
    private readonly exoscale: ExoscaleClient,
    private readonly signals: SignalStore,
    private readonly log: DecisionLogService,
    private readonly metrics: MetricsService,
    private readonly discovery: DiscoveryService,
  ) {}

  get bounds(): { min: number; max: number } {
    return { min: this.settings.POOL_MIN_SIZE, max: this.settings.POOL_MAX_SIZE };
  }

  /** Stops waiting for operations in flight (their outcome is logged as given up) and refuses new work. */
  abort(): void {
    this.shutdown.abort();
  }

  /** The periodic step: take the pending signal, decide, apply at most one scale call. */
  tick(): Promise<DecisionEntry> {
    return this.lock.run(async () => {
      const snapshot = this.signals.snapshot();
      return this.execute(
        'tick',
        { kind: 'signals', up: Boolean(snapshot.up), down: Boolean(snapshot.down) },
        (consumed) => {
          for (const direction of consumed) this.signals.consume(direction, snapshot[direction]);
        },
      );
    });
  }

  /** A manual step or absolute size; the caller has checked the size against the bounds. */
  manual(request: ManualRequest): Promise<DecisionEntry> {
    return this.lock.run(() =>
      this.execute(
        'manual',
        'size' in request
          ? { kind: 'size', size: request.size }
          : { kind: 'step', direction: request.direction },
        () => undefined,
      ),
    );
  }

  private async execute(
    trigger: Trigger,
    request: PolicyInput['request'],
    consume: (directions: Direction[]) => void,
  ): Promise<DecisionEntry> {
    const started = Date.now();
    const snapshot = this.signals.snapshot();
    const base = {
      time: new Date().toISOString(),
      trigger,
      pending: { up: Boolean(snapshot.up), down: Boolean(snapshot.down) },
      request:
        request.kind === 'size'
          ? { size: request.size }
          : request.kind === 'step'
            ? { direction: request.direction }
            : undefined,
      bounds: this.bounds,
    };
    const finish = (
      outcome: EntryOutcome,
      rest: Pick<
        DecisionEntry,
        'pool' | 'decision' | 'direction' | 'targetSize' | 'reasons' | 'boundApplied' | 'operation'
      >,
    ) => {
      this.metrics.scalingDecisions.inc({ trigger, outcome });
      return this.log.append({ ...base, ...rest, outcome, durationMs: Date.now() - started });
    };

    let pool: InstancePool;
    try {
      pool = await this.exoscale.getInstancePool(this.settings.EXOSCALE_INSTANCEPOOL_ID);
    } catch (error) {
      return finish('error', {
        pool: null,
        decision: 'error',
        direction: null,
        targetSize: null,
        reasons: [`cannot read the pool: ${describe(error)}`, 'signals kept for the next tick'],
        boundApplied: null,
        operation: null,
      });
    }
    this.metrics.poolSize.set({ kind: 'current' }, pool.size);

    const decision: Decision = decideScaling({
      request,
      pool: { size: pool.size, state: pool.state },
      bounds: this.bounds,
      cooldown: {
        secondsSinceLastChange: this.secondsSinceLastChange(),
        upSeconds: this.settings.SCALE_UP_COOLDOWN_SECONDS,
        downSeconds: this.settings.SCALE_DOWN_COOLDOWN_SECONDS,
      },
    });
    const common = {
      pool: { size: pool.size, state: pool.state },
      decision: decision.outcome,
      direction: decision.direction,
      targetSize: decision.targetSize,
      boundApplied: decision.boundApplied,
    };
    if (decision.outcome !== 'scale') {
      consume(decision.consumes);
      this.updateSignalGauges();
      return finish(decision.outcome, { ...common, reasons: decision.reasons, operation: null });
    }
    if (this.settings.DRY_RUN) {
      consume(decision.consumes);
      this.updateSignalGauges();
      return finish('dry-run', {
        ...common,
        reasons: [...decision.reasons, 'DRY_RUN: the scale API was not called'],
        operation: { id: null, outcome: 'skipped' },
      });
    }

    let operationId: string | null = null;
    try {
      this.metrics.poolSize.set({ kind: 'target' }, decision.targetSize);
      const operation = await this.exoscale.scaleInstancePool(pool.id, decision.targetSize);
      operationId = operation.id;
      await this.exoscale.waitForOperation(operation, {
        pollIntervalMs: 1000,
        timeoutMs: 15 * 60_000,
        signal: this.shutdown.signal,
      });
    } catch (error) {
      this.logger.warn({ msg: 'scale call failed; the signal is kept', error: describe(error) });
      return finish('error', {
        ...common,
        reasons: [
          ...decision.reasons,
          `scale call failed: ${describe(error)}`,
          'signals kept for the next tick',
        ],
        operation: { id: operationId, outcome: 'failure', error: describe(error) },
      });
    }
    this.lastScaledAt = Date.now();
    consume(decision.consumes);
    this.updateSignalGauges();
    this.metrics.poolSize.set({ kind: 'current' }, decision.targetSize);
    void this.discovery.refresh();
    return finish('scaled', {
      ...common,
      reasons: decision.reasons,
      operation: { id: operationId, outcome: 'success' },
    });
  }

  /**
   * Our own last step, or the creation of the newest member that discovery saw: the latter survives a restart of
   * the control plane, so a fresh process does not step again while members it (or anyone) added still boot.
   */
  private secondsSinceLastChange(): number | null {
    const created = this.discovery.status.members
      .map((m) => (m.createdAt ? Date.parse(m.createdAt) : NaN))
      .filter((t) => Number.isFinite(t));
    const last = Math.max(this.lastScaledAt ?? -Infinity, ...created);
    return Number.isFinite(last) ? Math.max(0, (Date.now() - last) / 1000) : null;
  }

  updateSignalGauges(): void {
    const snapshot = this.signals.snapshot();
    this.metrics.pendingSignals.set({ direction: 'up' }, snapshot.up ? 1 : 0);
    this.metrics.pendingSignals.set({ direction: 'down' }, snapshot.down ? 1 : 0);
  }
}

function describe(error: unknown): string {
  if (error instanceof ExoscaleApiError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
