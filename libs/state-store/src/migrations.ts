import { Pool } from 'pg';

import { inTransaction } from './fence';

/** One step of the schema: plain SQL, applied once, in its own transaction, in `version` order. Never edit one. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The schema, as versioned SQL. Append new versions at the end; an applied migration is never changed (its
 * version is recorded in `schema_migrations`).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'documents, inbox and leases',
    sql: `
      CREATE TABLE state_documents (
        key         text PRIMARY KEY,
        version     bigint NOT NULL CHECK (version > 0),
        document    jsonb NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE state_inbox (
        id          bigserial PRIMARY KEY,
        key         text NOT NULL,
        payload     jsonb NOT NULL,
        appended_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX state_inbox_key_id ON state_inbox (key, id);
      CREATE TABLE leases (
        name        text PRIMARY KEY,
        holder      text,
        epoch       bigint NOT NULL DEFAULT 0,
        expires_at  timestamptz NOT NULL DEFAULT '-infinity',
        acquired_at timestamptz,
        renewed_at  timestamptz
      );
    `,
  },
];

/**
 * A constant key for `pg_advisory_xact_lock`: every replica that migrates takes it first inside the migration's
 * transaction, so two replicas starting at once apply each migration once, one after the other. A transaction-level
 * lock is released by COMMIT or ROLLBACK (and by the server when the session dies): nothing outlives the transaction.
 */
export const MIGRATION_LOCK_KEY = 0x5354_4154; // 'STAT'

export interface MigrationResult {
  /** Versions this call applied (empty: the schema was up to date). */
  applied: number[];
  /** The highest version in the database afterwards (may be newer than this code's, after a newer replica ran). */
  current: number;
}

/**
 * Creates and migrates the schema: for each migration, one transaction that takes the migration lock, creates
 * `schema_migrations` if needed, and applies the migration unless its version is recorded there.
 */
export async function migrate(
  pool: Pool,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationResult> {
  const applied: number[] = [];
  let current = 0;
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  for (const migration of ordered) {
    const done = await inTransaction(pool, async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const { rowCount } = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [
        migration.version,
      ]);
      if (rowCount) return false;
      await tx.query(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      return true;
    });
    if (done) applied.push(migration.version);
  }
  const { rows } = await pool.query<{ current: number | null }>(
    'SELECT max(version) AS current FROM schema_migrations',
  );
  current = rows[0]?.current ?? 0;
  return { applied, current };
}
