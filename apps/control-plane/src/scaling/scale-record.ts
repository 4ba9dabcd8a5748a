import { Direction } from '@app/scaling-policy';

import { Trigger } from './decision-log.service';

/**
 * The write-ahead record of one scale call: saved before the call is made, completed with the operation id once
 * the call is answered, removed once the outcome is settled (applied: its signals are used up once; not applied:
 * they are kept). A record found at start or at a tick is settled against the pool before anything is decided.
 */
export interface ScaleRecord {
  /** The decision log entry of the decision that made the call (null for a record from an older state file). */
  entryId: number | null;
  trigger: Trigger;
  /** Pool size the decision saw and the size it asked for (members). */
  from: number;
  to: number;
  /** When the call was about to be made (Unix seconds): the warm-up clock of an applied call starts here. */
  calledAt: number;
  /** The pending steps the decision uses up, and their generations (a step re-recorded since is kept). */
  consumes: Direction[];
  steps: { up?: { generation: number }; down?: { generation: number } };
  /** The operation the API answered with, once it answered. */
  operationId: string | null;
  /** The last moment a request of this call may have been sent: when the retries were given up (Unix seconds). */
  sentUntil?: number;
  /** `scale` (the default) sets the size; `evict` removes `ids` (the pool shrinks by them). */
  kind?: 'scale' | 'evict';
  ids?: string[];
  /** A call made for a member's replacement (uses up no signal). */
  purpose?: 'replace';
}

/**
 * A replacement of one unhealthy member in progress (saved with the state): `surge` (launch-first: the pool was
 * scaled +1; the failed member is evicted once a new one serves), `evict` / `restore` (evict-first, at the
 * maximum: the failed member is evicted, then the pool is scaled back).
 */
export interface ReplacementState {
  memberId: string;
  mode: 'launch-first' | 'evict-first';
  phase: 'surge' | 'evict' | 'restore';
  /** The decision log entry of the replacement. */
  entryId: number | null;
  /** Unix seconds. */
  startedAt: number;
  /** The pool's members when it started, to tell the new one. */
  before: string[];
}
