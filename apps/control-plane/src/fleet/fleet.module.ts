import { DynamicModule, Global, Module, Provider, Type } from '@nestjs/common';

import { ExoscaleClient } from '@app/exoscale-client';

import { FleetConfig } from '../config/fleet-config';
import { MetricsService } from '../metrics/metrics.service';
import { DiscoveryService } from '../discovery/discovery.service';
import { MemberHealthService } from '../discovery/member-health.service';
import { DecisionLogService } from '../scaling/decision-log.service';
import { DeliveryLedger } from '../scaling/delivery-ledger';
import { ScaleCalls } from '../scaling/scale-calls';
import { ScalingService } from '../scaling/scaling.service';
import { SignalStore } from '../scaling/signal-store';
import { StateFile } from '../scaling/state-file.service';
import { UtilisationReader } from '../scaling/utilisation-reader';
import { StatusHistory } from '../status/status-history.service';
import { HaRuntime, loadPoolDocuments, startHa } from '../ha/ha';
import { LeadershipService } from '../ha/leadership.service';
import { FleetScheduler } from './fleet.scheduler';
import { Fleet } from './fleet.service';
import { PoolScope } from './pool-scope';

/**
 * The first pool's parts under their own class tokens: what the one-pool code paths (and the tests written for
 * one pool) resolve. With several pools these are the first pool's; everything pool-aware goes through Fleet.
 */
const FIRST_POOL: [Type<unknown>, (scope: PoolScope) => unknown][] = [
  [SignalStore, (s) => s.signals],
  [DecisionLogService, (s) => s.log],
  [DeliveryLedger, (s) => s.deliveries],
  [StateFile, (s) => s.state],
  [DiscoveryService, (s) => s.discovery],
  [MemberHealthService, (s) => s.health],
  [UtilisationReader, (s) => s.utilisation],
  [ScaleCalls, (s) => s.calls],
  [ScalingService, (s) => s.scaling],
  [StatusHistory, (s) => s.history],
  [ExoscaleClient, (s) => s.exoscale],
];

/** The managed pools (one scope each), their scheduler, and the one-pool aliases. */
@Global()
@Module({})
export class FleetModule {
  /** @param ha the state store and lease when main.ts opened them already (tests: opened here from the settings) */
  static forConfig(config: FleetConfig, ha?: HaRuntime | null): DynamicModule {
    const aliases: Provider[] = FIRST_POOL.map(([token, part]) => ({
      provide: token,
      inject: [Fleet],
      // Null when label discovery found no pool yet: nothing in the app injects these, only tests of one pool.
      useFactory: (fleet: Fleet) => (fleet.size > 0 ? part(fleet.first()) : null),
    }));
    return {
      module: FleetModule,
      providers: [
        {
          provide: Fleet,
          inject: [MetricsService],
          useFactory: async (m: MetricsService) => {
            const runtime = ha === undefined ? await startHa(config.settings) : ha;
            const documents = runtime
              ? await loadPoolDocuments(
                  runtime,
                  config.pools.map((p) => p.id),
                )
              : new Map();
            const fleet = new Fleet(config, m, runtime, documents);
            // The pools found by their labels are managed from the start (a zone that fails is listed again later).
            await fleet.discovery?.refresh();
            return fleet;
          },
        },
        FleetScheduler,
        LeadershipService,
        ...aliases,
      ],
      exports: [Fleet, FleetScheduler, LeadershipService, ...FIRST_POOL.map(([token]) => token)],
    };
  }
}
