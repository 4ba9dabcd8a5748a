import { Injectable, Logger } from '@nestjs/common';

import { Decision, Direction, Measurement, PolicyName, Reason, ReasonCode } from '@app/scaling-policy';

export type Trigger = 'tick' | 'manual';
/** `pending`: a scale call was made (or was about to be) and its outcome is not settled yet. */
export type EntryOutcome = 'scaled' | 'none' | 'deferred' | 'dry-run' | 'error' | 'pending';

export interface DecisionEntry {
  id: number;
  /** The managed pool's name (see PoolConfig). */
  poolName?: string;
  /** Two replicas: the lease epoch of the leader that made the decision (its scale calls carry it too). */
  epoch?: number;
  time: string;
  trigger: Trigger;
  policy: PolicyName;
  pending: { up: boolean; down: boolean };
  /** The firing alerts the decision saw, per direction (null: not firing). */
  alerts: { up: AlertSeen | null; down: AlertSeen | null };
  /** The utilisation the size was computed from, if one was. */
  basis: (Measurement & { load: number; servingMembers: number }) | null;
  request?: { direction?: Direction; size?: number };
  pool: { size: number; state: string } | null;
  decision: Decision['outcome'] | 'error';
  outcome: EntryOutcome;
  direction: Direction | null;
  targetSize: number | null;
  /** The reason that decided the outcome; `reasons` has every step with its own code. */
  code: ReasonCode;
  reasons: Reason[];
  bounds: { min: number; max: number };
  boundApplied: 'min' | 'max' | null;
  operation: {
    id: string | null;
    outcome: 'success' | 'failure' | 'skipped' | 'unknown';
    error?: string;
  } | null;
  /** When a pending entry was settled, and how (the outcome and reasons above are updated in place). */
  settledAt?: string;
  durationMs: number;
}

export interface AlertSeen {
  alerts: string[];
  firingSince: string;
  value: number | null;
  valueAt: string | null;
}

const CAPACITY = 500;

/** Every tick and manual action as one entry: kept in memory (bounded) and written to the log as a JSON line. */
@Injectable()
export class DecisionLogService {
  private readonly logger = new Logger('DecisionLog');
  private readonly entries: DecisionEntry[] = [];
  private nextId = 1;
  /** Set by the pool's scope: every entry carries it. */
  poolName?: string;
  /** Set by the fleet with two replicas: the leader's epoch now (null: not leading). */
  epoch: () => number | null = () => null;

  append(entry: Omit<DecisionEntry, 'id'>): DecisionEntry {
    const epoch = this.epoch();
    const full = {
      id: this.nextId++,
      ...(this.poolName ? { poolName: this.poolName } : {}),
      ...(epoch !== null ? { epoch } : {}),
      ...entry,
    };
    this.entries.push(full);
    if (this.entries.length > CAPACITY) this.entries.splice(0, this.entries.length - CAPACITY);
    this.logger.log({ msg: 'scaling decision', ...full });
    return full;
  }

  /**
   * Updates an entry in place (a pending scale call settled later); returns it, or undefined when it has left the
   * log. The updated entry is written to the log again.
   */
  update(id: number, patch: Partial<Omit<DecisionEntry, 'id'>>): DecisionEntry | undefined {
    const entry = this.entries.find((e) => e.id === id);
    if (!entry) return undefined;
    Object.assign(entry, patch);
    this.logger.log({ msg: 'scaling decision settled', ...entry });
    return entry;
  }

  /** Restores entries saved oldest first (after a restart); new entries continue their numbering. */
  restore(entries: DecisionEntry[]): void {
    this.entries.splice(0, this.entries.length, ...entries.slice(-CAPACITY));
    this.nextId = Math.max(this.nextId, ...entries.map((e) => e.id + 1));
  }

  /** Newest first. */
  list(limit = CAPACITY): DecisionEntry[] {
    return this.entries.slice(-limit).reverse();
  }

  get(id: number): DecisionEntry | undefined {
    return this.entries.find((e) => e.id === id);
  }

  latest(): DecisionEntry | undefined {
    return this.entries[this.entries.length - 1];
  }
}
