import { Injectable, Logger } from '@nestjs/common';

import { ExoscaleApiError, ExoscaleClient, InstancePool } from '@app/exoscale-client';
import {
  decideScaling,
  Decision,
  Direction,
  DirectionSignals,
  Measurement,
  PolicyRequest,
  Reason,
} from '@app/scaling-policy';

import { Settings } from '../config/settings';
import { DiscoveryService } from '../discovery/discovery.service';
import { MetricsService } from '../metrics/metrics.service';
import { AlertSeen, DecisionEntry, DecisionLogService, EntryOutcome, Trigger } from './decision-log.service';
import { Mutex } from './mutex';
import { SignalStore } from './signal-store';
import { UtilisationReader } from './utilisation-reader';

export type ManualRequest = { direction: Direction } | { size: number };

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

function alertSeen(signals: DirectionSignals): AlertSeen | null {
  const a = signals.alert;
  return a
    ? {
        alerts: a.alerts,
        firingSince: iso(a.firingSince),
        value: a.value?.utilisation ?? null,
        valueAt: a.value ? iso(a.value.measuredAt) : null,
      }
    : null;
}

/**
 * Carries out scaling decisions. Tick and manual actions share one lock, so at most one scale call (and the wait
 * for its operation) is in flight at any time, and every decision sees the pool size the previous one left.
 */
@Injectable()
export class ScalingService {
  private readonly logger = new Logger(ScalingService.name);
  private readonly lock = new Mutex();
  private readonly shutdown = new AbortController();
  /** Unix seconds when our last successful scale call was made (the members' creation times cover a restart). */
  private lastScaledAt: number | null = null;
  nextTickAt: Date | null = null;

  constructor(
    private readonly settings: Settings,
    private readonly exoscale: ExoscaleClient,
    private readonly signals: SignalStore,
    private readonly log: DecisionLogService,
    private readonly metrics: MetricsService,
    private readonly discovery: DiscoveryService,
    private readonly utilisation: UtilisationReader,
  ) {}

  get bounds(): { min: number; max: number } {
    return { min: this.settings.POOL_MIN_SIZE, max: this.settings.POOL_MAX_SIZE };
  }

  /** Stops waiting for operations in flight (their outcome is logged as given up) and refuses new work. */
  abort(): void {
    this.shutdown.abort();
  }

  /** The periodic step: read the signals (and the utilisation), decide, apply at most one scale call. */
  tick(): Promise<DecisionEntry> {
    return this.lock.run(() => this.execute('tick', { kind: 'tick' }));
  }

  /** A manual step or absolute size; the caller has checked the size against the bounds. */
  manual(request: ManualRequest): Promise<DecisionEntry> {
    return this.lock.run(() =>
      this.execute(
        'manual',
        'size' in request
          ? { kind: 'size', size: request.size }
          : { kind: 'step', direction: request.direction },
      ),
    );
  }

  private async execute(trigger: Trigger, request: PolicyRequest): Promise<DecisionEntry> {
    const started = Date.now();
    const now = started / 1000;
    const steps = this.signals.snapshot();
    const signals = this.signals.signals(now);
    const base = {
      time: new Date(started).toISOString(),
      trigger,
      policy: this.settings.SCALING_POLICY,
      pending: { up: signals.up.pendingStep, down: signals.down.pendingStep },
      alerts: { up: alertSeen(signals.up), down: alertSeen(signals.down) },
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
        | 'pool'
        | 'decision'
        | 'direction'
        | 'targetSize'
        | 'code'
        | 'reasons'
        | 'boundApplied'
        | 'operation'
        | 'basis'
      >,
    ) => {
      this.metrics.scalingDecisions.inc({ trigger, outcome, reason: rest.code });
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
        code: 'PoolUnreadable',
        reasons: [
          { code: 'PoolUnreadable', text: `cannot read the pool: ${describe(error)}` },
          { code: 'PoolUnreadable', text: 'signals kept for the next tick' },
        ],
        boundApplied: null,
        operation: null,
        basis: null,
      });
    }
    this.metrics.poolSize.set({ kind: 'current' }, pool.size);

    const readingNotes: Reason[] = [];
    let measurement: Measurement | null = null;
    if (request.kind === 'tick' && this.settings.SCALING_POLICY === 'target') {
      const reading = await this.utilisation.read(now);
      if (reading && 'measurement' in reading) measurement = reading.measurement;
      else if (reading)
        readingNotes.push({
          code: 'NoValue',
          text: `${reading.unavailable}; using the notification's value`,
        });
    }

    const decision: Decision = decideScaling({
      now,
      request,
      pool: { size: pool.size, state: pool.state },
      members: this.discovery.status.members
        .filter((m) => pool.instanceIds.length === 0 || pool.instanceIds.includes(m.id))
        .map((m) => {
          const created = m.createdAt ? Date.parse(m.createdAt) / 1000 : NaN;
          return { createdAt: Number.isFinite(created) ? created : null };
        }),
      signals,
      measurement,
      lastScaledAt: this.lastScaledAt,
      settings: this.settings.policySettings,
    });
    const consume = () => {
      for (const direction of decision.consumes) this.signals.consume(direction, steps[direction]);
      this.updateSignalGauges();
    };
    const common = {
      pool: { size: pool.size, state: pool.state },
      decision: decision.outcome,
      direction: decision.direction,
      targetSize: decision.targetSize,
      boundApplied: decision.boundApplied,
      code: decision.code,
      basis: decision.basis,
    };
    const reasons = [...readingNotes, ...decision.reasons];
    if (decision.outcome !== 'scale') {
      if (decision.outcome === 'none') consume();
      return finish(decision.outcome, { ...common, reasons, operation: null });
    }
    if (this.settings.DRY_RUN) {
      consume();
      return finish('dry-run', {
        ...common,
        code: 'DryRun',
        reasons: [...reasons, { code: 'DryRun', text: 'DRY_RUN: the scale API was not called' }],
        operation: { id: null, outcome: 'skipped' },
      });
    }

    let operationId: string | null = null;
    // Members are created (or removed) when the call is applied, not when its operation is reported done.
    const calledAt = Date.now() / 1000;
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
        code: 'ApiError',
        reasons: [
          ...reasons,
          { code: 'ApiError', text: `scale call failed: ${describe(error)}` },
          { code: 'ApiError', text: 'signals kept for the next tick' },
        ],
        operation: { id: operationId, outcome: 'failure', error: describe(error) },
      });
    }
    this.lastScaledAt = calledAt;
    consume();
    this.metrics.poolSize.set({ kind: 'current' }, decision.targetSize);
    void this.discovery.refresh();
    return finish('scaled', { ...common, reasons, operation: { id: operationId, outcome: 'success' } });
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
