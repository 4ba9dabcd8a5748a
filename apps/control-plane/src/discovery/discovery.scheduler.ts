import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';

import { Settings } from '../config/settings';
import { DiscoveryService } from './discovery.service';
import { MemberHealthService } from './member-health.service';

const JOB = 'discovery';

/** Runs discovery (and the members' health read) at boot and then every DISCOVERY_INTERVAL_SECONDS. */
@Injectable()
export class DiscoveryScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly settings: Settings,
    private readonly discovery: DiscoveryService,
    private readonly health: MemberHealthService,
    private readonly registry: SchedulerRegistry,
  ) {}

  /** One discovery pass, then one read of the members' health. */
  private async pass(): Promise<void> {
    await this.discovery.refresh();
    if (this.discovery.isFresh()) await this.health.observe(this.discovery.status.members);
  }

  onApplicationBootstrap(): void {
    void this.pass();
    const timer = setInterval(() => void this.pass(), this.settings.DISCOVERY_INTERVAL_SECONDS * 1000);
    this.registry.addInterval(JOB, timer);
  }

  onApplicationShutdown(): void {
    if (this.registry.doesExist('interval', JOB)) this.registry.deleteInterval(JOB);
  }
}
