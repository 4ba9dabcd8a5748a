import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';

import { DiscoveryModule } from '../discovery/discovery.module';
import { ScalingModule } from '../scaling/scaling.module';
import { HealthController } from './health.controller';

@Module({ imports: [TerminusModule, DiscoveryModule, ScalingModule], controllers: [HealthController] })
export class HealthModule {}
