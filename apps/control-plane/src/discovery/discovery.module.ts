import { Module } from '@nestjs/common';

import { DiscoveryScheduler } from './discovery.scheduler';
import { DiscoveryService } from './discovery.service';

@Module({ providers: [DiscoveryService, DiscoveryScheduler], exports: [DiscoveryService] })
export class DiscoveryModule {}
