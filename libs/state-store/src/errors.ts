/**
 * A save whose `expectedVersion` did not match the stored one: somebody else wrote the document since it was read.
 * Nothing was written. `actual` is the stored version (0: no document).
 */
export class VersionConflictError extends Error {
  override readonly name = 'VersionConflictError';
  constructor(
    readonly key: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`state document "${key}": expected version ${expected}, found ${actual}`);
  }
}

/** A stored document that cannot be read back (not JSON, or not in the store's format). Nothing was changed. */
export class CorruptDocumentError extends Error {
  override readonly name = 'CorruptDocumentError';
  constructor(
    readonly key: string,
    readonly where: string,
    readonly detail: string,
  ) {
    super(`state document "${key}" at ${where} is not readable: ${detail}`);
  }
}

/**
 * Why a fenced write was refused:
 * - `not-leader`: this replica does not lead (no epoch to present);
 * - `no-lease`: the lease row does not exist;
 * - `holder`: another replica holds the lease;
 * - `epoch`: the lease was taken again since (a newer term, even by the same holder);
 * - `expiring`: ours, but no more than `minRemainingSeconds` left (or already expired), by the database clock.
 */
export type FenceReason = 'not-leader' | 'no-lease' | 'holder' | 'epoch' | 'expiring';

/** What the lease row said when the fence was checked (null fields: no row, or not read). */
export interface FenceObservation {
  holder: string | null;
  epoch: number | null;
  /** Seconds left on the lease by the database clock (negative: expired). */
  remainingSeconds: number | null;
}

/** A write refused by the fence: the lease is not (or no longer, or not long enough) ours. Nothing was written. */
export class FencedError extends Error {
  override readonly name = 'FencedError';
  constructor(
    readonly reason: FenceReason,
    readonly text: string,
    readonly observed: FenceObservation = { holder: null, epoch: null, remainingSeconds: null },
  ) {
    super(`fenced (${reason}): ${text}`);
  }
}
