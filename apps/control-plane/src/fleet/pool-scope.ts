import { ExoscaleClient } from '@app/exoscale-client';
import { Versioned } from '@app/state-store';

import { PoolConfig } from '../config/fleet-config';
import { DiscoveryService } from '../discovery/discovery.service';
import { MemberHealthService } from '../discovery/member-health.service';
import { MetricsService } from '../metrics/metrics.service';
import { DecisionLogService } from '../scaling/decision-log.service';
import { DeliveryLedger } from '../scaling/delivery-ledger';
import { ScaleCalls } from '../scaling/scale-calls';
import { ScaleExecutor } from '../scaling/scale-executor';
import { ScalingService } from '../scaling/scaling.service';
import { SignalStore } from '../scaling/signal-store';
import { StateFile, StoreBacking } from '../scaling/state-file.service';
import { UtilisationReader } from '../scaling/utilisation-reader';
import { ForecastReader } from '../scaling/forecast-reader';
import { PrometheusQuery } from '../scaling/prometheus-query';
import { StatusHistory } from '../status/status-history.service';

/**
 * Everything that belongs to one managed pool: its settings, signals, decision log, state file (with its
 * write-ahead scale record), discovery, member health, scaling service (with its own lock) and status history.
 * Nothing here is shared with another pool except the zone's API client and the process's metrics registry.
 */
export class PoolScope {
  readonly name: string;
  readonly id: string;
  readonly zone: string;
  readonly settings: PoolConfig['settings'];
  readonly signals: SignalStore;
  readonly log: DecisionLogService;
  readonly deliveries: DeliveryLedger;
  readonly state: StateFile;
  readonly discovery: DiscoveryService;
  readonly health: MemberHealthService;
  readonly utilisation: UtilisationReader;
  readonly forecast: ForecastReader;
  readonly calls: ScaleCalls;
  readonly scaling: ScalingService;
  readonly history: StatusHistory;

  constructor(
    config: PoolConfig,
    readonly exoscale: ExoscaleClient,
    metrics: MetricsService,
    /** Pools-file mode: Prometheus series are selected by the `pool` label (one-pool mode reads them unfiltered). */
    selectByLabel: boolean,
    /** High availability: the pool's state in the state store instead of the state file. */
    backing?: StoreBacking,
  ) {
    const settings = config.settings;
    this.name = config.name;
    this.id = config.id;
    this.zone = config.zone;
    this.settings = settings;
    this.signals = new SignalStore(settings);
    this.log = new DecisionLogService();
    this.log.poolName = config.name;
    this.deliveries = new DeliveryLedger(settings);
    this.state = new StateFile(settings, this.signals, this.log, this.deliveries, backing);
    this.discovery = new DiscoveryService(settings, exoscale, metrics);
    this.health = new MemberHealthService(settings, exoscale);
    this.utilisation = new UtilisationReader(settings, selectByLabel ? config.name : null);
    this.forecast = new ForecastReader(
      settings,
      new PrometheusQuery(settings),
      selectByLabel ? config.name : null,
    );
    const executor = new ScaleExecutor(settings, exoscale);
    this.calls = new ScaleCalls(
      settings,
      exoscale,
      this.signals,
      this.log,
      metrics,
      this.discovery,
      this.state,
      executor,
    );
    this.scaling = new ScalingService(
      settings,
      exoscale,
      this.signals,
      this.log,
      metrics,
      this.discovery,
      this.utilisation,
      this.health,
      this.calls,
      this.forecast,
    );
    this.history = new StatusHistory(settings, this.discovery, this.scaling);
  }

  /** HA: replaces what is in memory with the stored state (a follower's refresh; a new leader's start). */
  reload(stored: Versioned<unknown> | null): void {
    if (!stored) return;
    this.state.reload(stored);
    this.calls.reload();
  }

  /** One discovery pass, then one read of the members' health (the NLB's checks). */
  async discover(): Promise<void> {
    await this.discovery.refresh();
    if (this.discovery.isFresh()) await this.health.observe(this.discovery.status.members);
  }
}
