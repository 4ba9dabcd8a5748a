import { Injectable, Logger } from '@nestjs/common';

import { ExoscaleClient, Instance } from '@app/exoscale-client';
import { FileSdWriter } from '@app/prometheus-sd';

import { Settings } from '../config/settings';
import { MetricsService } from '../metrics/metrics.service';
import { targetGroupsForMembers } from './discovery-targets';

export interface PartStatus {
  lastSuccessAt: Date | null;
  lastError: string | null;
  consecutiveFailures: number;
}

export interface DiscoveryStatus {
  lastSuccessAt: Date | null;
  lastAttemptAt: Date | null;
  lastError: string | null;
  consecutiveFailures: number;
  targets: number;
  members: Instance[];
  /** The Exoscale API as discovery sees it (listing the pool's members). */
  api: PartStatus;
  /** Writing the service discovery file. */
  sdFile: PartStatus;
}

const newPart = (): PartStatus => ({ lastSuccessAt: null, lastError: null, consecutiveFailures: 0 });
const succeeded = (part: PartStatus) =>
  Object.assign(part, { lastSuccessAt: new Date(), lastError: null, consecutiveFailures: 0 });
const failed = (part: PartStatus, error: unknown) =>
  Object.assign(part, {
    lastError: error instanceof Error ? error.message : String(error),
    consecutiveFailures: part.consecutiveFailures + 1,
  });

/** Pool members -> Prometheus file_sd file. On any error the last good file stays as it is. */
@Injectable()
export class DiscoveryService {
  private readonly logger = new Logger(DiscoveryService.name);
  private readonly writer: FileSdWriter;
  private running?: Promise<void>;
  private readonly state: DiscoveryStatus = {
    lastSuccessAt: null,
    lastAttemptAt: null,
    lastError: null,
    consecutiveFailures: 0,
    targets: 0,
    members: [],
    api: newPart(),
    sdFile: newPart(),
  };

  constructor(
    private readonly settings: Settings,
    private readonly exoscale: ExoscaleClient,
    private readonly metrics: MetricsService,
  ) {
    this.writer = new FileSdWriter(settings.SD_FILE);
    // Exported as 0 from the start (a labelled counter shows no sample until its first increment).
    metrics.discoveryFailures.inc(settings.poolLabels, 0);
  }

  get status(): Readonly<DiscoveryStatus> {
    return this.state;
  }

  /** Whether the last success is recent enough: within three discovery periods. */
  isFresh(now = Date.now()): boolean {
    const last = this.state.lastSuccessAt?.getTime();
    return last !== undefined && now - last <= 3 * this.settings.DISCOVERY_INTERVAL_SECONDS * 1000 + 5000;
  }

  /** Runs one discovery pass; concurrent callers share the pass in flight. */
  refresh(): Promise<void> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<void> {
    this.state.lastAttemptAt = new Date();
    try {
      let members: Instance[];
      try {
        members = await this.exoscale.listInstances({ managerId: this.settings.EXOSCALE_INSTANCEPOOL_ID });
        succeeded(this.state.api);
      } catch (error) {
        failed(this.state.api, error);
        throw error;
      }
      const groups = targetGroupsForMembers(members, {
        poolId: this.settings.EXOSCALE_INSTANCEPOOL_ID,
        zone: this.settings.EXOSCALE_ZONE,
        ...this.settings.poolLabels,
        targetPort: this.settings.TARGET_PORT,
      });
      // The members are known even when the file cannot be written: scaling still needs them.
      this.state.members = members;
      try {
        const result = await this.writer.write(groups);
        succeeded(this.state.sdFile);
        if (result.written) {
          this.logger.log({
            msg: 'service discovery file updated',
            ...this.settings.poolLabels,
            path: result.path,
            targets: groups.length,
          });
        }
      } catch (error) {
        failed(this.state.sdFile, error);
        throw error;
      }
      Object.assign(this.state, {
        lastSuccessAt: new Date(),
        lastError: null,
        consecutiveFailures: 0,
        targets: groups.length,
      });
      this.metrics.discoveryTargets.set(this.settings.poolLabels, groups.length);
      this.metrics.discoveryLastSuccess.set(this.settings.poolLabels, Date.now() / 1000);
    } catch (error) {
      this.state.consecutiveFailures++;
      this.state.lastError = error instanceof Error ? error.message : String(error);
      this.metrics.discoveryFailures.inc(this.settings.poolLabels);
      this.logger.warn({
        msg: 'discovery failed; the last good file is kept',
        ...this.settings.poolLabels,
        error: this.state.lastError,
        consecutiveFailures: this.state.consecutiveFailures,
      });
    }
  }
}
