import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

import { writeFileAtomically } from '@app/prometheus-sd';

import { CorruptDocumentError, VersionConflictError } from './errors';
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

/**
 * The file a document is kept in: `<dir>/<key>.json`, holding this envelope. A file without `storeFormat` (a plain
 * JSON document written before the store, e.g. today's `state.json`) loads as version 1 with the whole file as the
 * document; the next save writes the envelope.
 */
interface Envelope {
  storeFormat: 1;
  version: number;
  savedAt: string;
  /** Inbox entries up to this id are applied to `document` (their files may remain after a crash: skipped). */
  inboxAppliedThrough: number;
  document: unknown;
}

/** An inbox entry's file: `<dir>/<key>.inbox/<id, 16 digits>.json`. */
interface InboxFile {
  appendedAt: string;
  payload: unknown;
}

const ID_DIGITS = 16;
const DEFAULT_CONSUME_LIMIT = 1000;

function isEnvelope(value: unknown): value is Envelope {
  const v = value as Partial<Envelope> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    v.storeFormat === 1 &&
    Number.isSafeInteger(v.version) &&
    Number.isSafeInteger(v.inboxAppliedThrough) &&
    'document' in v
  );
}

export interface FileStateStoreOptions {
  /** The directory (created if missing), e.g. STATE_DIR. */
  dir: string;
  /** File mode of documents and inbox entries; default 0o600. */
  mode?: number;
  /** The clock of `savedAt` and `appendedAt` (ms); default `Date.now`. */
  now?: () => number;
}

/**
 * The state store in a directory, for one process (file mode: no database, `SoleLease`): a document per key in
 * `<key>.json`, written atomically (temporary file, fsync, rename: a crash leaves the old file or the new one) and
 * an inbox per key as one file per entry in `<key>.inbox/`. Operations on one key are serialised in the process,
 * which makes `expectedVersion` exact. `consume` is exactly-once: the document's envelope records the last entry
 * it applied (the commit point is the rename); entries are deleted after, and any left by a crash are skipped.
 */
export class FileStateStore implements StateStore {
  readonly kind = 'file' as const;
  private readonly mode: number;
  private readonly now: () => number;
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly nextIds = new Map<string, number>();

  constructor(private readonly options: FileStateStoreOptions) {
    this.mode = options.mode ?? 0o600;
    this.now = options.now ?? Date.now;
  }

  get dir(): string {
    return this.options.dir;
  }

  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  /** The path of a key's document. */
  pathOf(key: string): string {
    checkKey(key);
    return join(this.dir, `${key}.json`);
  }

  private inboxDir(key: string): string {
    return join(this.dir, `${key}.inbox`);
  }

  async load<T = JsonValue>(key: string): Promise<Versioned<T> | null> {
    return this.serial(key, async () => {
      const envelope = await this.read(key);
      return envelope ? { document: envelope.document as T, version: envelope.version } : null;
    });
  }

  async save<T = JsonValue>(key: string, document: T, options: SaveOptions = {}): Promise<number> {
    checkKey(key);
    checkExpectedVersion(options.expectedVersion);
    return this.serial(key, async () => {
      const current = await this.read(key);
      const version = current?.version ?? 0;
      if (options.expectedVersion !== undefined && options.expectedVersion !== version)
        throw new VersionConflictError(key, options.expectedVersion, version);
      await this.write(key, document, version + 1, current?.inboxAppliedThrough ?? 0);
      return version + 1;
    });
  }

  async append<P = JsonValue>(key: string, payload: P): Promise<string> {
    checkKey(key);
    return this.serial(key, async () => {
      const id = await this.nextId(key);
      const file: InboxFile = { appendedAt: new Date(this.now()).toISOString(), payload };
      await writeFileAtomically(
        join(this.inboxDir(key), `${formatId(id)}.json`),
        `${JSON.stringify(file)}\n`,
        this.mode,
      );
      this.nextIds.set(key, id + 1);
      return String(id);
    });
  }

  async pending<P = JsonValue>(key: string): Promise<InboxEntry<P>[]> {
    checkKey(key);
    return this.serial(key, async () => {
      const appliedThrough = (await this.read(key))?.inboxAppliedThrough ?? 0;
      return this.readInbox<P>(key, appliedThrough, Number.MAX_SAFE_INTEGER);
    });
  }

  async consume<T = JsonValue, P = JsonValue>(
    key: string,
    handler: InboxHandler<T, P>,
    options: ConsumeOptions = {},
  ): Promise<ConsumeResult> {
    checkKey(key);
    const limit = options.limit ?? DEFAULT_CONSUME_LIMIT;
    return this.serial(key, async () => {
      const current = await this.read(key);
      const appliedThrough = current?.inboxAppliedThrough ?? 0;
      await this.removeApplied(key, appliedThrough);
      const entries = await this.readInbox<P>(key, appliedThrough, limit);
      if (entries.length === 0) return { consumed: 0, version: current?.version ?? 0 };
      const next = await handler(
        entries,
        current ? { document: current.document as T, version: current.version } : null,
      );
      const version = (current?.version ?? 0) + 1;
      const last = Number(entries[entries.length - 1].id);
      // The commit point: the document and the entries it applied, in one rename.
      await this.write(key, next, version, last);
      await this.removeApplied(key, last);
      return { consumed: entries.length, version };
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.catch(() => undefined)));
  }

  /** Runs `fn` after every earlier operation on `key` (in this process) has finished. */
  private serial<R>(key: string, fn: () => Promise<R>): Promise<R> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(fn);
    const tail = run.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return run;
  }

  private async read(key: string): Promise<Envelope | null> {
    const path = this.pathOf(key);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new CorruptDocumentError(key, path, (error as Error).message);
    }
    if (isEnvelope(value)) return value;
    if (typeof value === 'object' && value !== null && 'storeFormat' in value)
      throw new CorruptDocumentError(key, path, 'unknown storeFormat or a malformed envelope');
    // A plain document written before the store.
    return { storeFormat: 1, version: 1, savedAt: '', inboxAppliedThrough: 0, document: value };
  }

  private async write(
    key: string,
    document: unknown,
    version: number,
    inboxAppliedThrough: number,
  ): Promise<void> {
    const envelope: Envelope = {
      storeFormat: 1,
      version,
      savedAt: new Date(this.now()).toISOString(),
      inboxAppliedThrough,
      document,
    };
    await writeFileAtomically(this.pathOf(key), `${JSON.stringify(envelope)}\n`, this.mode);
  }

  /** The ids of the entry files in the key's inbox, ascending. */
  private async inboxIds(key: string): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.inboxDir(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return names
      .filter((name) => /^\d+\.json$/.test(name))
      .map((name) => Number(name.slice(0, -'.json'.length)))
      .sort((a, b) => a - b);
  }

  private async nextId(key: string): Promise<number> {
    const known = this.nextIds.get(key);
    if (known !== undefined) return known;
    const ids = await this.inboxIds(key);
    const appliedThrough = (await this.read(key))?.inboxAppliedThrough ?? 0;
    return Math.max(appliedThrough, ids[ids.length - 1] ?? 0) + 1;
  }

  private async readInbox<P>(key: string, after: number, limit: number): Promise<InboxEntry<P>[]> {
    const ids = (await this.inboxIds(key)).filter((id) => id > after).slice(0, limit);
    const entries: InboxEntry<P>[] = [];
    for (const id of ids) {
      const path = join(this.inboxDir(key), `${formatId(id)}.json`);
      let file: InboxFile;
      try {
        file = JSON.parse(await readFile(path, 'utf8')) as InboxFile;
      } catch (error) {
        throw new CorruptDocumentError(key, path, (error as Error).message);
      }
      entries.push({ id: String(id), payload: file.payload as P, appendedAt: new Date(file.appendedAt) });
    }
    return entries;
  }

  /** Deletes the entry files up to `through` (already applied to the document). */
  private async removeApplied(key: string, through: number): Promise<void> {
    const ids = (await this.inboxIds(key)).filter((id) => id <= through);
    for (const id of ids)
      await unlink(join(this.inboxDir(key), `${formatId(id)}.json`)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
  }
}

function formatId(id: number): string {
  return String(id).padStart(ID_DIGITS, '0');
}
