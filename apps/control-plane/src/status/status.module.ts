import { Module } from '@nestjs/common';

import { DiscoveryModule } from '../discovery/discovery.module';
import { ScalingModule } from '../scaling/scaling.module';
import { StatusController } from './status.controller';
import { StatusHistory } from './status-history.service';

@Module({
  imports: [DiscoveryModule, ScalingModule],
  controllers: [StatusController],
  providers: [StatusHistory],
})
export class StatusModule {}
