import { hostname } from 'node:os';

import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';

import { StopReason } from '@app/state-store';

import { Settings } from '../config/settings';
import { FleetScheduler } from '../fleet/fleet.scheduler';
import { Fleet } from '../fleet/fleet.service';
import { PoolScope } from '../fleet/pool-scope';
import { MetricsService } from '../metrics/metrics.service';
import { applyQueued, InvalidWebhookError, QueuedSignal } from '../webhooks/pool-intake';
import { poolKey } from './ha';

/** What GET /leadership answers. */
export interface LeadershipState {
  role: 'leader' | 'follower';
  holder: string | null;
  epoch: number | null;
  leaseExpiresAt: string | null;
  /** The leader has waited out its first lease period and settled what the last one left: it decides. */
  acting: boolean;
}

/** The inbox is read this often by the leader (and at once after a webhook reaches the leader itself). */
const INBOX_PERIOD_MS = 500;

/**
 * One replica's part in high availability (docs/architecture.md §4, "Two replicas"). A follower serves reads from
 * the stored state (refreshed every retry period), queues webhooks in the store and competes for the lease. A
 * replica whose term begins waits one lease period (a deposed leader's call is over by then), reloads every pool's
 * state, settles every unfinished scale record against its pool, then ticks and applies the queued webhooks. A term
 * that ends (the lease lost or not renewed within the deadline) stops everything at once and calls `onLost`: the
 * process exits 75 and its supervisor starts it again, clean (as cluster-autoscaler does).
 */
@Injectable()
export class LeadershipService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(LeadershipService.name);
  private readonly timers: NodeJS.Timeout[] = [];
  private acting = false;
  private consuming: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private twinWarnedAt = 0;
  /** The last failed lease attempt (the database unreachable, or too slow): /health reports it for a while. */
  lastAttemptFailure: { at: number; error: string } | null = null;
  /** Called when a term ends (main.ts exits 75); tests may replace it. */
  onLost: (reason: StopReason) => void = () => undefined;

  constructor(
    private readonly settings: Settings,
    private readonly fleet: Fleet,
    private readonly scheduler: FleetScheduler,
    private readonly metrics: MetricsService,
  ) {}

  /** Whether the lease could be attempted lately (no failure within three retry periods). */
  healthy(now = Date.now()): boolean {
    const failure = this.lastAttemptFailure;
    return !failure || now - failure.at > 3 * this.settings.LEASE_RETRY_PERIOD_SECONDS * 1000;
  }

  state(): LeadershipState {
    const lease = this.fleet.ha?.lease;
    if (!lease)
      return {
        role: 'leader',
        holder: this.settings.REPLICA_ID ?? hostname(),
        epoch: 1,
        leaseExpiresAt: null,
        acting: true,
      };
    const state = lease.state();
    return {
      role: state.role,
      holder: state.holder,
      epoch: state.epoch,
      leaseExpiresAt: state.leaseExpiresAt?.toISOString() ?? null,
      acting: this.acting,
    };
  }

  onApplicationBootstrap(): void {
    const ha = this.fleet.ha;
    this.metrics.isLeader.set(ha ? 0 : 1);
    if (!ha) return;
    ha.lease.on('startedLeading', (epoch, signal) => {
      this.lead(epoch, signal).catch((error: unknown) => {
        if (signal.aborted) return;
        this.logger.error({ msg: 'starting the term failed; giving the lease up', error: String(error) });
        void ha.lease.stop({ release: true });
      });
    });
    ha.lease.on('stoppedLeading', (reason, epoch) => this.lost(reason, epoch));
    ha.lease.on('attemptFailed', (error) => {
      this.lastAttemptFailure = { at: Date.now(), error: error.message };
      this.logger.warn({ msg: 'a lease attempt failed; retried', error: error.message });
    });
    this.every(this.settings.LEASE_RETRY_PERIOD_SECONDS * 1000, () => {
      if (ha.lease.isLeader()) return;
      void this.refresh();
      const state = ha.lease.state();
      if (state.holder === ha.lease.holder && Date.now() - this.twinWarnedAt > 60_000) {
        this.twinWarnedAt = Date.now();
        this.logger.warn({
          msg: "another replica holds the lease under this replica's own name: give every replica its own REPLICA_ID",
          holder: state.holder,
        });
      }
    });
    this.every(INBOX_PERIOD_MS, () => this.kick());
    ha.lease
      .start()
      .catch((error: unknown) =>
        this.logger.warn({ msg: 'the first lease attempt failed; retried', error: String(error) }),
      );
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    const ha = this.fleet.ha;
    if (!ha) return;
    // The next leader waits a lease period before it acts, so a call of ours still in flight is over by then.
    await ha.lease.stop({ release: true }).catch(() => undefined);
    await ha.store.close().catch(() => undefined);
  }

  /** Applies the queued webhooks soon (the leader only; a pass in flight is followed by one more). */
  kick(): void {
    if (!this.acting || this.stopped) return;
    if (this.consuming) {
      this.again = true;
      return;
    }
    this.consuming = this.consumeAll()
      .catch((error: unknown) =>
        this.logger.warn({ msg: 'applying queued webhooks failed', error: String(error) }),
      )
      .finally(() => {
        this.consuming = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async lead(epoch: number, signal: AbortSignal): Promise<void> {
    this.metrics.leaderTransitions.inc({ event: 'started' });
    this.metrics.isLeader.set(1);
    const waitSeconds = this.settings.LEASE_DURATION_SECONDS;
    this.logger.log({ msg: 'leading: waiting one lease period before acting', epoch, waitSeconds });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, waitSeconds * 1000);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new Error('the term ended while waiting'));
      });
    });
    await this.refresh();
    for (const scope of this.fleet.all()) {
      if (signal.aborted) return;
      if (scope.scaling.unsettled) await scope.scaling.settleAtStart();
    }
    if (signal.aborted) return;
    this.acting = true;
    this.fleet.acting = true;
    this.scheduler.startTicking();
    this.kick();
    this.logger.log({ msg: 'leading: deciding from now on', epoch });
  }

  private lost(reason: StopReason, epoch: number): void {
    const wasActing = this.acting;
    this.acting = false;
    this.fleet.acting = false;
    this.metrics.leaderTransitions.inc({ event: reason });
    this.metrics.isLeader.set(0);
    this.scheduler.stopTicking();
    this.fleet.abort();
    if (this.stopped && reason === 'stopped') return;
    this.logger.error({
      msg: 'the lease is lost: stopping now, to be restarted clean',
      reason,
      epoch,
      wasActing,
    });
    this.onLost(reason);
  }

  /** Reads every pool's stored state into memory (a follower's view; a new leader's start). */
  private async refresh(): Promise<void> {
    const ha = this.fleet.ha!;
    for (const scope of this.fleet.all()) {
      try {
        const stored = await ha.store.load(poolKey(scope.id));
        await scope.scaling.exclusive(async () => scope.reload(stored));
      } catch (error) {
        this.logger.warn({ msg: 'cannot read the stored state', pool: scope.name, error: String(error) });
      }
    }
  }

  /** Applies every pool's queued webhooks, exactly once each (see StateFile.consumeInbox). */
  private async consumeAll(): Promise<void> {
    const ha = this.fleet.ha!;
    for (const key of await ha.store.pendingKeys()) {
      const scope = this.fleet.byKey(key);
      if (!scope || !this.acting) continue;
      await scope.scaling.exclusive(async () => {
        try {
          const applied = await scope.state.consumeInbox((payload) => {
            try {
              this.log(scope, applyQueued(scope, payload as QueuedSignal, this.fleet.size > 1));
            } catch (error) {
              // An entry this replica cannot apply (queued by another version, or with other settings) is dropped
              // with the reason, never left to block the signals queued after it.
              if (!(error instanceof InvalidWebhookError)) throw error;
              this.logger.error({
                msg: 'a queued webhook cannot be applied here: dropped',
                pool: scope.name,
                reasons: error.reasons,
              });
            }
          });
          if (applied > 0) scope.scaling.updateSignalGauges();
        } catch (error) {
          // Nothing was saved and the entries stay queued: what the handler changed in memory is undone.
          scope.reload(await ha.store.load(key));
          throw error;
        }
      });
    }
  }

  private log(scope: PoolScope, result: { status: string; reasons: string[] }): void {
    this.logger.log({
      msg: 'queued webhook applied',
      pool: scope.name,
      status: result.status,
      reasons: result.reasons,
    });
  }

  private every(ms: number, run: () => void): void {
    const timer = setInterval(run, ms);
    timer.unref?.();
    this.timers.push(timer);
  }
}
