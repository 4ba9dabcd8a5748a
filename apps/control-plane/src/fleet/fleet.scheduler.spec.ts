import { loadSettings } from '../config/settings';
import { MetricsService } from '../metrics/metrics.service';
import { FleetScheduler, forEachBounded } from './fleet.scheduler';
import { Fleet } from './fleet.service';
import { PoolScope } from './pool-scope';

const settings = loadSettings({
  EXOSCALE_KEY: 'k',
  EXOSCALE_SECRET: 's',
  EXOSCALE_INSTANCEPOOL_ID: 'a02baf5a-a3e4-49a0-857b-8a08d276c1c0',
  POOL_CONCURRENCY: '2',
});

/** A pool whose tick waits until the test releases it. */
function pool(name: string, zone: string, log: string[]) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const scope = {
    name,
    zone,
    scaling: {
      tick: async () => {
        log.push(`start ${name}`);
        await gate;
        log.push(`end ${name}`);
      },
    },
  } as unknown as PoolScope;
  return { scope, release };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('FleetScheduler', () => {
  it('ticks zones in parallel: a zone whose pools hang never holds back another zone', async () => {
    const log: string[] = [];
    const slow = ['s1', 's2', 's3'].map((n) => pool(n, 'de-fra-1', log));
    const fast = pool('web', 'at-vie-1', log);
    const fleet = { all: () => [...slow.map((p) => p.scope), fast.scope], size: 4 } as unknown as Fleet;
    const scheduler = new FleetScheduler(settings, fleet, new MetricsService());
    const tick = scheduler.tick();
    await flush();
    // Two slow pools at once (POOL_CONCURRENCY 2) and, beside them, the other zone's pool.
    expect(log).toEqual(['start s1', 'start s2', 'start web']);
    fast.release();
    await flush();
    expect(log).toContain('end web');
    expect(log).not.toContain('start s3');
    slow.forEach((p) => p.release());
    await tick;
    expect(log.filter((l) => l.startsWith('end'))).toHaveLength(4);
  });

  it('skips a tick while the previous one runs, and counts it', async () => {
    const log: string[] = [];
    const one = pool('web', 'at-vie-1', log);
    const metrics = new MetricsService();
    const scheduler = new FleetScheduler(
      settings,
      { all: () => [one.scope], size: 1 } as unknown as Fleet,
      metrics,
    );
    const first = scheduler.tick();
    await scheduler.tick();
    expect(log).toEqual(['start web']);
    expect(await metrics.registry.getSingleMetricAsString('autoscaler_tick_overruns_total')).toMatch(/ 1$/m);
    one.release();
    await first;
    expect(scheduler.lastTickMs).not.toBeNull();
  });

  it('forEachBounded: at most the limit at once, every item once, a failure reported and not fatal', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    const failed: number[] = [];
    await forEachBounded(
      [1, 2, 3, 4, 5, 6, 7],
      3,
      async (n) => {
        running++;
        peak = Math.max(peak, running);
        await flush();
        running--;
        if (n === 4) throw new Error('boom');
        done.push(n);
      },
      (n) => failed.push(n),
    );
    expect(peak).toBe(3);
    expect(done.sort()).toEqual([1, 2, 3, 5, 6, 7]);
    expect(failed).toEqual([4]);
  });
});
