import { Module } from '@nestjs/common';

import { DiscoveryModule } from '../discovery/discovery.module';
import { DecisionLogService } from './decision-log.service';
import { DeliveryLedger } from './delivery-ledger';
import { ScaleCalls } from './scale-calls';
import { ScaleExecutor } from './scale-executor';
import { ScalingScheduler } from './scaling.scheduler';
import { ScalingService } from './scaling.service';
import { SignalStore } from './signal-store';
import { StateFile } from './state-file.service';
import { UtilisationReader } from './utilisation-reader';

@Module({
  imports: [DiscoveryModule],
  providers: [
    SignalStore,
    DecisionLogService,
    DeliveryLedger,
    StateFile,
    ScaleExecutor,
    ScaleCalls,
    UtilisationReader,
    ScalingService,
    ScalingScheduler,
  ],
  exports: [SignalStore, DecisionLogService, DeliveryLedger, StateFile, ScalingService],
})
export class ScalingModule {}
