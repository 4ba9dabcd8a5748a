import { Global, Logger, Module } from '@nestjs/common';

import { ExoscaleClient } from '@app/exoscale-client';

import { Settings } from '../config/settings';
import { MetricsService } from '../metrics/metrics.service';

/** The one wrapper around the Exoscale API: a client built from the settings, reporting to the metrics. */
@Global()
@Module({
  providers: [
    {
      provide: ExoscaleClient,
      inject: [Settings, MetricsService],
      useFactory: (settings: Settings, metrics: MetricsService) => {
        const logger = new Logger('ExoscaleClient');
        return new ExoscaleClient({
          apiKey: settings.EXOSCALE_KEY,
          apiSecret: settings.EXOSCALE_SECRET,
          zone: settings.EXOSCALE_ZONE,
          endpoint: settings.apiEndpoint,
          timeoutMs: 15_000,
          logger: { warn: (line) => logger.warn(line) },
          onRequest: (event) => {
            metrics.apiRequests.inc({ operation: event.operation, status: event.status });
            metrics.apiLatency.observe({ operation: event.operation }, event.durationMs / 1000);
          },
        });
      },
    },
  ],
  exports: [ExoscaleClient],
})
export class ExoscaleModule {}
