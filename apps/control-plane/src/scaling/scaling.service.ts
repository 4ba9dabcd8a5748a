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
import { ScalingMemory, StateFile } from './state-file.service';
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
  /** A scale call whose outcome could not be learnt: the next decision checks the pool before anything else. */
  private unverified: ScalingMemory['unverified'] = null;
  nextTickAt: Date | null = null;
  /** The pool as last read (or as last scaled), for the status page. */
  lastPool: { size: number; state: string; at: number } | null = null;
  /** The utilisation the last decision saw (read fresh, or carried by an alert), for the status page. */
  lastUtilisation: { value: number; at: number } | null = null;
  /** When the last tick finished (whatever its outcome), for the health check. */
  lastTickAt: Date | null = null;
  private readonly startedAt = Date.now();

  constructor(
    private readonly settings: Settings,
    private readonly exoscale: ExoscaleClient,
    private readonly signals: SignalStore,
    private readonly log: DecisionLogService,
    private readonly metrics: MetricsService,
    private readonly discovery: DiscoveryService,
    private readonly utilisation: UtilisationReader,
    private readonly state: StateFile,
  ) {
    // What a previous run of the control plane remembered (STATE_DIR).
    this.lastScaledAt = state.restored.lastScaledAt;
    this.unverified = state.restored.unverified;
  }

  /** Runs one decision under the lock, then saves the state before answering (a crash loses nothing decided). */
  private decide(trigger: Trigger, request: PolicyRequest): Promise<DecisionEntry> {
    return this.lock.run(async () => {
      const entry = await this.execute(trigger, request);
      await this.state.save({ lastScaledAt: this.lastScaledAt, unverified: this.unverified });
      return entry;
    });
  }

  get bounds(): { min: number; max: number } {
    return { min: this.settings.POOL_MIN_SIZE, max: this.settings.POOL_MAX_SIZE };
  }

  /** Stops waiting for operations in flight (their outcome is logged as given up) and refuses new work. */
  abort(): void {
    this.shutdown.abort();
  }

  /** The periodic step: read the signals (and the utilisation), decide, apply at most one scale call. */
  async tick(): Promise<DecisionEntry> {
    try {
      return await this.decide('tick', { kind: 'tick' });
    } finally {
      this.lastTickAt = new Date();
    }
  }

  /** Whether ticks keep coming: the last one (or the start) within two periods and a minute. */
  tickAlive(now = Date.now()): boolean {
    const last = this.lastTickAt?.getTime() ?? this.startedAt;
    return now - last <= 2 * this.settings.SCALING_INTERVAL_SECONDS * 1000 + 60_000;
  }

  /** A manual step or absolute size; the caller has checked the size against the bounds. */
  manual(request: ManualRequest): Promise<DecisionEntry> {
    return this.decide(
      'manual',
      'size' in request
        ? { kind: 'size', size: request.size }
        : { kind: 'step', direction: request.direction },
    );
  }

  private async execute(trigger: Trigger, request: PolicyRequest): Promise<DecisionEntry> {
    const started = Date.now();
    const now = started / 1000;
    const describeInputs = (signals: { up: DirectionSignals; down: DirectionSignals }) => ({
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
    });
    let steps = this.signals.snapshot();
    let signals = this.signals.signals(now);
    let base = describeInputs(signals);
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
    this.lastPool = { size: pool.size, state: pool.state, at: now };

    const readingNotes: Reason[] = [];
    if (this.unverified) {
      const u = this.unverified;
      this.unverified = null;
      if (pool.size === u.target && u.target !== u.from) {
        this.recordApplied(u.calledAt, u.consumes, u.steps);
        readingNotes.push({
          code: 'Reconciled',
          text: `the previous scale call (${u.from} -> ${u.target}) had an unknown outcome; the pool is at ${u.target}: it was applied, recorded once`,
        });
      }
    }
    steps = this.signals.snapshot();
    signals = this.signals.signals(now);
    base = describeInputs(signals);
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

    const seen = measurement ?? signals.up.alert?.value ?? signals.down.alert?.value ?? null;
    if (seen) this.lastUtilisation = { value: seen.utilisation, at: seen.measuredAt };

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
    const finalSteps = steps;
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

    // Members are created (or removed) when the call is applied, not when its operation is reported done.
    const calledAt = Date.now() / 1000;
    this.metrics.poolSize.set({ kind: 'target' }, decision.targetSize);
    const result = await this.applyScale(pool.id, pool.size, decision.targetSize);
    if (!result.applied) {
      if (result.unknown)
        this.unverified = {
          target: decision.targetSize,
          from: pool.size,
          calledAt,
          consumes: decision.consumes,
          steps: finalSteps,
        };
      this.logger.warn({ msg: 'scale call failed; the signal is kept', error: result.error });
      return finish('error', {
        ...common,
        code: 'ApiError',
        reasons: [...reasons, ...result.reasons],
        operation: { id: result.operationId, outcome: 'failure', error: result.error },
      });
    }
    this.recordApplied(calledAt, decision.consumes, finalSteps);
    this.metrics.poolSize.set({ kind: 'current' }, decision.targetSize);
    this.lastPool = { size: decision.targetSize, state: 'running', at: Date.now() / 1000 };
    return finish('scaled', {
      ...common,
      code: result.reasons.length > 0 ? 'Reconciled' : common.code,
      reasons: [...reasons, ...result.reasons],
      operation: {
        id: result.operationId,
        outcome: 'success',
        ...(result.error ? { error: result.error } : {}),
      },
    });
  }

  /** A step that was applied: its signals are used up and the warm-up clock starts at the call. */
  private recordApplied(
    calledAt: number,
    consumes: Direction[],
    steps: { up?: { generation: number }; down?: { generation: number } },
  ): void {
    this.lastScaledAt = calledAt;
    for (const direction of consumes) this.signals.consume(direction, steps[direction]);
    this.updateSignalGauges();
    void this.discovery.refresh();
  }

  /**
   * One scale call and the wait for its outcome. Exactly one step per decision whatever the API answers: after a
   * failure whose outcome is unknown (timeout, lost answer, 5xx, 409 busy, a failed or unobservable operation) the
   * pool is read again, and a pool at the target size counts as applied. Only a call the API refused outright
   * (4xx but 408/409/429) is provably not applied.
   */
  private async applyScale(
    poolId: string,
    from: number,
    target: number,
  ): Promise<
    | { applied: true; operationId: string | null; reasons: Reason[]; error?: string }
    | { applied: false; unknown: boolean; operationId: string | null; reasons: Reason[]; error: string }
  > {
    let operationId: string | null = null;
    let failure: unknown;
    try {
      const operation = await this.exoscale.scaleInstancePool(poolId, target);
      operationId = operation.id;
      try {
        await this.exoscale.waitForOperation(operation, {
          pollIntervalMs: 1000,
          timeoutMs: 15 * 60_000,
          signal: this.shutdown.signal,
        });
        return { applied: true, operationId, reasons: [] };
      } catch (error) {
        if (!(
          error instanceof ExoscaleApiError &&
          error.operation === 'get-operation' &&
          error.status === 403
        ))
          throw error;
        // The key may not be allowed to read operations (its class is unconfirmed): watch the pool instead.
        await this.waitForPool(poolId, target);
        return {
          applied: true,
          operationId,
          error: describe(error),
          reasons: [
            {
              code: 'Reconciled',
              text: `reading the operation was refused (${describe(error)}): the pool's own state showed it reach ${target}`,
            },
          ],
        };
      }
    } catch (error) {
      failure = error;
    }
    const error = describe(failure);
    const refused =
      failure instanceof ExoscaleApiError &&
      failure.operation === 'scale-instance-pool' &&
      failure.status !== null &&
      failure.status >= 400 &&
      failure.status < 500 &&
      ![408, 409, 429].includes(failure.status);
    const kept: Reason[] = [
      { code: 'ApiError', text: `scale call failed: ${error}` },
      { code: 'ApiError', text: 'signals kept for the next tick' },
    ];
    if (refused) return { applied: false, unknown: false, operationId, reasons: kept, error };
    let now: InstancePool;
    try {
      now = await this.exoscale.getInstancePool(poolId);
    } catch (readError) {
      return {
        applied: false,
        unknown: true,
        operationId,
        error,
        reasons: [
          ...kept,
          {
            code: 'ApiError',
            text: `the outcome is unknown (${describe(readError)}): the next tick checks the pool first`,
          },
        ],
      };
    }
    if (now.size === target) {
      return {
        applied: true,
        operationId,
        error,
        reasons: [
          {
            code: 'Reconciled',
            text: `the scale call failed (${error}), but the pool is at ${target} (${now.state}): the step was applied, recorded once`,
          },
        ],
      };
    }
    return {
      applied: false,
      unknown: false,
      operationId,
      error,
      reasons: [
        ...kept,
        { code: 'ApiError', text: `the pool is still at ${now.size} (not ${target}): not applied` },
      ],
    };
  }

  /** Polls the pool until it runs at the target size (the fallback when operations cannot be read). */
  private async waitForPool(poolId: string, target: number): Promise<void> {
    const deadline = Date.now() + 15 * 60_000;
    for (;;) {
      const pool = await this.exoscale.getInstancePool(poolId);
      if (pool.size === target && pool.state === 'running') return;
      if (pool.size !== target && pool.state === 'running')
        throw new Error(`the pool is running at ${pool.size}, not ${target}`);
      if (this.shutdown.signal.aborted || Date.now() > deadline)
        throw new Error(`the pool did not reach ${target} (state ${pool.state})`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
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
