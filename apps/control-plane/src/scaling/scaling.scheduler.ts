import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';

import { Settings } from '../config/settings';
import { ScalingService } from './scaling.service';

const JOB = 'scaling-tick';

/** Fires the scaling tick every SCALING_INTERVAL_SECONDS; a tick still running when the next is due is not doubled. */
@Injectable()
export class ScalingScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ScalingScheduler.name);
  private running = false;

  constructor(
    private readonly settings: Settings,
    private readonly scaling: ScalingService,
    private readonly registry: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    if (this.scaling.unsettled)
      this.scaling
        .settleAtStart()
        .catch((error: unknown) =>
          this.logger.error({ msg: 'settling at start failed', error: String(error) }),
        );
    const periodMs = this.settings.SCALING_INTERVAL_SECONDS * 1000;
    this.scaling.nextTickAt = new Date(Date.now() + periodMs);
    const timer = setInterval(() => {
      this.scaling.nextTickAt = new Date(Date.now() + periodMs);
      if (this.running) return;
      this.running = true;
      this.scaling
        .tick()
        .catch((error: unknown) => this.logger.error({ msg: 'scaling tick failed', error: String(error) }))
        .finally(() => (this.running = false));
    }, periodMs);
    this.registry.addInterval(JOB, timer);
  }

  onApplicationShutdown(): void {
    if (this.registry.doesExist('interval', JOB)) this.registry.deleteInterval(JOB);
    this.scaling.abort();
  }
}
