import { Direction, DirectionSignals, Measurement } from './types';

/** One alert of a notification, reduced to what scaling needs. */
export interface AlertNotice {
  direction: Direction;
  /** The alert's name (or fingerprint): alerts of one direction are tracked one by one. */
  alert: string;
  status: 'firing' | 'resolved';
  /** The utilisation the notification carried (0..1), if it carried one. */
  value: number | null;
  source: string;
}

export interface FiringAlert {
  direction: Direction;
  alert: string;
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
    const key = `${notice.direction}\u0000${notice.alert}`;
    if (notice.status === 'resolved') {
      this.alerts.delete(key);
      if (!this.firing(notice.direction, now).length) this.steps.delete(notice.direction);
      return;
    }
    const existing = this.alerts.get(key);
    const value: Measurement | null =
      notice.value !== null
        ? { utilisation: notice.value, measuredAt: now, source: 'notification' }
        : (existing?.value ?? null);
    this.alerts.set(key, {
      direction: notice.direction,
      alert: notice.alert,
      source: notice.source,
      firingSince: existing?.firingSince ?? now,
      lastReceivedAt: now,
      value,
    });
    this.recordStep(notice.direction, notice.source, now);
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
    for (const a of state.alerts) this.alerts.set(`${a.direction}\u0000${a.alert}`, a);
    for (const s of state.steps) this.steps.set(s.direction, s);
    this.generation = state.generation;
  }
}
