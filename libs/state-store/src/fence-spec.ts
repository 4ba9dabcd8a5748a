/** What a fenced write presents: the lease it claims to hold, and how long it needs it for. */
export interface FenceSpec {
  /** The lease's name (one row in `leases`). */
  name: string;
  /** This replica's holder identity. */
  holder: string;
  /** The epoch of this replica's current term. */
  epoch: number;
  /**
   * The lease must have strictly more than this many seconds left (database clock) when the write commits: the
   * longest the guarded action may take (e.g. the HTTP call's timeout plus a margin).
   */
  minRemainingSeconds: number;
}
