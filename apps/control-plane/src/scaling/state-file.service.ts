import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

import { Injectable, Logger } from '@nestjs/common';

import { writeFileAtomically } from '@app/prometheus-sd';
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

  constructor(
    settings: Settings,
    private readonly signals: SignalStore,
    private readonly decisions: DecisionLogService,
    private readonly deliveries: DeliveryLedger,
  ) {
    this.path = join(settings.STATE_DIR, STATE_FILE_NAME);
    this.poolId = settings.EXOSCALE_INSTANCEPOOL_ID?.toLowerCase();
    this.load();
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
    this.signals.restore(document.signals);
    this.decisions.restore(document.decisions);
    this.deliveries.restore(document.deliveries ?? []);
    this.scaling = upgradeScaling(document.scaling);
    Object.assign(this.restored, this.scaling);
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
  async save(scaling?: ScalingMemory): Promise<boolean> {
    if (scaling) this.scaling = scaling;
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

  private async writeOnce(): Promise<boolean> {
    const document: StateDocument = {
      version: 1,
      savedAt: new Date().toISOString(),
      signals: this.signals.exportState(),
      scaling: this.scaling,
      decisions: this.decisions.list(PERSISTED_DECISIONS).reverse(),
      deliveries: this.deliveries.toJSON(),
      ...(this.poolId ? { poolId: this.poolId } : {}),
    };
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
}
