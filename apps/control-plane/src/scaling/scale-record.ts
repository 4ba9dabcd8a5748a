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
}
