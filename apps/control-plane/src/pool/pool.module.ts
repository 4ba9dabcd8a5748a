import { Module } from '@nestjs/common';

import { DiscoveryModule } from '../discovery/discovery.module';

import { ScalingModule } from '../scaling/scaling.module';
import { ApiTokenGuard } from './api-token.guard';
import { PoolController } from './pool.controller';
import { PoolService } from './pool.service';

@Module({
  imports: [ScalingModule, DiscoveryModule],
  controllers: [PoolController],
  providers: [PoolService, ApiTokenGuard],
})
export class PoolModule {}
