/** Every timing of the loop, normal and compressed (--fast: a scale-out and back in about a minute). */
export interface Timing {
  scrape: string;
  evaluation: string;
  rateWindow: string;
  alertFor: string;
  sdRefresh: string;
  groupWait: string;
  groupInterval: string;
  repeatInterval: string;
  tickSeconds: number;
  discoverySeconds: number;
  bootDelayMs: number;
  loadSeconds: number;
  healthIntervalMs: number;
  /** Boot plus one rate window: until then a new member is capacity on its way, not yet in the measurement. */
  warmupSeconds: number;
  /** Longer than a repeat (group_interval + repeat_interval), so only a lost "resolved" expires. */
  alertTtlSeconds: number;
  /** Shorter than a repeat, so only a duplicate delivery (a retry) is taken for one (WEBHOOK_DEDUP_SECONDS). */
  dedupSeconds: number;
  /** With --replicas 2: LEASE_DURATION_SECONDS, LEASE_RENEW_DEADLINE_SECONDS, LEASE_RETRY_PERIOD_SECONDS. */
  lease: { durationSeconds: number; renewDeadlineSeconds: number; retryPeriodSeconds: number };
  /**
   * FORECAST_DAY_SECONDS and FORECAST_LEAD_SECONDS: a compressed day, so that the forecast (FORECAST_MODE
   * forecast-only, the default) reads history within minutes; absent: the control plane's real day.
   */
  forecast?: { daySeconds: number; leadSeconds: number };
  /**
   * TREND_SECONDS and TREND_WINDOW_SECONDS, compressed as the tick is: at the real 120 s and 240 s, a fast run's
   * whole load phase is one trend window, and the swing hold (1.5 windows back, for the trend's horizon after a fall)
   * kept 8 members of an idle pool for 120 s after the demo's load stopped. Absent: the control plane's own.
   */
  trend?: { seconds: number; windowSeconds: number };
}

export const TIMINGS: Record<'normal' | 'fast', Timing> = {
  normal: {
    scrape: '15s',
    evaluation: '15s',
    rateWindow: '1m',
    alertFor: '1m',
    sdRefresh: '30s',
    groupWait: '10s',
    groupInterval: '30s',
    repeatInterval: '1m',
    tickSeconds: 60,
    discoverySeconds: 10,
    bootDelayMs: 20000,
    loadSeconds: 10,
    healthIntervalMs: 5000,
    warmupSeconds: 90,
    alertTtlSeconds: 180,
    dedupSeconds: 30,
    // The control plane's defaults, as cluster-autoscaler's and KEDA's Kubernetes lease.
    lease: { durationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 },
  },
  fast: {
    scrape: '1s',
    evaluation: '1s',
    rateWindow: '5s',
    alertFor: '5s',
    sdRefresh: '1s',
    groupWait: '1s',
    groupInterval: '2s',
    repeatInterval: '2s',
    tickSeconds: 5,
    discoverySeconds: 1,
    bootDelayMs: 2000,
    loadSeconds: 1,
    healthIntervalMs: 500,
    warmupSeconds: 8,
    alertTtlSeconds: 30,
    dedupSeconds: 1,
    // A takeover within about two ticks.
    lease: { durationSeconds: 6, renewDeadlineSeconds: 4, retryPeriodSeconds: 1 },
    // A two-minute day: the forecast shows what the load did two minutes ago, looking a warm-up and a tick ahead.
    forecast: { daySeconds: 120, leadSeconds: 15 },
    // The cloud's 120 s and 240 s on its 60 s tick: two and four ticks.
    trend: { seconds: 10, windowSeconds: 20 },
  },
};

const seconds = (d: string) => Number(d.replace(/s$/, '').replace(/m$/, '')) * (d.endsWith('m') ? 60 : 1);

/** The timing of a run: normal or fast, with the members' boot time overridden (the warm-up follows it). */
export function timingFor(fast: boolean, bootSeconds?: number): Timing {
  const base = fast ? TIMINGS.fast : TIMINGS.normal;
  if (bootSeconds === undefined) return base;
  return {
    ...base,
    bootDelayMs: bootSeconds * 1000,
    warmupSeconds: Math.ceil(bootSeconds + seconds(base.rateWindow) + seconds(base.scrape)),
  };
}

export const PORTS = {
  api: 8086,
  nlb: 8000,
  controlPlane: 8090,
  prometheus: 9090,
  alertmanager: 9093,
} as const;
/** With --replicas 2: the second control plane's port and the stack's PostgreSQL (loopback only). */
export const REPLICA_PORTS = { controlPlane2: 8091, postgres: 5433 } as const;

/** Most control planes `--replicas` starts (one leader, the others followers). */
export const MAX_REPLICAS = 2;

/** One control plane of the stack: its process (and log) name, its REPLICA_ID (the lease holder) and its port. */
export interface StackControlPlane {
  name: string;
  /** Unset with one replica: the file store, no lease, exactly as before. */
  replicaId?: string;
  port: number;
  url: string;
}

/**
 * The control planes of `--replicas N`: one is `control-plane` on 8090 as before; two are `control-plane-1` (cp-1)
 * on 8090 and `control-plane-2` (cp-2) on 8091.
 */
export function stackControlPlanes(replicas: number): StackControlPlane[] {
  const ports = [PORTS.controlPlane, REPLICA_PORTS.controlPlane2];
  if (replicas === 1) return [{ name: 'control-plane', port: ports[0], url: `http://127.0.0.1:${ports[0]}` }];
  return ports.slice(0, replicas).map((port, i) => ({
    name: `control-plane-${i + 1}`,
    replicaId: `cp-${i + 1}`,
    port,
    url: `http://127.0.0.1:${port}`,
  }));
}

export const POOL_ID = '6f0b7a35-4f5e-4a53-9d3e-000000000001';

/** One pool of `--pools N`: its name (as in the pools file and the `pool` label), the emulator's id, its NLB. */
export interface StackPool {
  name: string;
  id: string;
  nlbPort: number;
}

/**
 * The pools of `--pools N`: pool-K has the id the emulator gives its K-th pool (POOL_ID's last group + K - 1) and
 * its NLB on port 8000 + K - 1.
 */
export function stackPools(count: number): StackPool[] {
  const prefix = POOL_ID.slice(0, POOL_ID.lastIndexOf('-') + 1);
  const first = parseInt(POOL_ID.slice(prefix.length), 16);
  return Array.from({ length: count }, (_, i) => ({
    name: `pool-${i + 1}`,
    id: `${prefix}${(first + i).toString(16).padStart(12, '0')}`,
    nlbPort: PORTS.nlb + i,
  }));
}
