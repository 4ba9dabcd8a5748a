import { createHistogram, RecordableHistogram } from 'node:perf_hooks';

import { Pool } from 'undici';

import { LoadProfile } from './profile';

export interface Sample {
  t: number;
  clients: number;
  inFlight: number;
  requestsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  errors: number;
  poolSize: number | null;
}

export interface Summary {
  url: string;
  profile: string;
  /** When the run started (ISO 8601), to line the timeline up with the control plane's. */
  startedAt: string;
  durationSeconds: number;
  requests: number;
  ok: number;
  errors: Record<string, number>;
  requestsPerSecond: number;
  latencyMs: { min: number; p50: number; p90: number; p95: number; p99: number; max: number; mean: number };
  poolSize: { start: number | null; max: number | null; end: number | null };
  timeline: Sample[];
}

export interface RunOptions {
  url: string;
  profile: LoadProfile;
  timeoutMs: number;
  /** Reuse connections between requests. Off by default: each request is a new visitor, so the NLB spreads them. */
  keepAlive?: boolean;
  /** Reads the pool size (e.g. from the control plane's GET /pool); null when unknown. */
  poolSize?: () => Promise<number | null>;
  onSample?: (sample: Sample) => void;
}

const ms = (h: RecordableHistogram, p: number) => (h.count === 0 ? 0 : Math.round(h.percentile(p) / 1e6));

/** Closed-loop load: N virtual clients, each sending its next request when the last one ends, N following the profile. */
export async function runLoad(options: RunOptions): Promise<Summary> {
  const target = new URL(options.url);
  const pool = new Pool(target.origin, {
    connections: Math.max(1, options.profile.maxClients),
    pipelining: 1,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  const total = createHistogram();
  let window = createHistogram();
  const errors: Record<string, number> = {};
  let requests = 0;
  let ok = 0;
  let windowRequests = 0;
  let windowErrors = 0;
  let inFlight = 0;
  let wanted = 0;
  let done = false;
  const timeline: Sample[] = [];
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const elapsed = () => (performance.now() - started) / 1000;

  const fail = (kind: string) => {
    errors[kind] = (errors[kind] ?? 0) + 1;
    windowErrors++;
  };

  const pause = (msToWait: number) => new Promise((r) => setTimeout(r, msToWait));
  const client = async (id: number) => {
    while (!done) {
      if (id >= wanted) {
        await pause(100); // parked: the profile wants fewer clients right now
        continue;
      }
      inFlight++;
      const t0 = process.hrtime.bigint();
      try {
        const res = await pool.request({
          path: `${target.pathname}${target.search}`,
          method: 'GET',
          reset: !options.keepAlive,
        });
        await res.body.text();
        if (res.statusCode >= 200 && res.statusCode < 300) {
          ok++;
          const d = Math.max(1, Number(process.hrtime.bigint() - t0));
          total.record(d);
          window.record(d);
        } else fail(`http ${res.statusCode}`);
      } catch (error) {
        fail((error as { code?: string }).code ?? 'error');
        if (!done) await pause(100); // a refused connection would otherwise spin
      } finally {
        inFlight--;
        requests++;
        windowRequests++;
      }
    }
  };

  const clients: Promise<void>[] = [];
  const adjust = () => {
    wanted = options.profile.clientsAt(elapsed());
    while (clients.length < wanted) clients.push(client(clients.length));
  };

  let lastSampleAt = started;
  let poolSize: number | null = null;
  let sizes: number[] = [];
  const sample = async () => {
    const now = performance.now();
    const seconds = (now - lastSampleAt) / 1000;
    lastSampleAt = now;
    if (options.poolSize) {
      poolSize = await options.poolSize().catch(() => null);
      if (poolSize !== null) sizes.push(poolSize);
    }
    const s: Sample = {
      t: Math.round(elapsed()),
      clients: wanted,
      inFlight,
      requestsPerSecond: Math.round((windowRequests / seconds) * 10) / 10,
      p50Ms: ms(window, 50),
      p95Ms: ms(window, 95),
      p99Ms: ms(window, 99),
      errors: windowErrors,
      poolSize,
    };
    window = createHistogram();
    windowRequests = 0;
    windowErrors = 0;
    timeline.push(s);
    options.onSample?.(s);
  };

  const startSize = options.poolSize ? await options.poolSize().catch(() => null) : null;
  if (startSize !== null) sizes = [startSize];
  adjust();
  const adjuster = setInterval(adjust, 100);
  let sampling = Promise.resolve();
  // Samples are chained so they never overlap; the chain is awaited below.
  const sampler = setInterval(() => {
    sampling = sampling.then(sample);
  }, 1000);
  await new Promise((r) => setTimeout(r, options.profile.durationSeconds * 1000));
  done = true;
  clearInterval(adjuster);
  clearInterval(sampler);
  await sampling;
  await Promise.all(clients);
  await pool.close();
  const duration = elapsed();
  const endSize = options.poolSize ? await options.poolSize().catch(() => null) : null;
  if (endSize !== null) sizes.push(endSize);
  return {
    url: options.url,
    profile: options.profile.description,
    startedAt,
    durationSeconds: Math.round(duration * 10) / 10,
    requests,
    ok,
    errors,
    requestsPerSecond: Math.round((requests / duration) * 10) / 10,
    latencyMs: {
      min: total.count ? Math.round(total.min / 1e6) : 0,
      p50: ms(total, 50),
      p90: ms(total, 90),
      p95: ms(total, 95),
      p99: ms(total, 99),
      max: total.count ? Math.round(total.max / 1e6) : 0,
      mean: total.count ? Math.round(total.mean / 1e6) : 0,
    },
    poolSize: { start: startSize, max: sizes.length ? Math.max(...sizes) : null, end: endSize },
    timeline,
  };
}
