import { Logger } from '@nestjs/common';

import {
  DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS,
  PostgresLease,
  PostgresStateStore,
  Versioned,
} from '@app/state-store';

import { Settings, SettingsError } from '../config/settings';

/**
 * High availability (docs/architecture.md §4, "Two replicas"): with DATABASE_URL, every replica keeps its pools'
 * state in PostgreSQL and competes for one lease; only the leader ticks and writes, every write fenced by its epoch.
 * Without it, the state file and a lease this process always holds (epoch 1): one process, as before.
 */
export interface HaRuntime {
  store: PostgresStateStore;
  lease: PostgresLease;
}

/** A pool's document (and inbox) key in the state store. */
export const poolKey = (id: string) => `pool:${id.toLowerCase()}`;

/** Connect timeouts and statement limits: a database that hangs must not hold a tick or a webhook for long. */
const STATEMENT_TIMEOUT_MS = 5000;

/**
 * Opens the state store (creating or migrating the schema) and prepares the lease, not started yet.
 * @throws when the database cannot be reached or migrated: the process stops at boot with the reason (the URL,
 *   which holds a password, is never part of it)
 */
export async function startHa(
  settings: Settings,
  { retryForMs = 2 * settings.LEASE_DURATION_SECONDS * 1000 }: { retryForMs?: number } = {},
): Promise<HaRuntime | null> {
  if (!settings.DATABASE_URL) return null;
  const logger = new Logger('StateStore');
  const deadline = Date.now() + retryForMs;
  const store = new PostgresStateStore({
    pool: {
      connectionString: settings.DATABASE_URL,
      max: 10,
      connectionTimeoutMillis: STATEMENT_TIMEOUT_MS,
      statement_timeout: STATEMENT_TIMEOUT_MS,
      query_timeout: STATEMENT_TIMEOUT_MS,
      // A leader paused inside a fenced write holds the lease row's lock: the server ends its transaction after half
      // the lease, so the lock is gone by the expiry of a write fenced with that much left (a later one delays the
      // takeover by at most this long; without it, the takeover waited for ever).
      idle_in_transaction_session_timeout: idleInTransactionTimeoutMs(settings),
    },
    onPoolError: (error) => logger.warn({ msg: 'a pooled database connection failed', error: error.message }),
  });
  for (;;) {
    try {
      await store.start();
      break;
    } catch (error) {
      const reason = describeDatabaseError(error);
      if (Date.now() >= deadline) {
        await store.close().catch(() => undefined);
        throw new StateStoreUnavailableError(reason);
      }
      logger.warn({ msg: 'the state store cannot be reached yet; retrying', error: reason });
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    await checkIdleInTransactionTimeout(store, settings);
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  const lease = new PostgresLease({
    client: { connectionString: settings.DATABASE_URL, connectionTimeoutMillis: STATEMENT_TIMEOUT_MS },
    ...(settings.REPLICA_ID ? { holder: settings.REPLICA_ID } : {}),
    durationSeconds: settings.LEASE_DURATION_SECONDS,
    renewDeadlineSeconds: settings.LEASE_RENEW_DEADLINE_SECONDS,
    retryPeriodSeconds: settings.LEASE_RETRY_PERIOD_SECONDS,
  });
  return { store, lease };
}

/** The shortest idle-in-transaction timeout the control plane uses or accepts, ms. */
const MIN_IDLE_IN_TRANSACTION_TIMEOUT_MS = 500;

/** Half the lease, at most `DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS`, at least `MIN_IDLE_IN_TRANSACTION_TIMEOUT_MS`. */
function idleInTransactionTimeoutMs(settings: Settings): number {
  return Math.min(
    DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    Math.max(MIN_IDLE_IN_TRANSACTION_TIMEOUT_MS, Math.floor((settings.LEASE_DURATION_SECONDS * 1000) / 2)),
  );
}

/**
 * The timeout the server applies is the one the URL asks for, if it asks (`?idle_in_transaction_session_timeout=`;
 * `?options=-c ...` loses to the pool's own): refuse one that would let a leader paused in a write block every takeover (0, never) or
 * hold it past the lease.
 * @throws SettingsError (exit 1) naming DATABASE_URL and the value found
 */
async function checkIdleInTransactionTimeout(store: PostgresStateStore, settings: Settings): Promise<void> {
  const { rows } = await store.pool.query<{ ms: number }>(
    "SELECT setting::int AS ms FROM pg_settings WHERE name = 'idle_in_transaction_session_timeout'",
  );
  const ms = rows[0]?.ms;
  const leaseMs = settings.LEASE_DURATION_SECONDS * 1000;
  if (ms === undefined || (ms >= MIN_IDLE_IN_TRANSACTION_TIMEOUT_MS && ms < leaseMs)) return;
  const why =
    ms === 0
      ? 'a leader paused inside a write would keep the lease locked for ever'
      : ms < MIN_IDLE_IN_TRANSACTION_TIMEOUT_MS
        ? 'every transaction that waits that long between two statements would be ended (pg reads the value as whole milliseconds: "5s" is 5 ms)'
        : 'a leader paused inside a write would keep the lease locked past LEASE_DURATION_SECONDS';
  throw new SettingsError([
    `DATABASE_URL: the server applies idle_in_transaction_session_timeout = ${ms === 0 ? '0 (never)' : `${ms} ms`} (set in the URL, or dropped by a connection pooler): ${why}; leave it out of the URL (the control plane asks for ${idleInTransactionTimeoutMs(settings)} ms) or set it within ${MIN_IDLE_IN_TRANSACTION_TIMEOUT_MS}..${leaseMs - 1} ms, and connect directly`,
  ]);
}

/** The database could not be reached (or migrated) at start: the replica exits 75 and is started again. */
export class StateStoreUnavailableError extends Error {
  constructor(reason: string) {
    super(`DATABASE_URL: the state store cannot be reached: ${reason}`);
  }
}

/** A database error as one line, without the connection URL (it holds a password). */
function describeDatabaseError(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message.split('\n')[0] : String(error);
  return typeof e?.code === 'string' && !message.includes(e.code) ? `${e.code}: ${message}` : message;
}

/** Every pool's stored document, by pool id (null: none yet). */
export async function loadPoolDocuments(
  ha: HaRuntime,
  ids: string[],
): Promise<Map<string, Versioned<unknown> | null>> {
  const documents = new Map<string, Versioned<unknown> | null>();
  for (const id of ids) documents.set(id.toLowerCase(), await ha.store.load(poolKey(id)));
  return documents;
}
