import { Injectable } from '@nestjs/common';

import { Direction } from './scaling-policy';

export interface PendingSignal {
  direction: Direction;
  source: string;
  firstReceivedAt: Date;
  lastReceivedAt: Date;
  /** Notifications that re-asserted this signal since it was first recorded. */
  count: number;
  /** Bumped on every record, so a tick clears only the signal it saw. */
  generation: number;
}

/** The pending up/down intents. Level-triggered: repeats of a firing alert refresh one signal, never stack up. */
@Injectable()
export class SignalStore {
  private readonly pending = new Map<Direction, PendingSignal>();
  private generation = 0;

  record(direction: Direction, source: string, now = new Date()): PendingSignal {
    const existing = this.pending.get(direction);
    const signal: PendingSignal = existing
      ? { ...existing, lastReceivedAt: now, count: existing.count + 1, source, generation: ++this.generation }
      : {
          direction,
          source,
          firstReceivedAt: now,
          lastReceivedAt: now,
          count: 1,
          generation: ++this.generation,
        };
    this.pending.set(direction, signal);
    return signal;
  }

  clear(direction: Direction): boolean {
    return this.pending.delete(direction);
  }

  /** Clears a signal only if it was not re-recorded since `seen` was read. */
  consume(direction: Direction, seen: PendingSignal | undefined): void {
    const current = this.pending.get(direction);
    if (current && (!seen || current.generation === seen.generation)) this.pending.delete(direction);
  }

  snapshot(): { up?: PendingSignal; down?: PendingSignal } {
    return { up: this.pending.get('up'), down: this.pending.get('down') };
  }
}
