import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { parse } from 'yaml';

import { generateConfigs, localPoolsFile } from './configs';
import { controlPlaneSettings, replicaSettings } from './stack';
import { POOL_ID, stackControlPlanes, stackPools, Timing, timingFor, TIMINGS } from './timings';

const ROOT = resolve(__dirname, '../../..');
type Rule = { record?: string; alert?: string; expr: string; for?: string };

describe('local stack config generation', () => {
  it('gives the rules the fast windows and pending times, keeping the comments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'local-configs-'));
    const files = generateConfigs(ROOT, dir, TIMINGS.fast, join(dir, 'sd'));
    const text = readFileSync(files.rulesFile, 'utf8');
    expect(text).toContain('# Per member: share of CPU time not idle');
    const rules = (parse(text) as { groups: { rules: Rule[] }[] }).groups[0].rules;
    expect(rules.map((r) => r.record ?? r.alert)).toContain('instance:node_cpu_utilisation:rate5s');
    for (const rule of rules) {
      expect(rule.expr).not.toContain('[1m]');
      if (rule.alert) expect(rule.for).toBe('5s');
    }
    expect(rules.find((r) => r.record === 'pool:node_cpu_utilisation:avg')!.expr).toBe(
      'avg by (pool) (instance:node_cpu_utilisation:rate5s)',
    );
  });

  it('points Alertmanager at the control plane with the stack timings, and Prometheus at the SD directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'local-configs-'));
    const files = generateConfigs(ROOT, dir, TIMINGS.normal, join(dir, 'sd'));
    const am = parse(readFileSync(files.alertmanagerFile, 'utf8')) as {
      route: Record<string, string>;
      receivers: { webhook_configs: { url: string; send_resolved: boolean }[] }[];
    };
    expect(am.route).toMatchObject({ group_wait: '10s', group_interval: '30s', repeat_interval: '1m' });
    expect(am.receivers[0].webhook_configs[0]).toMatchObject({
      url: 'http://127.0.0.1:8090/webhooks/alertmanager',
      send_resolved: true,
    });
    const prom = parse(readFileSync(files.prometheusFile, 'utf8')) as {
      global: Record<string, string>;
      rule_files: string[];
      scrape_configs: { job_name: string; file_sd_configs?: { files: string[] }[] }[];
    };
    expect(prom.global.scrape_interval).toBe('15s');
    expect(prom.rule_files).toEqual([files.rulesFile]);
    expect(prom.scrape_configs.find((j) => j.job_name === 'pool')!.file_sd_configs![0].files).toEqual([
      `${join(dir, 'sd')}/*.json`,
    ]);
  });

  it('derives the warm-up from a given boot time', () => {
    expect(timingFor(true, 10)).toMatchObject({ bootDelayMs: 10000, warmupSeconds: 16 });
    expect(timingFor(false)).toBe(TIMINGS.normal);
  });

  it("writes the pools file of --pools N: pool-K with the emulator's K-th id behind the NLB on 8000+K-1", () => {
    const pools = stackPools(2);
    expect(pools).toEqual([
      { name: 'pool-1', id: POOL_ID, nlbPort: 8000 },
      { name: 'pool-2', id: '6f0b7a35-4f5e-4a53-9d3e-000000000002', nlbPort: 8001 },
    ]);
    expect(parse(localPoolsFile(pools, { min: 1, max: 5 }))).toEqual({
      pools: [
        { name: 'pool-1', id: POOL_ID, zone: 'at-vie-1', min: 1, max: 5 },
        { name: 'pool-2', id: pools[1].id, zone: 'at-vie-1', min: 1, max: 5 },
      ],
    });
    const schedule = '[{name: soon, start: "* * * * *", duration: 10m, min: 3}]';
    const withSchedule = parse(localPoolsFile(pools, { min: 1, max: 5, schedule })) as {
      pools: { settings: { SCHEDULES: string } }[];
    };
    expect(withSchedule.pools.map((p) => p.settings.SCHEDULES)).toEqual([schedule, schedule]);
  });

  it('gives one control plane as before, and two replicas cp-1 on 8090 and cp-2 on 8091', () => {
    expect(stackControlPlanes(1)).toEqual([
      { name: 'control-plane', port: 8090, url: 'http://127.0.0.1:8090' },
    ]);
    expect(stackControlPlanes(2)).toEqual([
      { name: 'control-plane-1', replicaId: 'cp-1', port: 8090, url: 'http://127.0.0.1:8090' },
      { name: 'control-plane-2', replicaId: 'cp-2', port: 8091, url: 'http://127.0.0.1:8091' },
    ]);
  });

  it('with two replicas, Alertmanager posts every notification to both and Prometheus scrapes both', () => {
    const dir = mkdtempSync(join(tmpdir(), 'local-configs-'));
    const files = generateConfigs(ROOT, dir, TIMINGS.fast, join(dir, 'sd'), stackControlPlanes(2));
    const am = parse(readFileSync(files.alertmanagerFile, 'utf8')) as {
      route: { receiver: string };
      receivers: { name: string; webhook_configs: Record<string, unknown>[] }[];
    };
    expect(am.receivers).toHaveLength(1);
    expect(am.route.receiver).toBe(am.receivers[0].name);
    expect(am.receivers[0].webhook_configs).toEqual([
      { url: 'http://127.0.0.1:8090/webhooks/alertmanager', send_resolved: true, max_alerts: 10 },
      { url: 'http://127.0.0.1:8091/webhooks/alertmanager', send_resolved: true, max_alerts: 10 },
    ]);
    const prom = parse(readFileSync(files.prometheusFile, 'utf8')) as {
      scrape_configs: { job_name: string; static_configs?: { targets: string[] }[] }[];
    };
    expect(prom.scrape_configs.find((j) => j.job_name === 'control-plane')!.static_configs).toEqual([
      { targets: ['127.0.0.1:8090', '127.0.0.1:8091'] },
    ]);
    // The same generated files pass the real validators (Debian's packages; scripts/setup.sh installs them).
    for (const [command, args] of [
      ['amtool', ['check-config', files.alertmanagerFile]],
      ['promtool', ['check', 'config', files.prometheusFile]],
    ] as const) {
      const result = spawnSync(command, args, { encoding: 'utf8' });
      if (result.error) throw new Error(`${command} is not installed: run bash scripts/setup.sh`);
      expect({ command, status: result.status, output: `${result.stdout}${result.stderr}` }).toMatchObject({
        status: 0,
      });
    }
  });

  it('with one control plane, its config is the one of before (one webhook, one scrape target)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'local-configs-'));
    const before = generateConfigs(ROOT, dir, TIMINGS.fast, join(dir, 'sd'));
    const text = (f: string) => readFileSync(f, 'utf8');
    const am = text(before.alertmanagerFile);
    const prom = text(before.prometheusFile);
    const again = generateConfigs(ROOT, dir, TIMINGS.fast, join(dir, 'sd'), stackControlPlanes(1));
    expect(text(again.alertmanagerFile)).toBe(am);
    expect(text(again.prometheusFile)).toBe(prom);
    expect(
      (parse(am) as { receivers: { webhook_configs: unknown[] }[] }).receivers[0].webhook_configs,
    ).toHaveLength(1);
  });

  it('gives each replica its port, name, the database, the lease timings and its own state directory', () => {
    const settingsWith = (timing: Timing) =>
      controlPlaneSettings({
        credentials: { EXOSCALE_KEY: 'EXOk', EXOSCALE_SECRET: 's' },
        poolSettings: { EXOSCALE_INSTANCEPOOL_ID: POOL_ID },
        sdFile: '/d/service-discovery/config.json',
        stateDir: '/d/state',
        timing,
        policy: 'target',
      });
    const base = settingsWith(TIMINGS.fast);
    expect(base).toMatchObject({
      LISTEN_PORT: '8090',
      STATE_DIR: '/d/state',
      SCALING_INTERVAL_SECONDS: '5',
      // A compressed day: the forecast reads history within minutes.
      FORECAST_DAY_SECONDS: '120',
      FORECAST_LEAD_SECONDS: '15',
      // The trend's horizon and window compressed as the tick is (60 s -> 5 s).
      TREND_SECONDS: '10',
      TREND_WINDOW_SECONDS: '20',
    });
    expect(settingsWith(TIMINGS.normal)).not.toHaveProperty('FORECAST_DAY_SECONDS');
    expect(settingsWith(TIMINGS.normal)).not.toHaveProperty('TREND_SECONDS');
    expect(base).not.toHaveProperty('DATABASE_URL');
    const [one] = stackControlPlanes(1);
    expect(replicaSettings(one, TIMINGS.fast, undefined, '/d/state')).toEqual({});
    const url = 'postgres://autoscaler:pw@127.0.0.1:5433/autoscaler';
    const [cp1, cp2] = stackControlPlanes(2);
    expect(replicaSettings(cp2, TIMINGS.fast, url, '/d/state')).toEqual({
      LISTEN_PORT: '8091',
      STATE_DIR: '/d/state/cp-2',
      DATABASE_URL: url,
      REPLICA_ID: 'cp-2',
      LEASE_DURATION_SECONDS: '6',
      LEASE_RENEW_DEADLINE_SECONDS: '4',
      LEASE_RETRY_PERIOD_SECONDS: '1',
    });
    expect(replicaSettings(cp1, TIMINGS.normal, url, '/d/state')).toMatchObject({
      LISTEN_PORT: '8090',
      REPLICA_ID: 'cp-1',
      LEASE_DURATION_SECONDS: '15',
      LEASE_RENEW_DEADLINE_SECONDS: '10',
      LEASE_RETRY_PERIOD_SECONDS: '2',
    });
    // The control plane's rule: duration > renew deadline > retry period.
    for (const { lease } of [TIMINGS.fast, TIMINGS.normal, timingFor(true, 30)])
      expect(
        lease.durationSeconds > lease.renewDeadlineSeconds &&
          lease.renewDeadlineSeconds > lease.retryPeriodSeconds,
      ).toBe(true);
  });
});
