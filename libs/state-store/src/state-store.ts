import { FenceSpec } from './fence-spec';

/** Any value that survives `JSON.stringify` / `JSON.parse` unchanged: what a state document or payload may hold. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A document as stored, with its version: 1 after the first save, +1 after each save. */
export interface Versioned<T> {
  document: T;
  version: number;
}

export interface SaveOptions {
  /**
   * Optimistic concurrency: the version the caller read (`0`: the document must not exist yet). A different stored
   * version throws `VersionConflictError` and writes nothing. Omitted: the save is unconditional.
   */
  expectedVersion?: number;
  /**
   * Write only while this replica holds the lease with this epoch (checked in the same transaction as the write;
   * see `fence`). A refused fence throws `FencedError` and writes nothing. The file store has one writer by
   * construction (`SoleLease`) and ignores it.
   */
  fence?: FenceSpec;
}

/** One webhook signal (or any other message) waiting in a document's inbox. */
export interface InboxEntry<P> {
  /** Increasing within a key (a decimal string: PostgreSQL's bigint). */
  id: string;
  payload: P;
  /** When it was appended (the database clock in PostgreSQL, the host clock in the file store). */
  appendedAt: Date;
}

export interface ConsumeOptions {
  /** At most this many entries (oldest first) per call; default 1000. */
  limit?: number;
  /** As in `SaveOptions.fence`. */
  fence?: FenceSpec;
}

export interface ConsumeResult {
  /** Entries applied and removed (0: the inbox was empty; the handler was not called, nothing was written). */
  consumed: number;
  /** The document's version after the call (0: there is no document). */
  version: number;
}

/**
 * Applies inbox entries to the current document (null: none yet) and returns the new document. Called at most
 * once per `consume`; throwing rolls everything back (the entries stay, the document is unchanged).
 */
export type InboxHandler<T, P> = (entries: InboxEntry<P>[], current: Versioned<T> | null) => T | Promise<T>;

/**
 * The control plane's durable state: JSON documents by key (e.g. one per pool), each saved whole and atomically
 * with a version for optimistic concurrency, and an append-only inbox per key that any replica may write
 * (webhook signals) and the leader consumes exactly once, in the same atomic step as the document's save.
 *
 * Keys: 1 to 200 characters of `A-Z a-z 0-9 . _ : -`, starting with a letter or digit. Documents and payloads are
 * JSON (`JsonValue`); the store does not look inside them. Two implementations: `FileStateStore` (one process, a
 * directory) and `PostgresStateStore` (any number of replicas, one database).
 */
export interface StateStore {
  readonly kind: 'file' | 'postgres';
  /** Prepares the store (the directory; the schema and its migrations). Call once before anything else. */
  start(): Promise<void>;
  /** The document and its version, or null when there is none. */
  load<T = JsonValue>(key: string): Promise<Versioned<T> | null>;
  /** Saves the whole document atomically; resolves to its new version. */
  save<T = JsonValue>(key: string, document: T, options?: SaveOptions): Promise<number>;
  /** Appends a payload to the key's inbox; resolves to its id. Any replica, leader or not, may append. */
  append<P = JsonValue>(key: string, payload: P): Promise<string>;
  /** The key's inbox entries not consumed yet, oldest first (read only). */
  pending<P = JsonValue>(key: string): Promise<InboxEntry<P>[]>;
  /**
   * Applies the pending entries with `handler` and, atomically, saves the document it returns and removes the
   * entries: each entry is applied exactly once, whatever crashes. Meant for the leader only.
   */
  consume<T = JsonValue, P = JsonValue>(
    key: string,
    handler: InboxHandler<T, P>,
    options?: ConsumeOptions,
  ): Promise<ConsumeResult>;
  /** Releases files or connections. */
  close(): Promise<void>;
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

/** Throws on a key outside the documented alphabet (the same rule in both stores, so keys move between them). */
export function checkKey(key: string): void {
  if (!KEY.test(key)) throw new Error(`invalid state key ${JSON.stringify(key)}: expected ${KEY.source}`);
}

export function checkExpectedVersion(expected: number | undefined): void {
  if (expected !== undefined && !(Number.isSafeInteger(expected) && expected >= 0))
    throw new Error(`invalid expectedVersion ${expected}: expected an integer >= 0`);
}
