import { Direction, DirectionSignals, Measurement } from './types';

/** One alert of a notification, reduced to what scaling needs. */
export interface AlertNotice {
  direction: Direction;
  /** The alert's name, for people. */
  alert: string;
  /**
   * The alert's identity (its fingerprint or label set; the alert name when absent): alerts of one direction are
   * tracked one by one, and a resolved alert clears only its own identity.
   */
  id?: string;
  /** The notification group it came in (`groupKey`), so a whole list of the group can resolve the absent ones. */
  group?: string;
  status: 'firing' | 'resolved';
  /** The utilisation the notification carried (0..1), if it carried one. */
  value: number | null;
  source: string;
}

export interface FiringAlert {
  direction: Direction;
  alert: string;
  /** See AlertNotice.id (absent in state saved by older versions: the name). */
  id?: string;
  /** Restored from state saved before identities: matched by name until it is notified again. */
  legacy?: boolean;
  group?: string;
  source: string;
  firingSince: number;
  lastReceivedAt: number;
  value: Measurement | null;
}

export interface PendingStep {
  direction: Direction;
  source: string;
  firstReceivedAt: number;
  lastReceivedAt: number;
  /** Notifications or requests that re-asserted this step since it was first recorded. */
  count: number;
  /** Bumped on every record, so a decision clears only the step it saw. */
  generation: number;
}

export interface SignalBookState {
  alerts: FiringAlert[];
  steps: PendingStep[];
  generation: number;
}

/**
 * Alert state, not alert events: a firing notification sets its alert's state (firing since, last value), a
 * resolved one clears it, and a state not refreshed within the TTL expires, so a lost "resolved" cannot scale
 * forever. Beside it, one-shot pending steps (a bare /up or /down; under the step policy, every notification),
 * level-triggered: repeats refresh one step, they never stack up. Times are Unix seconds.
 */
export class SignalBook {
  private readonly alerts = new Map<string, FiringAlert>();
  private readonly steps = new Map<Direction, PendingStep>();
  private generation = 0;

  constructor(private readonly ttlSeconds: number) {}

  recordStep(direction: Direction, source: string, now: number): PendingStep {
    const existing = this.steps.get(direction);
    const step: PendingStep = existing
      ? { ...existing, lastReceivedAt: now, count: existing.count + 1, source, generation: ++this.generation }
      : {
          direction,
          source,
          firstReceivedAt: now,
          lastReceivedAt: now,
          count: 1,
          generation: ++this.generation,
        };
    this.steps.set(direction, step);
    return step;
  }

  /** Applies one alert of a notification. A firing alert also records a pending step of its direction. */
  notify(notice: AlertNotice, now: number): void {
    const key = keyOf(notice);
    // State saved before alerts had identities is keyed by name: the same alert, now known by its identity.
    const legacy = [...this.alerts.entries()].find(
      ([k, a]) => a.legacy && a.direction === notice.direction && a.alert === notice.alert && k !== key,
    );
    if (legacy) this.alerts.delete(legacy[0]);
    if (notice.status === 'resolved') {
      const held = this.alerts.delete(key) || legacy !== undefined;
      // A resolved alert clears only itself: the pending step goes with the last alert that was held, never
      // because of an alert never seen, and never a bare /up or /down's step.
      const step = this.steps.get(notice.direction);
      if (held && step && step.source !== 'bare' && !this.firing(notice.direction, now).length)
        this.steps.delete(notice.direction);
      return;
    }
    const existing = this.alerts.get(key) ?? legacy?.[1];
    const value: Measurement | null =
      notice.value !== null
        ? { utilisation: notice.value, measuredAt: now, source: 'notification' }
        : (existing?.value ?? null);
    this.alerts.set(key, {
      direction: notice.direction,
      alert: notice.alert,
      id: notice.id ?? notice.alert,
      ...(notice.group ? { group: notice.group } : {}),
      source: notice.source,
      firingSince: existing?.firingSince ?? now,
      lastReceivedAt: now,
      value,
    });
    this.recordStep(notice.direction, notice.source, now);
  }

  /**
   * A whole list of a group's alerts (not truncated) names every alert of the group still firing: the group's
   * alerts held here and absent from it have stopped firing (with send_resolved off, no "resolved" ever comes).
   * Returns the alerts resolved this way.
   */
  resolveAbsent(group: string, present: { direction: Direction; id: string }[], now: number): FiringAlert[] {
    const keep = new Set(present.map((p) => keyOf({ direction: p.direction, alert: p.id, id: p.id })));
    const gone = [...this.alerts.entries()].filter(([key, a]) => a.group === group && !keep.has(key));
    for (const [, alert] of gone)
      this.notify(
        {
          direction: alert.direction,
          alert: alert.alert,
          id: alert.id,
          status: 'resolved',
          value: null,
          source: alert.source,
        },
        now,
      );
    return gone.map(([, a]) => a);
  }

  /** Removes alerts not refreshed within the TTL; returns them. */
  expire(now: number): FiringAlert[] {
    const expired: FiringAlert[] = [];
    for (const [key, alert] of this.alerts) {
      if (now - alert.lastReceivedAt > this.ttlSeconds) {
        this.alerts.delete(key);
        expired.push(alert);
      }
    }
    return expired;
  }

  /** Forgets everything of a direction: its pending step and its firing alerts. */
  clear(direction: Direction): void {
    this.steps.delete(direction);
    for (const [key, alert] of this.alerts) if (alert.direction === direction) this.alerts.delete(key);
  }

  /** Clears a pending step only if it was not re-recorded since `seen` was read. */
  consume(direction: Direction, seen: Pick<PendingStep, 'generation'> | undefined): void {
    const current = this.steps.get(direction);
    if (current && (!seen || current.generation === seen.generation)) this.steps.delete(direction);
  }

  pendingStep(direction: Direction): PendingStep | undefined {
    return this.steps.get(direction);
  }

  /** Live (unexpired) firing alerts of a direction, newest value first. */
  firing(direction: Direction, now: number): FiringAlert[] {
    return [...this.alerts.values()]
      .filter((a) => a.direction === direction && now - a.lastReceivedAt <= this.ttlSeconds)
      .sort((a, b) => (b.value?.measuredAt ?? -Infinity) - (a.value?.measuredAt ?? -Infinity));
  }

  /** What the policy needs to know of one direction. */
  signals(direction: Direction, now: number): DirectionSignals {
    const firing = this.firing(direction, now);
    return {
      pendingStep: this.steps.has(direction),
      alert:
        firing.length === 0
          ? null
          : {
              firingSince: Math.min(...firing.map((a) => a.firingSince)),
              lastReceivedAt: Math.max(...firing.map((a) => a.lastReceivedAt)),
              value: firing[0].value,
              alerts: firing.map((a) => a.alert),
            },
    };
  }

  toJSON(): SignalBookState {
    return {
      alerts: [...this.alerts.values()],
      steps: [...this.steps.values()],
      generation: this.generation,
    };
  }

  restore(state: SignalBookState): void {
    this.alerts.clear();
    this.steps.clear();
    for (const a of state.alerts) this.alerts.set(keyOf(a), a.id === undefined ? { ...a, legacy: true } : a);
    for (const s of state.steps) this.steps.set(s.direction, s);
    this.generation = state.generation;
  }
}

function keyOf(a: { direction: Direction; alert: string; id?: string }): string {
  return `${a.direction}\u0000${a.id ?? a.alert}`;
}
