import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';

import { ConfigModule } from './config/config.module';
import { DiscoveryModule } from './discovery/discovery.module';
import { ExoscaleModule } from './exoscale/exoscale.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { PoolModule } from './pool/pool.module';
import { ScalingModule } from './scaling/scaling.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({
  imports: [
    ConfigModule,
    MetricsModule,
    ExoscaleModule,
    ScheduleModule.forRoot(),
    DiscoveryModule,
    ScalingModule,
    WebhooksModule,
    PoolModule,
    HealthModule,
  ],
})
export class AppModule {}
