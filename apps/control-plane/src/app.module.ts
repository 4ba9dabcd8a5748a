import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';

import { GlobalExceptionFilter } from './common/global-exception.filter';
import { ConfigModule } from './config/config.module';
import { Settings } from './config/settings';
import { FleetConfig } from './config/fleet-config';
import { FleetModule } from './fleet/fleet.module';
import { HaRuntime } from './ha/ha';
import { HaModule } from './ha/ha.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { PoolModule } from './pool/pool.module';
import { StatusModule } from './status/status.module';
import { WebhooksModule } from './webhooks/webhooks.module';

const FEATURES = [
  MetricsModule,
  ScheduleModule.forRoot(),
  WebhooksModule,
  PoolModule,
  HealthModule,
  StatusModule,
  HaModule,
];

/** The control plane, built around one validated settings object and the pools it manages. */
@Module({})
export class AppModule {
  /**
   * @param fleet the pools (loadFleetConfig); without it, the one pool the settings' shorthand names
   */
  static forSettings(settings: Settings, fleet?: FleetConfig, ha?: HaRuntime | null): DynamicModule {
    const config: FleetConfig = fleet ?? {
      settings,
      source: 'env',
      pools: [
        {
          name: settings.POOL_NAME,
          id: settings.EXOSCALE_INSTANCEPOOL_ID,
          zone: settings.EXOSCALE_ZONE,
          settings,
        },
      ],
    };
    return {
      module: AppModule,
      imports: [ConfigModule.forSettings(settings), FleetModule.forConfig(config, ha), ...FEATURES],
      providers: [{ provide: APP_FILTER, useClass: GlobalExceptionFilter }],
    };
  }
}
