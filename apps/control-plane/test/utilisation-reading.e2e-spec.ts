import { ChildProcess } from 'node:child_process';

import { loadSettings } from '../src/config/settings';
import { UtilisationReader } from '../src/scaling/utilisation-reader';
import { startBackfilledPrometheus } from './support/prometheus';

/**
 * The tick's reading against a real Prometheus whose TSDB holds the recording rules' series of the last ten minutes:
 * the pool busy in its newest scrape interval (irate: 90 % of 2 members) after a quieter minute (the 1-minute
 * mean the alerts use: 30 %), in two pools. The alert path reads the 1-minute mean; target tracking the newest
 * interval.
 */
describe('the utilisation reading (e2e, real Prometheus)', () => {
  let prometheus: ChildProcess;
  let url: string;
  const env = (extra: Record<string, string> = {}) =>
    loadSettings({
      EXOSCALE_KEY: 'EXOkey',
      EXOSCALE_SECRET: 'secret',
      EXOSCALE_INSTANCEPOOL_ID: 'a02baf5a-a3e4-49a0-857b-8a08d276c1c0',
      PROMETHEUS_URL: url,
      ...extra,
    });

  beforeAll(async () => {
    const now = Math.floor(Date.now() / 1000);
    const series: [string, number, number][] = [
      // name, pool web, pool api
      ['pool:node_cpu_utilisation:avg', 0.3, 0.1],
      ['pool:node_cpu_utilisation:members', 2, 3],
      ['pool:node_cpu_utilisation:avg_irate', 0.9, 0.2],
      ['pool:node_cpu_utilisation:members_irate', 2, 3],
    ];
    const lines: string[] = [];
    for (const [name, web, api] of series) {
      lines.push(`# TYPE ${name} gauge`);
      for (let t = now - 600; t <= now - 30; t += 15) {
        lines.push(`${name}{pool="web"} ${web} ${t}`, `${name}{pool="api"} ${api} ${t}`);
      }
    }
    // Requests in flight: recorded for web only (api's members run the app off the host's network, say).
    lines.push('# TYPE pool:node_netstat_Tcp_CurrEstab:in_flight gauge');
    for (let t = now - 600; t <= now - 30; t += 15)
      lines.push(`pool:node_netstat_Tcp_CurrEstab:in_flight{pool="web"} 5 ${t}`);
    const started = await startBackfilledPrometheus(lines, 'pool:node_cpu_utilisation:avg_irate');
    prometheus = started.process;
    url = started.url;
  });
  afterAll(() => {
    prometheus?.kill('SIGTERM');
  });

  it('reads the newest interval under tracking (the default) and the 1-minute mean on the alert path', async () => {
    const now = Date.now() / 1000;
    const alerts = await new UtilisationReader(env({ SCALE_ON_EVERY_READING: 'false' }), 'web').read(now);
    expect(alerts).toEqual({
      measurement: { utilisation: 0.3, members: 2, measuredAt: now, source: 'prometheus' },
    });
    // Tracking reads the requests in flight beside it; the alert path (above) does not.
    const tracking = await new UtilisationReader(env(), 'web').read(now);
    expect(tracking).toEqual({
      measurement: { utilisation: 0.9, members: 2, inFlight: 5, measuredAt: now, source: 'prometheus' },
    });
    // The step policy never tracks: it reads the alerts' mean even with the flag set.
    const step = await new UtilisationReader(
      env({ SCALE_ON_EVERY_READING: 'true', SCALING_POLICY: 'step' }),
      'web',
    ).read(now);
    expect(step).toMatchObject({ measurement: { utilisation: 0.3, members: 2 } });
    // Each pool its own series; one without requests in flight reads without them.
    const api = await new UtilisationReader(env({ SCALE_ON_EVERY_READING: 'true' }), 'api').read(now);
    expect(api).toEqual({
      measurement: { utilisation: 0.2, members: 3, measuredAt: now, source: 'prometheus' },
    });
  });

  it('says which series is missing, and never throws when Prometheus is unreachable', async () => {
    const now = Date.now() / 1000;
    expect(await new UtilisationReader(env({ SCALE_ON_EVERY_READING: 'true' }), 'nope').read(now)).toEqual({
      unavailable: 'Prometheus has no value for pool:node_cpu_utilisation:avg_irate',
    });
    const down = await new UtilisationReader(
      env({ PROMETHEUS_URL: 'http://127.0.0.1:9', SCALE_ON_EVERY_READING: 'true' }),
      'web',
    ).read(now);
    expect(down).toMatchObject({ unavailable: expect.stringMatching(/^Prometheus: /) });
  });
});
