import { ClientBase, Pool, PoolClient } from 'pg';

import { FencedError } from './errors';
import { FenceSpec } from './fence-spec';

/** A connection a transaction can run on: a `pg.Client`, or a client checked out of a `pg.Pool`. */
export type Queryable = Pick<ClientBase, 'query'>;

interface LeaseRow {
  holder: string | null;
  epoch: string;
  remaining: number;
  enough: boolean;
}

/**
 * Checks the fence inside a transaction that is already open on `tx`: locks the lease row (`SELECT ... FOR
 * UPDATE`, so it cannot be renewed or taken until the transaction ends) and requires holder and epoch to match
 * and strictly more than `minRemainingSeconds` left by the database clock (`clock_timestamp()`, read after the
 * lock was granted). Throws `FencedError` otherwise; the caller rolls back.
 */
export async function checkFence(tx: Queryable, spec: FenceSpec): Promise<void> {
  const { rows } = await tx.query<LeaseRow>(
    `SELECT holder, epoch::text AS epoch,
            extract(epoch FROM expires_at - clock_timestamp())::float8 AS remaining,
            expires_at - clock_timestamp() > make_interval(secs => $2::float8) AS enough
       FROM leases WHERE name = $1 FOR UPDATE`,
    [spec.name, spec.minRemainingSeconds],
  );
  const row = rows[0];
  if (!row) throw new FencedError('no-lease', `no lease named "${spec.name}"`);
  const observed = { holder: row.holder, epoch: Number(row.epoch), remainingSeconds: row.remaining };
  if (row.holder !== spec.holder)
    throw new FencedError(
      'holder',
      `lease "${spec.name}" is held by ${row.holder ?? 'nobody'} (epoch ${row.epoch}), not ${spec.holder}`,
      observed,
    );
  if (observed.epoch !== spec.epoch)
    throw new FencedError(
      'epoch',
      `lease "${spec.name}" is at epoch ${row.epoch}, not ${spec.epoch}: it was taken again since`,
      observed,
    );
  if (!row.enough)
    throw new FencedError(
      'expiring',
      `lease "${spec.name}" has ${row.remaining.toFixed(3)} s left, not more than ${spec.minRemainingSeconds} s`,
      observed,
    );
}

/** An error the server sent (it carries a SQLSTATE `code`), not one of the client's own. */
function hasSqlState(error: unknown): boolean {
  return typeof (error as { code?: unknown } | null)?.code === 'string';
}

/**
 * Runs `fn` in one transaction on `client` (a pool: a client checked out for it): BEGIN, `fn(tx)`, COMMIT; ROLLBACK
 * and rethrow if anything throws. A client whose rollback fails is destroyed rather than returned to the pool.
 *
 * @throws what `fn` threw; on a connection the server ended meanwhile, the server's error (its `code`, e.g. `25P03`
 *   for `idle_in_transaction_session_timeout`, `57P01` for a terminated backend) rather than pg's generic one
 */
export async function inTransaction<T>(
  client: Pool | ClientBase,
  fn: (tx: ClientBase) => Promise<T>,
): Promise<T> {
  const pooled: PoolClient | null = client instanceof Pool ? await client.connect() : null;
  const tx: ClientBase = pooled ?? (client as ClientBase);
  // A connection that failed BEGIN or ROLLBACK, or died meanwhile, is not returned to the pool.
  let broken: Error | undefined;
  // What ended the connection, as the server said it (e.g. 25P03, idle-in-transaction timeout), if it did.
  let lost: Error | undefined;
  // A checked-out client has no error listener of the pool's: without one, a connection that dies between two
  // queries (the server restarting, a terminated backend) would throw its 'error' event at the process.
  const onError = (error: Error) => {
    broken = error;
    // pg follows the server's error with its own "Connection terminated unexpectedly": keep the server's.
    if (!hasSqlState(lost)) lost = error;
  };
  pooled?.on('error', onError);
  // The next query on a dead connection fails with pg's generic "not queryable": report the server's reason instead.
  // Only pg's own plain errors are replaced: the caller's (FencedError, VersionConflictError, ...) are kept.
  const reason = (error: unknown): unknown =>
    lost && error instanceof Error && error.constructor === Error && !hasSqlState(error) ? lost : error;
  try {
    try {
      await tx.query('BEGIN');
    } catch (error) {
      broken = error as Error;
      throw reason(error);
    }
    try {
      const result = await fn(tx);
      await tx.query('COMMIT');
      return result;
    } catch (error) {
      await tx.query('ROLLBACK').catch((rollback: Error) => {
        broken = rollback;
      });
      throw reason(error);
    }
  } finally {
    pooled?.off('error', onError);
    pooled?.release(broken ?? false);
  }
}

/**
 * The fence, to be called immediately before an action that only the leader may take (a scale or evict call):
 * ONE transaction that locks the lease row, checks that `spec.holder` holds it at `spec.epoch` with more than
 * `spec.minRemainingSeconds` left (database clock), then runs `write(tx)` (e.g. saves the write-ahead record of the
 * call with the epoch) and commits. Otherwise it throws `FencedError` with the reason and writes nothing: no row,
 * no call. While `write` runs the lease row stays locked, so keep it short (a few statements).
 *
 * `client` is the state store's pool (or any client on the same database); it need not be the lease's connection.
 */
export function fence<T>(
  client: Pool | ClientBase,
  spec: FenceSpec,
  write: (tx: ClientBase) => Promise<T>,
): Promise<T> {
  return inTransaction(client, async (tx) => {
    await checkFence(tx, spec);
    return write(tx);
  });
}
