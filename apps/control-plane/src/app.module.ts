import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';

import { GlobalExceptionFilter } from './common/global-exception.filter';
import { ConfigModule } from './config/config.module';
import { Settings } from './config/settings';
import { DiscoveryModule } from './discovery/discovery.module';
import { ExoscaleModule } from './exoscale/exoscale.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { PoolModule } from './pool/pool.module';
import { ScalingModule } from './scaling/scaling.module';
import { StatusModule } from './status/status.module';
import { WebhooksModule } from './webhooks/webhooks.module';

const FEATURES = [
  MetricsModule,
  ExoscaleModule,
  ScheduleModule.forRoot(),
  DiscoveryModule,
  ScalingModule,
  WebhooksModule,
  PoolModule,
  HealthModule,
  StatusModule,
];

/** The control plane, built around one validated settings object. */
@Module({})
export class AppModule {
  static forSettings(settings: Settings): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forSettings(settings), ...FEATURES],
      providers: [{ provide: APP_FILTER, useClass: GlobalExceptionFilter }],
    };
  }
}
