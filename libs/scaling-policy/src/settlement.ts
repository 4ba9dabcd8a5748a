import { ReasonCode } from './types';

/**
 * How long after the last moment a request of a call may have been sent a pool that still runs at the old size may
 * yet show it: one request's timeout (15 s, the client's) plus 10 s. Past this, a running pool at the old size means
 * the call was not applied. Seconds.
 */
export const UNKNOWN_OUTCOME_GRACE_SECONDS = 25;

/** A scale call recorded before it was made (the write-ahead record), as far as settlement needs it. */
export interface ScaleCallRecord {
  /** The pool size the decision saw (members). */
  from: number;
  /** The size asked for (members). */
  to: number;
  /** When the call was about to be made (Unix seconds). */
  calledAt: number;
  /**
   * The last moment a request of the call may have been sent (Unix seconds): when the caller gave up its retries,
   * or, for a call found after a restart, when the process started. Defaults to `calledAt`.
   */
  sentUntil?: number;
}

export interface Settlement {
  outcome: 'applied' | 'not-applied' | 'unknown';
  code: Extract<ReasonCode, 'Reconciled' | 'NotApplied' | 'Settling'>;
  text: string;
}

/**
 * Settles a scale call whose outcome was not learnt (the process died, the answer was lost, the operation could
 * not be followed) against the pool as it is now. Exactly one step per call follows from it: `applied` uses the
 * call's signals up once, `not-applied` keeps them for the next decision, `unknown` decides nothing until the pool
 * has settled.
 *
 * Rules: a pool that is not `running` is still moving, so the outcome is unknown (the size a moving pool reports
 * may still be the old one); a running pool at the target, or moved past `from` in the call's direction, applied
 * it; a running pool at `from` did not, once `graceSeconds` have passed since a request of the call may last have
 * been sent (`sentUntil`); a pool moved the other way
 * was changed by someone else, and the call is counted as not applied.
 *
 * @param call the write-ahead record (sizes in members, time in Unix seconds)
 * @param pool the pool as read now
 * @param now Unix seconds
 */
export function settleScaleCall(
  call: ScaleCallRecord,
  pool: { size: number; state: string },
  now: number,
  graceSeconds = UNKNOWN_OUTCOME_GRACE_SECONDS,
): Settlement {
  const step = `${call.from} -> ${call.to}`;
  if (pool.state !== 'running')
    return {
      outcome: 'unknown',
      code: 'Settling',
      text: `the scale call ${step} has no known outcome and the pool is ${pool.state} at ${pool.size}: settled once it runs`,
    };
  if (pool.size === call.to)
    return {
      outcome: 'applied',
      code: 'Reconciled',
      text: `the scale call ${step} had no known outcome; the pool runs at ${call.to}: it was applied, recorded once`,
    };
  const wanted = Math.sign(call.to - call.from);
  const moved = Math.sign(pool.size - call.from);
  if (moved !== 0 && moved === wanted)
    return {
      outcome: 'applied',
      code: 'Reconciled',
      text: `the scale call ${step} had no known outcome; the pool moved in its direction (now ${pool.size}): counted as applied, once`,
    };
  const since = Math.max(call.calledAt, call.sentUntil ?? call.calledAt);
  if (moved === 0 && now - since < graceSeconds)
    return {
      outcome: 'unknown',
      code: 'Settling',
      text: `a request of the scale call ${step} may have been sent ${Math.max(0, Math.floor(now - since))} s ago and the pool still runs at ${call.from}: waiting up to ${graceSeconds} s for it to show`,
    };
  return {
    outcome: 'not-applied',
    code: 'NotApplied',
    text:
      moved === 0
        ? `the scale call ${step} was not applied: the pool still runs at ${call.from}; its signals are kept`
        : `the pool was changed by someone else (${call.from} -> ${pool.size}): the scale call ${step} counts as not applied; its signals are kept`,
  };
}
