import { InstancePool } from '@app/exoscale-client';
import { HealthSettings, MemberJudgement, planReplacement, Reason } from '@app/scaling-policy';

import { DecisionEntry } from './decision-log.service';
import { ReplacementState, ScaleRecord } from './scale-record';

/** What a replacement needs from the scaling service: the same pool, lock, write-ahead record and log. */
export interface ReplacementPort {
  readPool(): Promise<InstancePool>;
  judgements(): MemberJudgement[];
  /** Whether the load balancer's health could be read (else a running member counts as serving). */
  lbKnown(): boolean;
  saturated(): boolean;
  max(pool: InstancePool): number;
  settings(): HealthSettings;
  get(): ReplacementState | null;
  set(state: ReplacementState | null): void;
  save(): Promise<boolean>;
  /** A scale call whose outcome is not settled: nothing else happens until it is. */
  busy(): boolean;
  append(
    entry: Pick<DecisionEntry, 'pool' | 'decision' | 'code' | 'reasons' | 'targetSize'> & {
      outcome: DecisionEntry['outcome'];
    },
  ): DecisionEntry;
  note(entryId: number | null, reasons: Reason[], outcome?: DecisionEntry['outcome']): void;
  /** The log entry of a replacement, or a new one when it has left the log. */
  entry(id: number | null, memberId: string): DecisionEntry;
  call(
    entry: DecisionEntry,
    call: Omit<ScaleRecord, 'entryId' | 'calledAt' | 'operationId'>,
  ): Promise<'applied' | 'not-applied' | 'unknown'>;
}

/**
 * Replaces unhealthy members, one per pool at a time, under the scaling lock and through the same write-ahead
 * record as scaling: launch-first below the maximum (scale +1, wait until a new member serves, evict the failed
 * one), evict-first at it (evict, then scale back). Each replacement is one decision in the log, updated as it
 * goes; its state is saved, so a crash resumes it. Guards are libs/scaling-policy's `planReplacement`.
 */
export class ReplacementRunner {
  constructor(private readonly port: ReplacementPort) {}

  /** One step, run by the tick after its scaling decision; `scaled`: the tick made a call (nothing starts then). */
  async step(now: number, scaled: boolean): Promise<void> {
    if (this.port.busy()) return;
    const pool = await this.port.readPool();
    if (pool.state !== 'running') return;
    const current = this.port.get();
    if (current) return this.advance(current, pool, now);
    if (scaled) return;
    const judged = this.port.judgements().filter((j) => pool.instanceIds.includes(j.id));
    const plan = planReplacement(
      judged,
      { size: pool.size, max: this.port.max(pool) },
      this.port.saturated(),
      this.port.settings(),
    );
    if (plan.action === 'none') {
      if (plan.code !== 'NoSignal')
        this.port.append({
          pool: { size: pool.size, state: pool.state },
          decision: 'none',
          outcome: 'none',
          code: plan.code,
          reasons: plan.reasons,
          targetSize: pool.size,
        });
      return;
    }
    const entry = this.port.append({
      pool: { size: pool.size, state: pool.state },
      decision: 'scale',
      outcome: 'pending',
      code: 'Replace',
      reasons: plan.reasons,
      targetSize: pool.size,
    });
    const state: ReplacementState = {
      memberId: plan.memberId!,
      mode: plan.mode!,
      phase: plan.mode === 'launch-first' ? 'surge' : 'evict',
      entryId: entry.id,
      startedAt: now,
      before: [...pool.instanceIds],
    };
    this.port.set(state);
    if (state.mode === 'launch-first') {
      const outcome = await this.port.call(entry, this.scale(pool.size, pool.size + 1));
      if (outcome === 'not-applied')
        this.end(
          state,
          [{ code: 'NotApplied', text: 'the extra member was not launched: retried later' }],
          'error',
        );
      else
        this.port.note(
          entry.id,
          [
            {
              code: 'Replacing',
              text: `launched a member in place of ${state.memberId}: waiting until it serves`,
            },
          ],
          'pending',
        );
      await this.port.save();
      return;
    }
    await this.evictThenRestore(state, pool, entry);
  }

  private async advance(state: ReplacementState, pool: InstancePool, now: number): Promise<void> {
    const entry = this.port.entry(state.entryId, state.memberId);
    state.entryId = entry.id;
    const present = pool.instanceIds.includes(state.memberId);
    if (state.phase === 'surge') {
      if (!present)
        return this.end(state, [
          { code: 'Replace', text: `${state.memberId} is gone (removed meanwhile): replacement done` },
        ]);
      const fresh = pool.instanceIds.filter((id) => !state.before.includes(id));
      if (fresh.length === 0) {
        // The extra member never came (the launch was not applied): start over later.
        return this.end(
          state,
          [
            {
              code: 'NotApplied',
              text: 'no new member appeared: the replacement is given up, retried later',
            },
          ],
          'error',
        );
      }
      const judged = new Map(this.port.judgements().map((j) => [j.id, j]));
      const serving = fresh.some((id) => {
        const j = judged.get(id);
        return this.port.lbKnown() ? j?.code === 'NoSignal' : j !== undefined && j.health !== 'unhealthy';
      });
      const timedOut = now - state.startedAt > this.port.settings().startupTimeoutSeconds;
      if (!serving && !timedOut) return;
      this.port.note(entry.id, [
        {
          code: 'Replacing',
          text: serving
            ? `the new member serves: evicting ${state.memberId}`
            : `the new member did not serve within ${this.port.settings().startupTimeoutSeconds} s: evicting ${state.memberId} anyway`,
        },
      ]);
      const outcome = await this.port.call(entry, this.evict(pool.size, state.memberId));
      if (outcome === 'applied')
        this.end(state, [{ code: 'Replace', text: `${state.memberId} evicted: replacement done` }]);
      await this.port.save();
      return;
    }
    // evict-first
    if (present && state.phase === 'evict') return this.evictThenRestore(state, pool, entry);
    if (!present) {
      state.phase = 'restore';
      const outcome = await this.port.call(
        entry,
        this.scale(pool.size, Math.min(pool.size + 1, this.port.max(pool))),
      );
      if (outcome === 'applied')
        this.end(state, [{ code: 'Replace', text: 'scaled back: replacement done' }]);
      await this.port.save();
    }
  }

  private async evictThenRestore(
    state: ReplacementState,
    pool: InstancePool,
    entry: DecisionEntry,
  ): Promise<void> {
    const evicted = await this.port.call(entry, this.evict(pool.size, state.memberId));
    if (evicted === 'not-applied') {
      this.end(
        state,
        [{ code: 'NotApplied', text: `${state.memberId} was not evicted: retried later` }],
        'error',
      );
      await this.port.save();
      return;
    }
    if (evicted === 'unknown') return;
    state.phase = 'restore';
    this.port.set(state);
    await this.port.save();
    const restored = await this.port.call(entry, this.scale(pool.size - 1, pool.size));
    if (restored === 'applied') this.end(state, [{ code: 'Replace', text: 'scaled back: replacement done' }]);
    await this.port.save();
  }

  private end(
    state: ReplacementState,
    reasons: Reason[],
    outcome: DecisionEntry['outcome'] = 'scaled',
  ): void {
    this.port.set(null);
    if (state.entryId !== null) this.port.note(state.entryId, reasons, outcome);
  }

  private scale(from: number, to: number): Omit<ScaleRecord, 'entryId' | 'calledAt' | 'operationId'> {
    return { kind: 'scale', from, to, consumes: [], steps: {}, trigger: 'tick', purpose: 'replace' };
  }

  private evict(from: number, id: string): Omit<ScaleRecord, 'entryId' | 'calledAt' | 'operationId'> {
    return {
      kind: 'evict',
      ids: [id],
      from,
      to: from - 1,
      consumes: [],
      steps: {},
      trigger: 'tick',
      purpose: 'replace',
    };
  }
}
