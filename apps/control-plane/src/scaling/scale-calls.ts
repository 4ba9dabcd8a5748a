import { Injectable, Logger } from '@nestjs/common';

import { ExoscaleClient, InstancePool } from '@app/exoscale-client';
import { Direction, Reason, ReasonCode, settleScaleCall, Settlement } from '@app/scaling-policy';

import { Settings } from '../config/settings';
import { DiscoveryService } from '../discovery/discovery.service';
import { MetricsService } from '../metrics/metrics.service';
import { DecisionEntry, DecisionLogService, EntryOutcome } from './decision-log.service';
import { failpoint } from './failpoints';
import { ScaleExecutor } from './scale-executor';
import { ReplacementState, ScaleRecord } from './scale-record';
import { SignalStore } from './signal-store';
import { StateFile } from './state-file.service';

/** How long an unknown outcome is watched (the pool read every second) before the next tick takes it over. */
const SETTLE_WATCH_MS = 60_000;

/**
 * Scale and evict calls with their write-ahead record, and what is saved about them: a call is recorded before it
 * is made, settled by its answer or against the pool, and its decision's log entry updated in place. The scaling
 * service calls it under its lock; this class holds no lock of its own.
 */
@Injectable()
export class ScaleCalls {
  private readonly logger = new Logger(ScaleCalls.name);
  private readonly shutdown = new AbortController();
  /** Unix seconds when our last successful scale call was made (the members' creation times cover a restart). */
  lastScaledAt: number | null = null;
  /** The write-ahead record of a call not settled yet: every decision settles it before anything else. */
  record: ScaleRecord | null = null;
  /** A member's replacement in progress (see replacement.ts). */
  replacement: ReplacementState | null = null;
  /** The pool as last read (or as last scaled), for the status page. */
  lastPool: { size: number; state: string; at: number } | null = null;

  constructor(
    private readonly settings: Settings,
    private readonly exoscale: ExoscaleClient,
    private readonly signals: SignalStore,
    private readonly log: DecisionLogService,
    private readonly metrics: MetricsService,
    private readonly discovery: DiscoveryService,
    private readonly state: StateFile,
    private readonly executor: ScaleExecutor,
  ) {
    // What a previous run of the control plane remembered (STATE_DIR); a record left there is settled first.
    this.lastScaledAt = state.restored.lastScaledAt;
    // Any request of a call the previous process made was sent before this one started.
    const restored = state.restored.record;
    this.record = restored
      ? { ...restored, sentUntil: Math.max(restored.sentUntil ?? 0, Date.now() / 1000) }
      : null;
    this.replacement = state.restored.replacement ?? null;
  }

  /** Stops waiting for operations in flight; their records settle them later. */
  abort(): void {
    this.shutdown.abort();
  }

  /** Shutdown, or (high availability) the end of this replica's term: either stops every wait at once. */
  private abortSignal(): AbortSignal {
    const term = this.state.termSignal;
    return term ? AbortSignal.any([this.shutdown.signal, term]) : this.shutdown.signal;
  }

  /** Takes the scaling memory the state file holds now (after it reloaded the stored state). */
  reload(): void {
    this.lastScaledAt = this.state.restored.lastScaledAt;
    this.record = this.state.restored.record;
    this.replacement = this.state.restored.replacement ?? null;
  }

  /**
   * One scale or evict call with its write-ahead record: saved before the call (no record, no call), settled by
   * the answer, or against the pool when the answer says nothing. Updates `entry` with the outcome.
   */
  async call(
    entry: DecisionEntry,
    call: Omit<ScaleRecord, 'entryId' | 'calledAt' | 'operationId'>,
  ): Promise<'applied' | 'not-applied' | 'unknown'> {
    const started = Date.now();
    this.record = { ...call, entryId: entry.id, calledAt: Date.now() / 1000, operationId: null };
    const limits = callLimits(this.settings);
    if (!(await this.save(limits ? { fenceSeconds: limits.fenceSeconds } : {}))) {
      this.record = null;
      if (this.state.fenced) {
        this.metrics.fencedCalls.inc(this.settings.poolLabels);
        this.settleEntry(
          entry,
          'error',
          [
            {
              code: 'Fenced',
              text: `the call was not made: ${this.state.status.lastError}; signals kept for the leader`,
            },
          ],
          entry.operation,
          'Fenced',
        );
        return 'not-applied';
      }
      this.settleEntry(entry, 'error', [
        {
          code: 'StateUnwritable',
          text: `the call was not made: its write-ahead record cannot be saved (${this.state.status.lastError}); signals kept`,
        },
      ]);
      return 'not-applied';
    }
    failpoint(this.settings.FAILPOINTS, 'after-intent-saved');
    this.metrics.poolSize.set({ ...this.settings.poolLabels, kind: 'target' }, call.to);

    const record = this.record;
    const result = await this.executor.run(
      this.settings.EXOSCALE_INSTANCEPOOL_ID,
      call.kind === 'evict' ? { kind: 'evict', ids: call.ids ?? [] } : { kind: 'scale', to: call.to },
      async (operation) => {
        record.operationId = operation.id;
        await this.save();
      },
      this.abortSignal(),
      limits ? { timeoutMs: limits.callTimeoutMs, maxAttempts: 1 } : {},
    );
    if (result.kind === 'applied') {
      this.applied(record);
      this.lastPool = { size: record.to, state: 'running', at: Date.now() / 1000 };
      this.metrics.poolSize.set({ ...this.settings.poolLabels, kind: 'current' }, record.to);
      this.settleEntry(entry, 'scaled', [], { id: result.operationId, outcome: 'success' });
      return 'applied';
    }
    if (result.kind === 'refused') {
      this.record = null;
      this.logger.warn({ msg: `${call.kind} call refused; the signal is kept`, error: result.error });
      this.settleEntry(
        entry,
        'error',
        [...result.reasons, { code: 'NotApplied', text: 'refused by the API: not applied; signals kept' }],
        { id: null, outcome: 'failure', error: result.error },
        'ApiError',
      );
      return 'not-applied';
    }

    // Unknown outcome (lost answer, timeout, 5xx, 409, a failed or unreadable operation): watch the pool until it
    // runs, then settle; a pool still moving leaves the record for the next tick.
    this.logger.warn({
      msg: `${call.kind} call outcome unknown; settling against the pool`,
      error: result.error,
    });
    const operation = { id: result.operationId, outcome: 'unknown' as const, error: result.error };
    record.sentUntil = Date.now() / 1000;
    await this.save();
    this.log.update(entry.id, { reasons: [...entry.reasons, ...result.reasons], operation });
    const settled = await this.settleWhenRunning();
    if (!settled || settled.outcome === 'unknown') {
      this.log.update(entry.id, {
        reasons: [
          ...entry.reasons,
          {
            code: 'Settling',
            text:
              settled?.text ?? 'the pool cannot be read: the next tick settles the call before anything else',
          },
        ],
        operation,
        durationMs: Date.now() - started,
      });
      return 'unknown';
    }
    return settled.outcome;
  }

  /** Reads the pool every second until it runs (bounded, and cut short by shutdown), then settles the record. */
  async settleWhenRunning(): Promise<Settlement | null> {
    const deadline = Date.now() + SETTLE_WATCH_MS;
    for (;;) {
      let pool: InstancePool;
      try {
        pool = await this.exoscale.getInstancePool(this.settings.EXOSCALE_INSTANCEPOOL_ID);
      } catch {
        return null;
      }
      this.observePool(pool, Date.now() / 1000);
      const settled = this.settle(pool, Date.now() / 1000);
      if (settled.outcome !== 'unknown' || this.abortSignal().aborted || Date.now() > deadline) {
        await this.save();
        return settled;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  /**
   * Settles the write-ahead record against the pool as read now: applied (its signals are used up once) or not
   * applied (they are kept) ends the record and updates its decision's log entry; unknown keeps it.
   */
  settle(pool: InstancePool, now: number): Settlement {
    const record = this.record!;
    const settled = settleScaleCall(record, pool, now);
    if (settled.outcome === 'unknown') return settled;
    if (settled.outcome === 'applied') this.applied(record);
    else this.record = null;
    const entry = record.entryId !== null ? this.log.get(record.entryId) : undefined;
    if (entry)
      this.settleEntry(
        entry,
        settled.outcome === 'applied' ? 'scaled' : 'error',
        [{ code: settled.code, text: settled.text }],
        { id: record.operationId, outcome: settled.outcome === 'applied' ? 'success' : 'failure' },
        settled.code,
      );
    this.logger.log({
      msg: 'scale call settled',
      outcome: settled.outcome,
      from: record.from,
      to: record.to,
    });
    return settled;
  }

  /** Completes a pending entry with its outcome (counted in the metrics now). */
  private settleEntry(
    entry: DecisionEntry,
    outcome: EntryOutcome,
    reasons: Reason[],
    operation: DecisionEntry['operation'] = entry.operation,
    code?: ReasonCode,
  ): DecisionEntry {
    const updated =
      this.log.update(entry.id, {
        outcome,
        code: code ?? (reasons.some((r) => r.code === 'Reconciled') ? 'Reconciled' : entry.code),
        reasons: [...entry.reasons, ...reasons],
        operation,
        settledAt: new Date().toISOString(),
      }) ?? entry;
    this.metrics.scalingDecisions.inc({
      ...this.settings.poolLabels,
      trigger: updated.trigger,
      outcome,
      reason: updated.code,
    });
    return updated;
  }

  /** A call that was applied: its signals are used up (once) and the warm-up clock starts at the call. */
  private applied(record: ScaleRecord): void {
    this.record = null;
    this.lastScaledAt = record.calledAt;
    this.consume(record.consumes, record.steps);
    void this.discovery.refresh();
  }

  consume(consumes: Direction[], steps: ScaleRecord['steps']): void {
    for (const direction of consumes) this.signals.consume(direction, steps[direction]);
    this.updateSignalGauges();
  }

  observePool(pool: InstancePool, now: number): void {
    this.metrics.poolSize.set({ ...this.settings.poolLabels, kind: 'current' }, pool.size);
    this.lastPool = { size: pool.size, state: pool.state, at: now };
  }

  /** Saves what must survive a restart (the last scale, the write-ahead record, a replacement in progress). */
  save(options: { fenceSeconds?: number } = {}): Promise<boolean> {
    return this.state.save(
      {
        lastScaledAt: this.lastScaledAt,
        record: this.record,
        replacement: this.replacement,
      },
      options,
    );
  }

  /** The pending-signal gauges, after a change of the signals. */
  updateSignalGauges(): void {
    const snapshot = this.signals.snapshot();
    this.metrics.pendingSignals.set({ ...this.settings.poolLabels, direction: 'up' }, snapshot.up ? 1 : 0);
    this.metrics.pendingSignals.set(
      { ...this.settings.poolLabels, direction: 'down' },
      snapshot.down ? 1 : 0,
    );
  }
}

/**
 * High availability: a scale (or evict) call is sent once (no retry) with a timeout that ends before the lease it
 * was fenced under can expire: the fence requires more than `fenceSeconds` left, a renew every retry period keeps at
 * least duration - retry period, and the call is over within `callTimeoutMs`. Null without DATABASE_URL.
 */
export function callLimits(settings: Settings): { callTimeoutMs: number; fenceSeconds: number } | null {
  if (!settings.DATABASE_URL) return null;
  const callTimeoutSeconds = Math.max(
    1,
    Math.min(15, settings.LEASE_DURATION_SECONDS - 2 * settings.LEASE_RETRY_PERIOD_SECONDS - 1),
  );
  return { callTimeoutMs: callTimeoutSeconds * 1000, fenceSeconds: callTimeoutSeconds + 1 };
}
