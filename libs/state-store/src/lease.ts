import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';

import { Client, ClientConfig } from 'pg';

import { FencedError } from './errors';
import { FenceSpec } from './fence-spec';

export type Role = 'leader' | 'follower';

/**
 * Why a term ended: `lost` (a renew found the lease no longer ours), `renew-deadline` (no successful renew within
 * `renewDeadlineSeconds`: the database cannot be reached, or answers too slowly), `stopped` (`stop()` was called).
 */
export type StopReason = 'lost' | 'renew-deadline' | 'stopped';

/** What `GET /leadership` answers: this replica's role and the lease as last seen. */
export interface LeaseState {
  role: Role;
  /** The holder as last observed (null: never held, or not read yet). */
  holder: string | null;
  epoch: number | null;
  /** The expiry as last observed, by the database clock (file mode: null, it never expires). */
  leaseExpiresAt: Date | null;
}

/** The events of a lease (both implementations). */
export interface LeaseEvents {
  /** A term starts: `signal` is aborted the moment it ends (pass it to every wait the leader makes). */
  startedLeading: [epoch: number, signal: AbortSignal];
  /** A term ended (already aborted): stop acting now. */
  stoppedLeading: [reason: StopReason, epoch: number];
  /** A successful renew (leader) with the new expiry. */
  renewed: [expiresAt: Date];
  /** An acquire or renew attempt failed (connection, timeout, SQL): retried every retry period. */
  attemptFailed: [error: Error];
}

export interface StopOptions {
  /**
   * Expire the lease at once if we hold it, so another replica takes over without waiting for the expiry
   * (default true). Only once everything the lease guards has finished: like client-go's ReleaseOnCancel.
   */
  release?: boolean;
}

/** Leadership, either engine: who leads, the current term's epoch and abort signal, and a fence spec for writes. */
export interface Leadership {
  readonly name: string;
  readonly holder: string;
  /** Makes the first attempt (so `state()` is meaningful when it resolves), then keeps trying in the background. */
  start(): Promise<void>;
  /** Stops acquiring and renewing; ends a term in progress (`stoppedLeading('stopped')`). */
  stop(options?: StopOptions): Promise<void>;
  state(): LeaseState;
  isLeader(): boolean;
  /** The current term's signal (aborted when it ends); null when not leading. */
  readonly signal: AbortSignal | null;
  /** The fence for a write that needs the lease for `minRemainingSeconds` more; throws `FencedError` unless leading. */
  fenceSpec(minRemainingSeconds: number): FenceSpec;
  on<E extends keyof LeaseEvents>(event: E, listener: (...args: LeaseEvents[E]) => void): this;
  off<E extends keyof LeaseEvents>(event: E, listener: (...args: LeaseEvents[E]) => void): this;
}

export interface LeaseSettings {
  /** How long a lease lasts after an acquire or renew (database clock). Default 15 (Kubernetes' LeaseDuration). */
  durationSeconds: number;
  /** A leader that has not renewed for this long stops leading. Default 10 (RenewDeadline); < duration. */
  renewDeadlineSeconds: number;
  /** Period of acquire attempts (follower) and renews (leader). Default 2 (RetryPeriod); < renew deadline. */
  retryPeriodSeconds: number;
}

export const DEFAULT_LEASE_SETTINGS: LeaseSettings = {
  durationSeconds: 15,
  renewDeadlineSeconds: 10,
  retryPeriodSeconds: 2,
};

export const DEFAULT_LEASE_NAME = 'control-plane';

/** A holder identity unique to this process: `<hostname>/<pid>/<random>` (a restarted process is a new holder). */
export function defaultHolder(): string {
  return `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
}

export function checkLeaseSettings(s: LeaseSettings): void {
  const { durationSeconds: d, renewDeadlineSeconds: r, retryPeriodSeconds: p } = s;
  if (!(p > 0 && r > p && d > r))
    throw new Error(
      `lease settings need duration > renew deadline > retry period > 0 (got ${d} / ${r} / ${p} s)`,
    );
}

export interface PostgresLeaseOptions extends Partial<LeaseSettings> {
  /**
   * Connection settings of the lease's own `pg.Client`, never shared and never taken from a pool. Connect to the
   * server directly, not through a transaction pooler (PgBouncer): nothing here relies on session state, but a
   * pooler's own connection limits and queues would time the renews.
   */
  client: ClientConfig;
  /** The lease row's name; default `control-plane`. */
  name?: string;
  /** This replica's identity; default `defaultHolder()`. */
  holder?: string;
  onStartedLeading?: (epoch: number, signal: AbortSignal) => void;
  onStoppedLeading?: (reason: StopReason, epoch: number) => void;
}

interface LeaseRow {
  holder: string | null;
  epoch: string;
  expires_at: Date;
  taken?: boolean;
  now?: Date;
}

interface Term {
  epoch: number;
  controller: AbortController;
  /** performance.now() by which a renew must have succeeded (measured from the send of the last good one). */
  deadlineAt: number;
  timer: NodeJS.Timeout;
}

/**
 * Takes the lease when it is free or expired and increments the epoch on every acquisition (so on every change of
 * holder). Never an unexpired lease, not even one recorded under this holder's own name: two replicas given the same
 * name (a copy-pasted REPLICA_ID) would otherwise take it from each other at every retry; a replica restarted under
 * its old name waits for the expiry like any other.
 */
const ACQUIRE = `
  WITH taken AS (
    UPDATE leases
       SET holder = $2, epoch = epoch + 1, expires_at = now() + make_interval(secs => $3::float8),
           acquired_at = now(), renewed_at = now()
     WHERE name = $1 AND (holder IS NULL OR expires_at <= now())
    RETURNING holder, epoch, expires_at)
  SELECT holder, epoch::text AS epoch, expires_at, true AS taken, now() AS now FROM taken
  UNION ALL
  SELECT holder, epoch::text, expires_at, false, now() FROM leases
   WHERE name = $1 AND NOT EXISTS (SELECT 1 FROM taken)`;

/** Extends the lease only while holder and epoch still match and it has not expired. */
const RENEW = `
  UPDATE leases SET expires_at = now() + make_interval(secs => $4::float8), renewed_at = now()
   WHERE name = $1 AND holder = $2 AND epoch = $3 AND expires_at > now()
  RETURNING holder, epoch::text AS epoch, expires_at`;

const RELEASE = `
  UPDATE leases SET expires_at = now(), renewed_at = now()
   WHERE name = $1 AND holder = $2 AND epoch = $3 AND expires_at > now()`;

const OBSERVE = `SELECT holder, epoch::text AS epoch, expires_at, false AS taken, now() AS now
  FROM leases WHERE name = $1`;

const CREATE_ROW = `INSERT INTO leases (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`;

/**
 * Leader election on a PostgreSQL row (`leases`, created by the state store's migrations), timed by the database
 * clock only: expiry is `now()` + duration in SQL, compared with `now()` in SQL; the host clock is never compared
 * with it. The host's monotonic clock only times the local renew deadline, which can only make this replica stop
 * earlier than its lease ends.
 *
 * Every retry period a follower tries to take the lease, a leader renews it, on one dedicated connection
 * (reconnected after any failure). The term ends, and `stoppedLeading` fires and its signal aborts, the moment a
 * renew finds the lease gone, or when the renew deadline passes without a successful renew (the connection is then
 * dropped, abandoning a renew still in flight).
 */
export class PostgresLease extends EventEmitter<LeaseEvents> implements Leadership {
  readonly name: string;
  readonly holder: string;
  readonly settings: LeaseSettings;
  private connection: Client | null = null;
  private term: Term | null = null;
  private observed: { holder: string | null; epoch: number | null; expiresAt: Date | null } = {
    holder: null,
    epoch: null,
    expiresAt: null,
  };
  private running: AbortController | null = null;
  private loop: Promise<void> | null = null;

  constructor(private readonly options: PostgresLeaseOptions) {
    super();
    this.name = options.name ?? DEFAULT_LEASE_NAME;
    this.holder = options.holder ?? defaultHolder();
    this.settings = {
      durationSeconds: options.durationSeconds ?? DEFAULT_LEASE_SETTINGS.durationSeconds,
      renewDeadlineSeconds: options.renewDeadlineSeconds ?? DEFAULT_LEASE_SETTINGS.renewDeadlineSeconds,
      retryPeriodSeconds: options.retryPeriodSeconds ?? DEFAULT_LEASE_SETTINGS.retryPeriodSeconds,
    };
    checkLeaseSettings(this.settings);
  }

  get signal(): AbortSignal | null {
    return this.term?.controller.signal ?? null;
  }

  isLeader(): boolean {
    return this.term !== null;
  }

  state(): LeaseState {
    return {
      role: this.term ? 'leader' : 'follower',
      holder: this.observed.holder,
      epoch: this.observed.epoch,
      leaseExpiresAt: this.observed.expiresAt,
    };
  }

  fenceSpec(minRemainingSeconds: number): FenceSpec {
    if (!this.term) throw new FencedError('not-leader', `${this.holder} does not lead "${this.name}"`);
    return { name: this.name, holder: this.holder, epoch: this.term.epoch, minRemainingSeconds };
  }

  async start(): Promise<void> {
    if (this.running) return;
    const running = new AbortController();
    this.running = running;
    await this.attempt();
    this.loop = this.run(running.signal);
  }

  async stop(options: StopOptions = {}): Promise<void> {
    const running = this.running;
    if (!running) return;
    running.abort();
    await this.loop;
    this.running = null;
    this.loop = null;
    const term = this.term;
    if (term) {
      this.endTerm(term, 'stopped');
      if (options.release ?? true)
        await this.query(RELEASE, [this.name, this.holder, term.epoch], this.retryMs()).catch(
          (error: Error) => this.emit('attemptFailed', error),
        );
    }
    this.dropConnection();
  }

  private retryMs(): number {
    return this.settings.retryPeriodSeconds * 1000;
  }

  private async run(stop: AbortSignal): Promise<void> {
    while (!stop.aborted) {
      await sleep(this.retryMs(), stop);
      if (!stop.aborted) await this.attempt();
    }
  }

  /** One acquire (follower) or renew (leader). Never throws. */
  private async attempt(): Promise<void> {
    const term = this.term;
    try {
      if (term) await this.renew(term);
      else await this.acquire();
    } catch (error) {
      this.emit('attemptFailed', error as Error);
    }
  }

  private async acquire(): Promise<void> {
    const sentAt = performance.now();
    const timeout = this.settings.renewDeadlineSeconds * 1000;
    let rows = await this.query<LeaseRow>(
      ACQUIRE,
      [this.name, this.holder, this.settings.durationSeconds],
      timeout,
    );
    if (rows.length === 0) {
      await this.query(CREATE_ROW, [this.name], timeout);
      rows = await this.query<LeaseRow>(
        ACQUIRE,
        [this.name, this.holder, this.settings.durationSeconds],
        timeout,
      );
    }
    let row = rows[0];
    if (!row) return;
    if (
      !row.taken &&
      (row.holder === null ||
        row.holder === this.holder ||
        (row.now !== undefined && row.expires_at <= row.now))
    ) {
      // Not taken although it looked free: another contender's acquire committed while ours waited for the row;
      // the statement's snapshot predates it. Read it again to observe the new holder.
      const fresh = await this.query<LeaseRow>(OBSERVE, [this.name], timeout);
      if (fresh[0]) row = fresh[0];
    }
    this.observe(row);
    if (row.taken && this.running && !this.running.signal.aborted) this.startTerm(Number(row.epoch), sentAt);
  }

  private async renew(term: Term): Promise<void> {
    const sentAt = performance.now();
    const left = term.deadlineAt - sentAt;
    if (left <= 0) return this.endTerm(term, 'renew-deadline');
    const rows = await this.query<LeaseRow>(
      RENEW,
      [this.name, this.holder, term.epoch, this.settings.durationSeconds],
      left,
    );
    if (this.term !== term) return; // ended meanwhile (deadline): this answer is too late to count
    const row = rows[0];
    if (!row) return this.endTerm(term, 'lost');
    this.observe(row);
    term.deadlineAt = sentAt + this.settings.renewDeadlineSeconds * 1000;
    this.armDeadline(term);
    this.emit('renewed', row.expires_at);
  }

  private startTerm(epoch: number, sentAt: number): void {
    const controller = new AbortController();
    const term: Term = {
      epoch,
      controller,
      deadlineAt: sentAt + this.settings.renewDeadlineSeconds * 1000,
      timer: undefined as unknown as NodeJS.Timeout,
    };
    this.term = term;
    this.armDeadline(term);
    this.notify(() => this.options.onStartedLeading?.(epoch, controller.signal));
    this.notify(() => this.emit('startedLeading', epoch, controller.signal));
  }

  private armDeadline(term: Term): void {
    clearTimeout(term.timer);
    term.timer = setTimeout(
      () => {
        if (this.term !== term) return;
        this.endTerm(term, 'renew-deadline');
        // A renew may still hang on this connection: abandon it; the next attempt reconnects.
        this.dropConnection();
      },
      Math.max(0, term.deadlineAt - performance.now()),
    );
  }

  private endTerm(term: Term, reason: StopReason): void {
    if (this.term !== term) return;
    this.term = null;
    clearTimeout(term.timer);
    term.controller.abort(new Error(`stopped leading "${this.name}" (epoch ${term.epoch}): ${reason}`));
    this.notify(() => this.options.onStoppedLeading?.(reason, term.epoch));
    this.notify(() => this.emit('stoppedLeading', reason, term.epoch));
  }

  /** Runs a listener; one that throws must not stop the lease's own bookkeeping. */
  private notify(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  private observe(row: LeaseRow): void {
    this.observed = { holder: row.holder, epoch: Number(row.epoch), expiresAt: row.expires_at };
  }

  /** One query on the dedicated connection (connecting first if needed), abandoned after `timeoutMs`. */
  private async query<R extends object>(sql: string, params: unknown[], timeoutMs: number): Promise<R[]> {
    const deadline = performance.now() + timeoutMs;
    const client = await this.connect(timeoutMs);
    try {
      const result = await withTimeout(
        client.query<R & Record<string, unknown>>(sql, params),
        Math.max(1, deadline - performance.now()),
      );
      return result.rows;
    } catch (error) {
      if (this.connection === client) this.dropConnection();
      throw error;
    }
  }

  private async connect(timeoutMs: number): Promise<Client> {
    if (this.connection) return this.connection;
    const client = new Client({ ...this.options.client, keepAlive: true });
    client.on('error', (error) => {
      if (this.connection === client) this.dropConnection();
      this.emit('attemptFailed', error);
    });
    try {
      await withTimeout(client.connect(), timeoutMs);
    } catch (error) {
      destroy(client);
      throw error;
    }
    this.connection = client;
    return client;
  }

  private dropConnection(): void {
    const client = this.connection;
    this.connection = null;
    if (client) destroy(client);
  }
}

/** Ends a client at once, whatever its connection's state (a severed or silent link would make `end()` wait). */
function destroy(client: Client): void {
  client.connection.stream.destroy();
  client.end().catch(() => undefined);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  promise.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${Math.round(ms)} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * File mode's lease: one process, so always the leader, epoch 1, never expiring. Same events and shape as
 * `PostgresLease` (`startedLeading(1)` at `start()`, `stoppedLeading('stopped')` at `stop()`).
 */
export class SoleLease extends EventEmitter<LeaseEvents> implements Leadership {
  readonly name: string;
  readonly holder: string;
  private controller: AbortController | null = null;

  constructor(
    private readonly options: Pick<
      PostgresLeaseOptions,
      'name' | 'holder' | 'onStartedLeading' | 'onStoppedLeading'
    > = {},
  ) {
    super();
    this.name = options.name ?? DEFAULT_LEASE_NAME;
    this.holder = options.holder ?? defaultHolder();
  }

  get signal(): AbortSignal | null {
    return this.controller?.signal ?? null;
  }

  isLeader(): boolean {
    return this.controller !== null;
  }

  state(): LeaseState {
    return {
      role: this.controller ? 'leader' : 'follower',
      holder: this.holder,
      epoch: 1,
      leaseExpiresAt: null,
    };
  }

  fenceSpec(minRemainingSeconds: number): FenceSpec {
    if (!this.controller) throw new FencedError('not-leader', `${this.holder} is stopped`);
    return { name: this.name, holder: this.holder, epoch: 1, minRemainingSeconds };
  }

  start(): Promise<void> {
    if (!this.controller) {
      const controller = new AbortController();
      this.controller = controller;
      this.options.onStartedLeading?.(1, controller.signal);
      this.emit('startedLeading', 1, controller.signal);
    }
    return Promise.resolve();
  }

  stop(): Promise<void> {
    const controller = this.controller;
    if (controller) {
      this.controller = null;
      controller.abort(new Error(`stopped leading "${this.name}": stopped`));
      this.options.onStoppedLeading?.('stopped', 1);
      this.emit('stoppedLeading', 'stopped', 1);
    }
    return Promise.resolve();
  }
}
