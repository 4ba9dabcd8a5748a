import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

import { Injectable, Logger } from '@nestjs/common';

import { writeFileAtomically } from '@app/prometheus-sd';
import { FencedError, Leadership, StateStore, Versioned } from '@app/state-store';
import { Direction, SignalBookState } from '@app/scaling-policy';

import { Settings } from '../config/settings';
import { PartStatus } from '../discovery/discovery.service';
import { DeliveryLedger, DeliverySeen } from './delivery-ledger';
import { DecisionEntry, DecisionLogService } from './decision-log.service';
import { ReplacementState, ScaleRecord } from './scale-record';
import { SignalStore } from './signal-store';

/** What the scaling service itself must remember across a restart. */
export interface ScalingMemory {
  lastScaledAt: number | null;
  /** The write-ahead record of a scale call whose outcome is not settled yet (saved before the call is made). */
  record: ScaleRecord | null;
  /** A member's replacement in progress. */
  replacement?: ReplacementState | null;
}

/** The state file's part of an older version: a call with an unknown outcome, saved after the call. */
interface LegacyScalingMemory {
  lastScaledAt: number | null;
  unverified?: {
    target: number;
    from: number;
    calledAt: number;
    consumes: Direction[];
    steps: ScaleRecord['steps'];
  } | null;
}

function upgradeScaling(memory: ScalingMemory | LegacyScalingMemory): ScalingMemory {
  if ('record' in memory) return memory;
  const u = memory.unverified;
  return {
    lastScaledAt: memory.lastScaledAt,
    record: u
      ? {
          entryId: null,
          trigger: 'tick',
          from: u.from,
          to: u.target,
          calledAt: u.calledAt,
          consumes: u.consumes,
          steps: u.steps,
          operationId: null,
        }
      : null,
  };
}

interface StateDocument {
  version: 1;
  savedAt: string;
  signals: SignalBookState;
  scaling: ScalingMemory | LegacyScalingMemory;
  decisions: DecisionEntry[];
  /** Recent webhook deliveries, to recognise a duplicate (see WEBHOOK_DEDUP_SECONDS). */
  deliveries?: DeliverySeen[];
  /** The instance pool the state is about (absent in files of older versions). */
  poolId?: string;
}

export const STATE_FILE_NAME = 'state.json';
/** The newest decisions kept in the file (the in-memory log keeps more). */
const PERSISTED_DECISIONS = 200;

function isStateDocument(value: unknown): value is StateDocument {
  const v = value as Partial<StateDocument> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    v.version === 1 &&
    typeof v.signals === 'object' &&
    Array.isArray(v.signals?.alerts) &&
    Array.isArray(v.signals?.steps) &&
    typeof v.signals?.generation === 'number' &&
    typeof v.scaling === 'object' &&
    v.scaling !== null &&
    Array.isArray(v.decisions)
  );
}

/**
 * The control plane's memory across restarts: pending steps, alert state, the last scale time (and a call whose
 * outcome is unknown) and the newest decisions, in one small JSON file under STATE_DIR, written atomically after
 * each change. Loaded once at construction: a missing file starts clean; a corrupt or unreadable one starts clean
 * with a warning and is kept aside (`state.json.corrupt-<time>`), never a crash loop.
 */
@Injectable()
export class StateFile {
  private readonly logger = new Logger(StateFile.name);
  readonly path: string;
  readonly status: PartStatus = { lastSuccessAt: null, lastError: null, consecutiveFailures: 0 };
  /** What was restored for the scaling service. */
  readonly restored: ScalingMemory = { lastScaledAt: null, record: null };
  private scaling: ScalingMemory = { lastScaledAt: null, record: null };
  private readonly poolId: string | undefined;
  private writing: Promise<void> | null = null;
  private lastWriteOk = false;
  private again = false;

  /** The store's version of the document this process last read or wrote (store mode). */
  private version = 0;
  /** The next write must find the lease with more than this many seconds left (store mode; see `save`). */
  private fenceSeconds = 0;
  /** The last write was refused by the fence: this replica is not the leader any more (store mode). */
  fenced = false;

  /** Store mode: aborted the moment this replica's term as leader ends. */
  get termSignal(): AbortSignal | null {
    return this.backing?.lease.signal ?? null;
  }

  constructor(
    settings: Settings,
    private readonly signals: SignalStore,
    private readonly decisions: DecisionLogService,
    private readonly deliveries: DeliveryLedger,
    /** High availability: the document lives in the state store (PostgreSQL), written only through the fence. */
    private readonly backing?: StoreBacking,
  ) {
    this.poolId = settings.EXOSCALE_INSTANCEPOOL_ID?.toLowerCase();
    if (backing) {
      this.path = `${backing.store.kind}:${backing.key}`;
      if (backing.initial) this.reload(backing.initial);
      else this.logger.log({ msg: 'no state in the store yet: starting clean', key: backing.key });
      return;
    }
    this.path = join(settings.STATE_DIR, STATE_FILE_NAME);
    this.load();
  }

  /**
   * Replaces what is in memory with a document read from the store (a follower's refresh; a new leader's start):
   * the signals, the decision log, the deliveries, and the scaling memory (`restored`).
   */
  reload(stored: Versioned<unknown>): void {
    this.version = stored.version;
    Object.assign(this.restored, { lastScaledAt: null, record: null, replacement: null });
    const document = stored.document;
    if (!isStateDocument(document)) {
      this.logger.warn({ msg: 'the stored state is not valid: ignored', key: this.path });
      return;
    }
    this.restoreDocument(document);
  }

  private restoreDocument(document: StateDocument): void {
    this.signals.restore(document.signals);
    this.decisions.restore(document.decisions);
    this.deliveries.restore(document.deliveries ?? []);
    this.scaling = upgradeScaling(document.scaling);
    Object.assign(this.restored, this.scaling);
  }

  /**
   * Store mode, the leader: applies the inbox's webhook signals (`apply`, in order) and saves the resulting state in
   * the same transaction that removes them, fenced: each signal is applied exactly once. Resolves to how many were
   * applied. A failure (fence, database) rejects; the caller reloads the stored state, as nothing was saved.
   */
  async consumeInbox(apply: (payload: unknown) => void): Promise<number> {
    const backing = this.backing!;
    const result = await backing.store.consume(
      backing.key,
      (entries) => {
        for (const entry of entries) apply(entry.payload);
        return this.document();
      },
      { fence: backing.lease.fenceSpec(0) },
    );
    if (result.consumed > 0) this.version = result.version;
    return result.consumed;
  }

  private load(): void {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        this.logger.log({ msg: 'no state file yet: starting clean', path: this.path });
        return;
      }
      this.logger.warn({
        msg: 'state file unreadable: starting clean',
        path: this.path,
        error: String(error),
      });
      this.status.lastError = `cannot read ${this.path}: ${(error as Error).message}`;
      return;
    }
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      document = null;
    }
    if (!isStateDocument(document)) {
      const aside = `${this.path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      try {
        renameSync(this.path, aside);
      } catch {
        // kept where it is; it is overwritten by the next save
      }
      this.logger.warn({
        msg: 'state file is not valid: starting clean; the file is kept aside',
        path: aside,
      });
      return;
    }
    if (document.poolId !== undefined && this.poolId !== undefined && document.poolId !== this.poolId) {
      // Another pool's state (EXOSCALE_INSTANCEPOOL_ID changed): its alerts and above all its write-ahead record
      // must not be settled against this pool.
      const aside = `${this.path}.pool-${document.poolId}`;
      try {
        renameSync(this.path, aside);
      } catch {
        // kept where it is; it is overwritten by the next save
      }
      this.logger.warn({
        msg: "the state file is another instance pool's: starting clean; the file is kept aside",
        path: aside,
        statePool: document.poolId,
        pool: this.poolId,
      });
      return;
    }
    this.restoreDocument(document);
    this.logger.log({
      msg: 'state restored',
      path: this.path,
      savedAt: document.savedAt,
      alerts: document.signals.alerts.length,
      pendingSteps: document.signals.steps.length,
      decisions: document.decisions.length,
      scaleCallToSettle: this.scaling.record !== null,
    });
  }

  /**
   * Saves the current state (with the scaling service's part when given). Concurrent saves coalesce: at most one
   * write in flight and one after it, which writes the newest state. Never throws: resolves to whether the state
   * as it was at the call is on disk (a failure is also in `status`).
   */
  async save(scaling?: ScalingMemory, options: { fenceSeconds?: number } = {}): Promise<boolean> {
    if (scaling) this.scaling = scaling;
    // Store mode: a write-ahead record is saved only while the lease has this long left (the call's timeout).
    this.fenceSeconds = Math.max(this.fenceSeconds, options.fenceSeconds ?? 0);
    if (this.writing) {
      this.again = true;
      await this.writing;
      return this.lastWriteOk;
    }
    this.writing = (async () => {
      do {
        this.again = false;
        this.lastWriteOk = await this.writeOnce();
      } while (this.again);
    })().finally(() => {
      this.writing = null;
    });
    await this.writing;
    return this.lastWriteOk;
  }

  private document(): StateDocument {
    return {
      version: 1,
      savedAt: new Date().toISOString(),
      signals: this.signals.exportState(),
      scaling: this.scaling,
      decisions: this.decisions.list(PERSISTED_DECISIONS).reverse(),
      deliveries: this.deliveries.toJSON(),
      ...(this.poolId ? { poolId: this.poolId } : {}),
    };
  }

  private async writeOnce(): Promise<boolean> {
    const document = this.document();
    if (this.backing) return this.writeToStore(document);
    try {
      await writeFileAtomically(this.path, `${JSON.stringify(document)}\n`, 0o600);
      Object.assign(this.status, { lastSuccessAt: new Date(), lastError: null, consecutiveFailures: 0 });
      return true;
    } catch (error) {
      this.status.consecutiveFailures++;
      this.status.lastError = `cannot write ${this.path}: ${(error as Error).message}`;
      this.logger.warn({ msg: 'cannot write the state file', error: this.status.lastError });
      return false;
    }
  }

  private async writeToStore(document: StateDocument): Promise<boolean> {
    const { store, key, lease } = this.backing!;
    const fenceSeconds = this.fenceSeconds;
    this.fenceSeconds = 0;
    try {
      this.version = await store.save(key, document, {
        expectedVersion: this.version,
        fence: lease.fenceSpec(fenceSeconds),
      });
      this.fenced = false;
      Object.assign(this.status, { lastSuccessAt: new Date(), lastError: null, consecutiveFailures: 0 });
      return true;
    } catch (error) {
      this.fenced = error instanceof FencedError;
      this.status.consecutiveFailures++;
      this.status.lastError = this.fenced
        ? `fenced: ${(error as Error).message}`
        : `cannot save the state to the store: ${(error as Error).message}`;
      this.logger.warn({ msg: 'cannot save the state', key, error: this.status.lastError });
      return false;
    }
  }
}

/** Where a pool's state lives in high-availability mode. */
export interface StoreBacking {
  store: StateStore;
  /** The document's (and its inbox's) key: `pool:<id>`. */
  key: string;
  lease: Leadership;
  /** The document as read at start (null: none yet). */
  initial: Versioned<unknown> | null;
}
