import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { parse } from 'yaml';

import { generateConfigs } from './configs';
import { timingFor, TIMINGS } from './timings';

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
      'avg(instance:node_cpu_utilisation:rate5s)',
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
});
