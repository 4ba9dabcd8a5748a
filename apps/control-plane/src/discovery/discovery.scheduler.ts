import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';

import { Settings } from '../config/settings';
import { DiscoveryService } from './discovery.service';

const JOB = 'discovery';

/** Runs discovery at boot and then every DISCOVERY_INTERVAL_SECONDS. */
@Injectable()
export class DiscoveryScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly settings: Settings,
    private readonly discovery: DiscoveryService,
    private readonly registry: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    void this.discovery.refresh();
    const timer = setInterval(
      () => void this.discovery.refresh(),
      this.settings.DISCOVERY_INTERVAL_SECONDS * 1000,
    );
    this.registry.addInterval(JOB, timer);
  }

  onApplicationShutdown(): void {
    if (this.registry.doesExist('interval', JOB)) this.registry.deleteInterval(JOB);
  }
}
