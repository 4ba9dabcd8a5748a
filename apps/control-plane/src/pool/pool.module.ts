import { Module } from '@nestjs/common';

import { ApiTokenGuard } from './api-token.guard';
import { PoolController, PoolHandlers, PoolsController } from './pool.controller';
import { PoolService } from './pool.service';

@Module({
  controllers: [PoolController, PoolsController],
  providers: [PoolService, PoolHandlers, ApiTokenGuard],
  exports: [PoolService],
})
export class PoolModule {}
