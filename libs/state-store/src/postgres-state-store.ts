import { ClientBase, Pool, PoolConfig } from 'pg';

import { VersionConflictError } from './errors';
import { checkFence, inTransaction, Queryable } from './fence';
import { migrate, MigrationResult } from './migrations';
import {
  checkExpectedVersion,
  checkKey,
  ConsumeOptions,
  ConsumeResult,
  InboxEntry,
  InboxHandler,
  JsonValue,
  SaveOptions,
  StateStore,
  Versioned,
} from './state-store';

const DEFAULT_CONSUME_LIMIT = 1000;

interface DocumentRow {
  version: string;
  document: unknown;
}

interface InboxRow {
  id: string;
  payload: unknown;
  appended_at: Date;
}

/** The stored version of `key` (0: none), read in `tx`. */
async function storedVersion(tx: Queryable, key: string): Promise<number> {
  const { rows } = await tx.query<{ version: string }>(
    'SELECT version::text AS version FROM state_documents WHERE key = $1',
    [key],
  );
  return rows[0] ? Number(rows[0].version) : 0;
}

/**
 * Saves a document in the transaction open on `tx` (the building block of `PostgresStateStore.save`, for writes
 * that go with others, e.g. inside `fence`). `expectedVersion` as in `SaveOptions`; resolves to the new version.
 */
export async function saveDocument(
  tx: Queryable,
  key: string,
  document: unknown,
  expectedVersion?: number,
): Promise<number> {
  checkKey(key);
  checkExpectedVersion(expectedVersion);
  const json = JSON.stringify(document);
  let rows: { version: string }[];
  if (expectedVersion === undefined) {
    ({ rows } = await tx.query<{ version: string }>(
      `INSERT INTO state_documents (key, version, document) VALUES ($1, 1, $2::jsonb)
       ON CONFLICT (key) DO UPDATE
         SET version = state_documents.version + 1, document = excluded.document, updated_at = now()
       RETURNING version::text AS version`,
      [key, json],
    ));
  } else if (expectedVersion === 0) {
    ({ rows } = await tx.query<{ version: string }>(
      `INSERT INTO state_documents (key, version, document) VALUES ($1, 1, $2::jsonb)
       ON CONFLICT (key) DO NOTHING RETURNING version::text AS version`,
      [key, json],
    ));
  } else {
    ({ rows } = await tx.query<{ version: string }>(
      `UPDATE state_documents SET version = version + 1, document = $3::jsonb, updated_at = now()
        WHERE key = $1 AND version = $2 RETURNING version::text AS version`,
      [key, expectedVersion, json],
    ));
  }
  if (!rows[0]) throw new VersionConflictError(key, expectedVersion ?? 0, await storedVersion(tx, key));
  return Number(rows[0].version);
}

/**
 * The server ends a session idle inside a transaction for this long (`idle_in_transaction_session_timeout`, ms),
 * unless the pool settings say otherwise: a holder paused inside a fenced write (a stopped process, a frozen VM)
 * keeps the lease row locked, and without it no other replica could ever take the lease over.
 */
export const DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS = 5000;

export interface PostgresStateStoreOptions {
  /**
   * `pg.Pool` settings (connectionString, host, port, ...). Connect directly, not through a transaction pooler.
   * `idle_in_transaction_session_timeout` defaults to `DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS` (0: never); keep it
   * below the lease duration so that a paused holder's lock is gone by the time its lease expires.
   */
  pool: PoolConfig;
  /** Called when an idle pooled connection fails (e.g. the server restarted); the pool drops it either way. */
  onPoolError?: (error: Error) => void;
}

/**
 * The state store on PostgreSQL (`pg` Pool): documents in `state_documents` (key, version, jsonb), the inbox in
 * `state_inbox`. Every save is one transaction; `consume` reads, applies, saves and deletes in one transaction.
 * `start()` creates and migrates the schema (safe when several replicas start at once).
 */
export class PostgresStateStore implements StateStore {
  readonly kind = 'postgres' as const;
  /** The pool, for `fence(store.pool, ...)` and other transactions on the same database. */
  readonly pool: Pool;
  /** What `start()` did to the schema. */
  migration: MigrationResult | null = null;

  constructor(options: PostgresStateStoreOptions) {
    this.pool = new Pool({
      idle_in_transaction_session_timeout: DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      ...options.pool,
    });
    // Without a listener, an idle connection's error (a server restart) would be thrown at the process.
    this.pool.on('error', (error) => options.onPoolError?.(error));
  }

  async start(): Promise<void> {
    this.migration = await migrate(this.pool);
  }

  async load<T = JsonValue>(key: string): Promise<Versioned<T> | null> {
    checkKey(key);
    const { rows } = await this.pool.query<DocumentRow>(
      'SELECT version::text AS version, document FROM state_documents WHERE key = $1',
      [key],
    );
    return rows[0] ? { document: rows[0].document as T, version: Number(rows[0].version) } : null;
  }

  async save<T = JsonValue>(key: string, document: T, options: SaveOptions = {}): Promise<number> {
    checkKey(key);
    checkExpectedVersion(options.expectedVersion);
    return inTransaction(this.pool, async (tx) => {
      if (options.fence) await checkFence(tx, options.fence);
      return saveDocument(tx, key, document, options.expectedVersion);
    });
  }

  async append<P = JsonValue>(key: string, payload: P): Promise<string> {
    checkKey(key);
    const { rows } = await this.pool.query<{ id: string }>(
      'INSERT INTO state_inbox (key, payload) VALUES ($1, $2::jsonb) RETURNING id::text AS id',
      [key, JSON.stringify(payload)],
    );
    return rows[0].id;
  }

  /** The keys whose inbox holds entries not consumed yet: what a leader's consume loop visits. */
  async pendingKeys(): Promise<string[]> {
    const { rows } = await this.pool.query<{ key: string }>('SELECT DISTINCT key FROM state_inbox');
    return rows.map((row) => row.key);
  }

  async pending<P = JsonValue>(key: string): Promise<InboxEntry<P>[]> {
    checkKey(key);
    const { rows } = await this.pool.query<InboxRow>(
      'SELECT id::text AS id, payload, appended_at FROM state_inbox WHERE key = $1 ORDER BY id',
      [key],
    );
    return rows.map((row) => ({ id: row.id, payload: row.payload as P, appendedAt: row.appended_at }));
  }

  /**
   * One transaction: lock the document row (if any), lock the oldest entries (an entry another consumer holds is
   * waited for; one it deleted meanwhile is skipped), apply them, save the document, delete them, commit. A handler
   * that throws, a conflict or a lost connection leaves both as they were.
   */
  async consume<T = JsonValue, P = JsonValue>(
    key: string,
    handler: InboxHandler<T, P>,
    options: ConsumeOptions = {},
  ): Promise<ConsumeResult> {
    checkKey(key);
    const limit = options.limit ?? DEFAULT_CONSUME_LIMIT;
    return inTransaction(this.pool, async (tx: ClientBase) => {
      if (options.fence) await checkFence(tx, options.fence);
      const current = await tx.query<DocumentRow>(
        'SELECT version::text AS version, document FROM state_documents WHERE key = $1 FOR UPDATE',
        [key],
      );
      const currentDoc: Versioned<T> | null = current.rows[0]
        ? { document: current.rows[0].document as T, version: Number(current.rows[0].version) }
        : null;
      const { rows } = await tx.query<InboxRow>(
        `SELECT id::text AS id, payload, appended_at FROM state_inbox WHERE key = $1
          ORDER BY id LIMIT $2 FOR UPDATE`,
        [key, limit],
      );
      if (rows.length === 0) return { consumed: 0, version: currentDoc?.version ?? 0 };
      const entries = rows.map((row) => ({
        id: row.id,
        payload: row.payload as P,
        appendedAt: row.appended_at,
      }));
      const next = await handler(entries, currentDoc);
      const version = await saveDocument(tx, key, next, currentDoc?.version ?? 0);
      const deleted = await tx.query('DELETE FROM state_inbox WHERE id = ANY($1::bigint[])', [
        entries.map((e) => e.id),
      ]);
      if (deleted.rowCount !== entries.length)
        throw new Error(`inbox of "${key}": ${entries.length} entries locked, ${deleted.rowCount} deleted`);
      return { consumed: entries.length, version };
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
