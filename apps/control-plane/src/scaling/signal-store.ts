import { Injectable, Logger } from '@nestjs/common';

import {
  AlertNotice,
  Direction,
  DirectionSignals,
  FiringAlert,
  PendingStep,
  SignalBook,
  SignalBookState,
} from '@app/scaling-policy';

import { Settings } from '../config/settings';

const nowSeconds = () => Date.now() / 1000;

/**
 * The control plane's signals on the wall clock: alert state (firing since, last value; cleared by a resolved
 * notification, expired after ALERT_TTL_SECONDS) and one-shot pending steps. The logic is libs/scaling-policy's
 * SignalBook, which the simulator runs too.
 */
@Injectable()
export class SignalStore {
  private readonly logger = new Logger(SignalStore.name);
  private readonly book: SignalBook;

  constructor(private readonly settings: Settings) {
    this.book = new SignalBook(settings.ALERT_TTL_SECONDS);
  }

  /** A bare /up or /down: one pending step, consumed by the next decision. */
  record(direction: Direction, source: string): PendingStep {
    return this.book.recordStep(direction, source, nowSeconds());
  }

  /** Forgets the pending step and the firing alerts of a direction. */
  clear(direction: Direction): void {
    this.book.clear(direction);
  }

  notify(notice: AlertNotice): void {
    this.book.notify(notice, nowSeconds());
  }

  /** See SignalBook.resolveAbsent. */
  resolveAbsent(group: string, present: { direction: Direction; id: string }[]): FiringAlert[] {
    return this.book.resolveAbsent(group, present, nowSeconds());
  }

  /** Expires stale alerts (logged), then returns what the policy needs for both directions. */
  signals(now = nowSeconds()): { up: DirectionSignals; down: DirectionSignals } {
    for (const alert of this.book.expire(now)) {
      this.logger.warn({
        msg: 'firing alert expired: no notification within ALERT_TTL_SECONDS',
        alert: alert.alert,
        direction: alert.direction,
        ttlSeconds: this.settings.ALERT_TTL_SECONDS,
      });
    }
    return { up: this.book.signals('up', now), down: this.book.signals('down', now) };
  }

  /** The pending steps as they are now, so a decision consumes only what it saw. */
  snapshot(): { up?: PendingStep; down?: PendingStep } {
    return { up: this.book.pendingStep('up'), down: this.book.pendingStep('down') };
  }

  consume(direction: Direction, seen: Pick<PendingStep, 'generation'> | undefined): void {
    this.book.consume(direction, seen);
  }

  /** Firing alerts of both directions, for the status API. */
  firing(now = nowSeconds()): FiringAlert[] {
    return [...this.book.firing('up', now), ...this.book.firing('down', now)];
  }

  exportState(): SignalBookState {
    return this.book.toJSON();
  }

  restore(state: SignalBookState): void {
    this.book.restore(state);
  }

  get ttlSeconds(): number {
    return this.settings.ALERT_TTL_SECONDS;
  }
}
