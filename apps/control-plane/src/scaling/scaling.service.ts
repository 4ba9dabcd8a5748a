import { Injectable, Logger } from '@nestjs/common';

import { ExoscaleApiError, ExoscaleClient, InstancePool } from '@app/exoscale-client';
import {
  applyForecast,
  decideScaling,
  Decision,
  Direction,
  DirectionSignals,
  Measurement,
  PolicyRequest,
  Reason,
  ScheduledBounds,
} from '@app/scaling-policy';

import { Settings } from '../config/settings';
import { DiscoveryService } from '../discovery/discovery.service';
import { MemberHealthService } from '../discovery/member-health.service';
import { MetricsService } from '../metrics/metrics.service';
import { AlertSeen, DecisionEntry, DecisionLogService, EntryOutcome, Trigger } from './decision-log.service';
import { Mutex } from './mutex';
import { ScaleCalls } from './scale-calls';
import { describeError } from './scale-executor';
import { ForecastReader } from './forecast-reader';
import { PoolLimits } from './pool-limits';
import { ReplacementRunner } from './replacement';
import { ReplacementState, ScaleRecord } from './scale-record';
import { SignalStore } from './signal-store';
import { UtilisationReader } from './utilisation-reader';

export type ManualRequest = { direction: Direction } | { size: number };

/** How far back the readings passed to the policy as `history` go (it needs at least 240 s). */
const READING_HISTORY_SECONDS = 600;

type EntryBody = Pick<
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
>;
const NO_DECISION: Omit<EntryBody, 'decision' | 'code' | 'reasons'> = {
  pool: null,
  direction: null,
  targetSize: null,
  boundApplied: null,
  operation: null,
  basis: null,
};
const pick = (step: { generation: number } | undefined) =>
  step ? { generation: step.generation } : undefined;

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
  /** Recent Prometheus readings of the ticks (bounded to READING_HISTORY_SECONDS), for the policy's `history`. */
  private readonly readings: Measurement[] = [];
  nextTickAt: Date | null = null;
  /** The utilisation the last decision saw (read fresh, or carried by an alert), for the status page. */
  lastUtilisation: { value: number; at: number } | null = null;
  /** Set when the API answered 404 for the pool (a wrong id or zone), cleared by the next read: the health check. */
  poolMissing: string | null = null;
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
    private readonly health: MemberHealthService,
    private readonly calls: ScaleCalls,
    private readonly forecast: ForecastReader,
  ) {
    this.limits = new PoolLimits(settings, exoscale, health, discovery);
  }

  private readonly limits: PoolLimits;

  /** The pool as last read (or as last scaled), for the status page. */
  get lastPool(): ScaleCalls['lastPool'] {
    return this.calls.lastPool;
  }

  /** The last forecast (predictive pre-scaling), for the status page; null with FORECAST_MODE=off. */
  get lastForecast(): ForecastReader['last'] {
    return this.forecast.last;
  }

  /** A member's replacement in progress, if any. */
  get replacement(): ReplacementState | null {
    return this.calls.replacement;
  }

  /** The bounds in force now (see PoolLimits.effectiveBounds). */
  effectiveBounds(
    pool?: Pick<InstancePool, 'antiAffinityGroupIds'>,
    now = Date.now() / 1000,
  ): { min: number; max: number } {
    return this.limits.effectiveBounds(pool, now);
  }

  /** The SCHEDULES windows active at `now` and the bounds they put in force. */
  schedule(now = Date.now() / 1000): ScheduledBounds {
    return this.limits.schedule(now);
  }

  /** The configured bounds (POOL_MIN_SIZE, POOL_MAX_SIZE, or the pool's min and max). */
  get bounds(): { min: number; max: number } {
    return this.limits.bounds;
  }

  /** Runs `work` under this pool's lock (no tick, manual action or other state change at the same time). */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.lock.run(work);
  }

  /** Runs one decision under the lock, then saves the state before answering (a crash loses nothing decided). */
  private decide(trigger: Trigger, request: PolicyRequest): Promise<DecisionEntry> {
    return this.lock.run(async () => {
      const entry = await this.execute(trigger, request);
      await this.calls.save();
      return entry;
    });
  }

  /**
   * At start: a scale call left unsettled by the previous process is settled against the pool at once (a pool
   * still moving, or unreadable, is left to the ticks).
   */
  settleAtStart(): Promise<void> {
    return this.lock.run(async () => {
      if (!this.calls.record) return;
      let pool: InstancePool;
      try {
        pool = await this.exoscale.getInstancePool(this.settings.EXOSCALE_INSTANCEPOOL_ID);
      } catch {
        return;
      }
      this.calls.observePool(pool, Date.now() / 1000);
      this.calls.settle(pool, Date.now() / 1000);
      await this.calls.save();
    });
  }

  /** The scale call whose outcome is being settled, if any (for the status API). */
  get unsettled(): ScaleRecord | null {
    return this.calls.record;
  }

  /** Stops waiting for operations in flight (their outcome is logged as given up) and refuses new work. */
  abort(): void {
    this.calls.abort();
  }

  /**
   * The periodic step: read the signals (and the utilisation), decide, apply at most one scale call; then, under
   * the same lock, one step of the replacement of unhealthy members.
   */
  async tick(): Promise<DecisionEntry> {
    try {
      return await this.lock.run(async () => {
        const entry = await this.execute('tick', { kind: 'tick' });
        try {
          await this.replacer.step(Date.now() / 1000, entry.decision === 'scale');
        } catch (error) {
          this.logger.warn({
            msg: 'replacement step failed; retried at the next tick',
            error: describeError(error),
          });
        }
        await this.calls.save();
        return this.log.get(entry.id) ?? entry;
      });
    } finally {
      this.lastTickAt = new Date();
    }
  }

  private readonly replacer = new ReplacementRunner({
    readPool: () => this.exoscale.getInstancePool(this.settings.EXOSCALE_INSTANCEPOOL_ID),
    judgements: () => this.health.judgements(),
    lbKnown: () => this.health.lbKnown,
    saturated: () => {
      const u = this.lastUtilisation;
      const fresh = u !== null && Date.now() / 1000 - u.at <= 2 * this.settings.SCALING_INTERVAL_SECONDS + 60;
      return fresh && u.value >= this.settings.policySettings.saturationThreshold;
    },
    max: (pool) => this.effectiveBounds(pool).max,
    settings: () => this.settings.healthSettings,
    get: () => this.calls.replacement,
    set: (state) => (this.calls.replacement = state),
    save: () => this.calls.save(),
    busy: () => this.calls.record !== null,
    append: (body) => this.appendHealthEntry(body),
    note: (id, reasons, outcome) => {
      const entry = id === null ? undefined : this.log.get(id);
      if (entry)
        this.log.update(entry.id, {
          reasons: [...entry.reasons, ...reasons],
          ...(outcome ? { outcome, settledAt: new Date().toISOString() } : {}),
        });
    },
    entry: (id, memberId) => (id !== null ? this.log.get(id) : undefined) ?? this.replacementEntry(memberId),
    call: (entry, call) => this.calls.call(this.log.get(entry.id) ?? entry, call),
  });

  /** A health decision's log entry (replacement or guard): no signal, alert or utilisation is part of it. */
  private appendHealthEntry(
    body: Pick<DecisionEntry, 'pool' | 'decision' | 'code' | 'reasons' | 'targetSize' | 'outcome'>,
  ): DecisionEntry {
    return this.log.append({
      time: new Date().toISOString(),
      trigger: 'tick',
      policy: this.settings.SCALING_POLICY,
      pending: { up: false, down: false },
      alerts: { up: null, down: null },
      basis: null,
      bounds: this.bounds,
      boundApplied: null,
      direction: null,
      operation: null,
      durationMs: 0,
      ...body,
    });
  }

  private replacementEntry(memberId: string): DecisionEntry {
    return this.appendHealthEntry({
      pool: this.lastPool ? { size: this.lastPool.size, state: this.lastPool.state } : null,
      decision: 'scale',
      outcome: 'pending',
      code: 'Replace',
      targetSize: this.lastPool?.size ?? null,
      reasons: [{ code: 'Replacing', text: `the replacement of ${memberId} goes on` }],
    });
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

  /**
   * High availability: whether this replica may decide now (it leads, has waited out its first lease period and
   * settled its predecessor's calls); with the state file, always. Set by the fleet.
   */
  mayAct: () => { ok: true } | { ok: false; why: string } = () => ({ ok: true });

  private async execute(trigger: Trigger, request: PolicyRequest): Promise<DecisionEntry> {
    const started = Date.now();
    const now = started / 1000;
    const allowed = this.mayAct();
    if (!allowed.ok)
      return this.log.append({
        time: new Date(started).toISOString(),
        trigger,
        policy: this.settings.SCALING_POLICY,
        pending: { up: false, down: false },
        alerts: { up: null, down: null },
        bounds: this.bounds,
        ...NO_DECISION,
        decision: 'deferred',
        outcome: 'deferred',
        code: 'Fenced',
        reasons: [{ code: 'Fenced', text: allowed.why }],
        durationMs: 0,
      });
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
    let base = describeInputs(this.signals.signals(now));
    const finish = (outcome: EntryOutcome, rest: EntryBody) => {
      if (outcome !== 'pending')
        this.metrics.scalingDecisions.inc({
          ...this.settings.poolLabels,
          trigger,
          outcome,
          reason: rest.code,
        });
      return this.log.append({ ...base, ...rest, outcome, durationMs: Date.now() - started });
    };
    const unreadable = (error: unknown) =>
      finish('error', {
        ...NO_DECISION,
        decision: 'error',
        code: 'PoolUnreadable',
        reasons: [
          { code: 'PoolUnreadable', text: `cannot read the pool: ${describeError(error)}` },
          { code: 'PoolUnreadable', text: 'signals kept for the next tick' },
        ],
      });

    let pool: InstancePool;
    try {
      pool = await this.exoscale.getInstancePool(this.settings.EXOSCALE_INSTANCEPOOL_ID);
    } catch (error) {
      if (error instanceof ExoscaleApiError && error.status === 404)
        this.poolMissing = `instance pool ${this.settings.EXOSCALE_INSTANCEPOOL_ID} not found in ${this.settings.EXOSCALE_ZONE} (HTTP 404): check the pool's id and zone`;
      return unreadable(error);
    }
    this.poolMissing = null;
    this.calls.observePool(pool, now);

    // A scale call whose outcome is not known yet is settled before anything else is decided.
    const readingNotes: Reason[] = [];
    if (this.calls.record) {
      const settled = this.calls.settle(pool, now);
      if (settled.outcome === 'unknown') {
        await this.calls.save();
        return finish('deferred', {
          ...NO_DECISION,
          pool: { size: pool.size, state: pool.state },
          decision: 'deferred',
          code: 'Settling',
          reasons: [{ code: 'Settling', text: `${settled.text}; nothing else is decided until then` }],
        });
      }
      readingNotes.push({ code: settled.code, text: settled.text });
      await this.calls.save();
    }

    const steps = this.signals.snapshot();
    const signals = this.signals.signals(now);
    base = describeInputs(signals);
    let measurement: Measurement | null = null;
    if (request.kind === 'tick' && this.settings.SCALING_POLICY === 'target') {
      const reading = await this.utilisation.read(now);
      if (reading && 'measurement' in reading) {
        // The members taking traffic as the load balancer last reported them: those not measured yet carry their
        // share of the load (the policy sizes scale-in from it).
        const serving = this.health.servingCount(pool.instanceIds, now);
        measurement = serving === null ? reading.measurement : { ...reading.measurement, serving };
      } else if (reading)
        readingNotes.push({
          code: 'NoValue',
          text: `${reading.unavailable}; using the notification's value`,
        });
    }

    const seen = measurement ?? signals.up.alert?.value ?? signals.down.alert?.value ?? null;
    const history = this.readings.slice();
    if (measurement?.source === 'prometheus') {
      this.readings.push(measurement);
      while (this.readings.length > 0 && this.readings[0].measuredAt < now - READING_HISTORY_SECONDS)
        this.readings.shift();
    }
    if (seen) this.lastUtilisation = { value: seen.utilisation, at: seen.measuredAt };

    // A replacement's extra member (launch-first) is not capacity the decision asked for: it is left out of the
    // size decided on and added back to the call, so a scale-out during a replacement still ends at its size.
    const surge =
      this.calls.replacement?.phase === 'surge' && pool.instanceIds.includes(this.calls.replacement.memberId)
        ? 1
        : 0;
    const bounds = this.effectiveBounds(pool, now);
    const reactive: Decision = decideScaling({
      now,
      request,
      pool: { size: pool.size - surge, state: pool.state },
      members: this.discovery.status.members
        .filter((m) => pool.instanceIds.length === 0 || pool.instanceIds.includes(m.id))
        .map((m) => {
          const created = m.createdAt ? Date.parse(m.createdAt) / 1000 : NaN;
          return { createdAt: Number.isFinite(created) ? created : null };
        }),
      signals,
      measurement,
      // The earlier readings (not this one), oldest first, for the policy's trend and saturation evidence.
      history,
      lastScaledAt: this.calls.lastScaledAt,
      settings: { ...this.settings.policySettings, bounds },
    });
    // Predictive pre-scaling: only a tick's decision, scale-out only (libs/scaling-policy's applyForecast).
    const decision =
      request.kind === 'tick' && this.settings.FORECAST_MODE !== 'off' && this.settings.PROMETHEUS_URL
        ? applyForecast(reactive, await this.forecast.read(bounds, now), request)
        : reactive;
    const common = {
      pool: { size: pool.size, state: pool.state },
      decision: decision.outcome,
      direction: decision.direction,
      targetSize: decision.targetSize + surge,
      boundApplied: decision.boundApplied,
      code: decision.code,
      basis: decision.basis,
    };
    const reasons = [...readingNotes, ...decision.reasons];
    const scheduled = this.schedule(now).reason;
    if (scheduled) reasons.push(scheduled);
    if (surge > 0)
      reasons.push({
        code: 'Replacing',
        text: `a replacement's extra member is not counted: decided on ${pool.size - surge}, asking ${decision.targetSize + surge}`,
      });
    if (decision.outcome !== 'scale') {
      if (decision.outcome === 'none') this.calls.consume(decision.consumes, steps);
      return finish(decision.outcome, { ...common, reasons, operation: null });
    }
    if (this.settings.DRY_RUN) {
      this.calls.consume(decision.consumes, steps);
      return finish('dry-run', {
        ...common,
        code: 'DryRun',
        reasons: [...reasons, { code: 'DryRun', text: 'DRY_RUN: the scale API was not called' }],
        operation: { id: null, outcome: 'skipped' },
      });
    }

    // Quota: never ask for more members than the organisation may still create.
    let to = decision.targetSize + surge;
    const notes: Reason[] = [];
    if (to > pool.size) {
      const headroom = await this.limits.quotaHeadroom();
      if (headroom !== null && to > pool.size + headroom) {
        const capped = pool.size + Math.max(0, headroom);
        const text = `the organisation's instance quota leaves room for ${Math.max(0, headroom)} more instance(s): ${to} capped to ${capped}`;
        if (capped <= pool.size) {
          this.calls.consume(decision.consumes, steps);
          return finish('none', {
            ...common,
            code: 'QuotaLimited',
            reasons: [...reasons, { code: 'QuotaLimited', text }],
            operation: null,
          });
        }
        notes.push({ code: 'QuotaLimited', text });
        to = capped;
      }
    }
    // Scale-in removes chosen members (unhealthy first, then the newest) rather than leaving the choice to the API.
    const victims =
      to < pool.size && pool.instanceIds.length === pool.size
        ? this.limits.victims(pool, pool.size - to)
        : null;
    const entry = finish('pending', {
      ...common,
      reasons: [
        ...reasons,
        ...notes,
        {
          code: 'Scale',
          text: victims
            ? `evict ${victims.join(', ')} (${pool.size} -> ${to}): outcome pending`
            : `scale call ${pool.size} -> ${to}: outcome pending`,
        },
      ],
      operation: { id: null, outcome: 'unknown' },
    });
    await this.calls.call(entry, {
      kind: victims ? 'evict' : 'scale',
      ...(victims ? { ids: victims } : {}),
      from: pool.size,
      to,
      consumes: decision.consumes,
      steps: { up: pick(steps.up), down: pick(steps.down) },
      trigger,
    });
    return this.log.get(entry.id) ?? entry;
  }

  updateSignalGauges(): void {
    this.calls.updateSignalGauges();
  }
}
