import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { parse } from 'yaml';

import { generateConfigs, localPoolsFile } from './configs';
import { POOL_ID, stackPools, timingFor, TIMINGS } from './timings';

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
});
