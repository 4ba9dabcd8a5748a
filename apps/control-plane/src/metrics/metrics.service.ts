import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The control plane's own Prometheus registry and metrics. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly webhooksReceived = new Counter({
    name: 'autoscaler_webhooks_received_total',
    help: 'Webhook requests received, by source, direction and outcome',
    labelNames: ['pool', 'source', 'direction', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly scalingDecisions = new Counter({
    name: 'autoscaler_scaling_decisions_total',
    help: 'Scaling decisions (ticks and manual actions), by trigger, outcome and deciding reason code',
    labelNames: ['pool', 'trigger', 'outcome', 'reason'] as const,
    registers: [this.registry],
  });

  readonly poolSize = new Gauge({
    name: 'autoscaler_pool_size',
    help: 'Instance pool size as last read from the API (current) and as last requested (target)',
    labelNames: ['pool', 'kind'] as const,
    registers: [this.registry],
  });

  readonly pendingSignals = new Gauge({
    name: 'autoscaler_pending_signal',
    help: '1 when a scaling signal is pending for the direction',
    labelNames: ['pool', 'direction'] as const,
    registers: [this.registry],
  });

  readonly discoveryTargets = new Gauge({
    name: 'autoscaler_discovery_targets',
    help: 'Targets in the service discovery file after the last successful run',
    labelNames: ['pool'] as const,
    registers: [this.registry],
  });

  readonly discoveryLastSuccess = new Gauge({
    name: 'autoscaler_discovery_last_success_timestamp_seconds',
    help: 'Unix time of the last successful discovery run',
    labelNames: ['pool'] as const,
    registers: [this.registry],
  });

  readonly discoveryFailures = new Counter({
    name: 'autoscaler_discovery_failures_total',
    help: 'Discovery runs that failed (API or file error); the last good file was kept',
    labelNames: ['pool'] as const,
    registers: [this.registry],
  });

  readonly apiRequests = new Counter({
    name: 'autoscaler_exoscale_api_requests_total',
    help: 'Exoscale API requests (each attempt), by operation and HTTP status',
    labelNames: ['zone', 'operation', 'status'] as const,
    registers: [this.registry],
  });

  readonly apiLatency = new Histogram({
    name: 'autoscaler_exoscale_api_request_duration_seconds',
    help: 'Exoscale API request latency, by operation',
    labelNames: ['zone', 'operation'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly apiInFlightPeak = new Gauge({
    name: 'autoscaler_exoscale_api_requests_in_flight_peak',
    help: 'The most Exoscale API requests in flight at once so far (bounded by API_CONCURRENCY_PER_ZONE)',
    labelNames: ['zone'] as const,
    registers: [this.registry],
  });

  readonly fencedCalls = new Counter({
    name: 'autoscaler_fenced_calls_total',
    help: 'Scale or evict calls not made because the fence refused them: this replica no longer held the lease',
    labelNames: ['pool'] as const,
    registers: [this.registry],
  });

  readonly leaderTransitions = new Counter({
    name: 'autoscaler_leader_transitions_total',
    help: 'Terms as leader this replica started (started) or ended (lost, renew-deadline, stopped)',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });

  readonly isLeader = new Gauge({
    name: 'autoscaler_leader',
    help: '1 while this replica leads (always 1 with the state file), with the lease epoch as a label',
    registers: [this.registry],
  });

  readonly pools = new Gauge({
    name: 'autoscaler_pools',
    help: 'Pools this control plane manages',
    registers: [this.registry],
  });

  readonly tickDuration = new Histogram({
    name: 'autoscaler_tick_duration_seconds',
    help: 'How long one scaling tick over every pool took (pools in parallel, POOL_CONCURRENCY at once)',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  readonly tickOverruns = new Counter({
    name: 'autoscaler_tick_overruns_total',
    help: 'Ticks not started because the previous one was still running (the fleet took longer than the interval)',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
