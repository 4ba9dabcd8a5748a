import { Module } from '@nestjs/common';

import { DiscoveryScheduler } from './discovery.scheduler';
import { DiscoveryService } from './discovery.service';
import { MemberHealthService } from './member-health.service';

@Module({
  providers: [DiscoveryService, MemberHealthService, DiscoveryScheduler],
  exports: [DiscoveryService, MemberHealthService],
})
export class DiscoveryModule {}
