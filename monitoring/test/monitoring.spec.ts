import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { generateLocalConfigs, readYaml, ROOT, run } from './support';

// Static checks of the monitoring configuration with the real validators (promtool, amtool, docker-compose).

interface PromRule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const promRules = readYaml<{ groups: { rules: PromRule[] }[] }>(
  'monitoring/prometheus/rules/autoscaling.rules.yml',
).groups.flatMap((g) => g.rules);

describe('Prometheus', () => {
  it('accepts the cloud configuration and the rules (promtool check)', () => {
    const config = run('promtool', [
      'check',
      'config',
      '--syntax-only',
      'monitoring/prometheus/prometheus.yml',
    ]);
    expect(config.output).toContain('SUCCESS');
    expect(config.status).toBe(0);
    const rules = run('promtool', ['check', 'rules', 'monitoring/prometheus/rules/autoscaling.rules.yml']);
    expect(rules.output).toMatch(/SUCCESS: 12 rules found/);
  });

  it('aggregates every pool-level series by pool, so each pool alerts on its own', () => {
    const recorded = new Map(promRules.filter((r) => r.record).map((r) => [r.record!, r.expr]));
    // The names the control plane reads (with {pool="<name>"} when it manages several pools).
    for (const name of [
      'pool:node_cpu_utilisation:avg',
      'pool:node_cpu_utilisation:members',
      'pool:members:count',
    ])
      expect([name, recorded.get(name)]).toEqual([
        name,
        expect.stringMatching(/^(avg|count) by \(pool\) \(/),
      ]);
    // Per member, the pool label is kept beside the instance (every sum of the ratio).
    const member = recorded.get('instance:node_cpu_utilisation:rate1m')!;
    expect(member.match(/sum by \(([^)]*)\)/g)).toEqual([
      'sum by (pool, instance)',
      'sum by (pool, instance)',
    ]);
    // No alert drops the label: each is a comparison of the per-pool average.
    for (const rule of promRules.filter((r) => r.alert))
      expect([rule.alert, rule.expr]).toEqual([
        rule.alert,
        expect.stringMatching(/^pool:node_cpu_utilisation:avg [<>] /),
      ]);
  });

  it('passes the rule unit tests: high fires, low fires, no data fires nothing, two pools alert apart (promtool test rules)', () => {
    const result = run('promtool', ['test', 'rules', 'monitoring/prometheus/tests/autoscaling.test.yml']);
    expect(result.output).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });

  it('reads utilisation that no counter glitch moves: iowait, steal, irq, softirq, idle, several CPUs, a reboot', () => {
    const result = run('promtool', [
      'test',
      'rules',
      'monitoring/prometheus/tests/counter-glitches.test.yml',
    ]);
    expect(result.output).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });

  it('loads every file of the mounted rules directory as rules (the VM mounts it at /etc/prometheus/rules/*.yml)', () => {
    // Full check (not --syntax-only) with the VM's rule_files glob pointed at the repository's rules directory:
    // anything else there (a promtool test file) would stop Prometheus from loading its rules.
    const dir = mkdtempSync(join(tmpdir(), 'prometheus-vm-'));
    const config = readFileSync(join(ROOT, 'monitoring/prometheus/prometheus.yml'), 'utf8').replace(
      '/etc/prometheus/rules/*.yml',
      join(ROOT, 'monitoring/prometheus/rules/*.yml'),
    );
    writeFileSync(join(dir, 'prometheus.yml'), config);
    const result = run('promtool', ['check', 'config', join(dir, 'prometheus.yml')]);
    expect(result.output).toMatch(/SUCCESS: 12 rules found/);
    expect(result.output).not.toContain('FAILED');
    expect(result.status).toBe(0);
  });

  it('scrapes the pool from the shared service-discovery directory', () => {
    const config = readYaml<{
      scrape_configs: { job_name: string; file_sd_configs?: { files: string[] }[] }[];
      rule_files: string[];
    }>('monitoring/prometheus/prometheus.yml');
    const pool = config.scrape_configs.find((s) => s.job_name === 'pool');
    expect(pool?.file_sd_configs?.[0].files).toEqual(['/srv/service-discovery/*.json']);
    expect(config.scrape_configs.map((s) => s.job_name)).toEqual(
      expect.arrayContaining(['pool', 'control-plane', 'prometheus']),
    );
    expect(config.rule_files).toEqual(['/etc/prometheus/rules/*.yml']);
  });

  it.each(['normal', 'fast'] as const)(
    'generates valid local Prometheus and Alertmanager configs (%s)',
    (mode) => {
      const dir = mkdtempSync(join(tmpdir(), 'local-configs-'));
      const files = generateLocalConfigs(dir, mode);
      const prom = run('promtool', ['check', 'config', files.prometheusFile]);
      expect(prom.output).toMatch(/SUCCESS: 12 rules found/);
      expect(prom.status).toBe(0);
      const am = run('amtool', ['check-config', files.alertmanagerFile]);
      expect(am.output).toContain('SUCCESS');
      expect(am.status).toBe(0);
      const alertmanager = readYaml<{
        receivers: { webhook_configs: { url: string; send_resolved: boolean }[] }[];
      }>(files.alertmanagerFile);
      expect(readYaml<{ route: { group_by: string[] } }>(files.alertmanagerFile).route.group_by).toEqual([
        'alertname',
        'pool',
      ]);
      expect(alertmanager.receivers[0].webhook_configs[0]).toMatchObject({
        url: 'http://127.0.0.1:8090/webhooks/alertmanager',
        send_resolved: true,
      });
      const rules = readFileSync(files.rulesFile, 'utf8');
      expect(rules).toContain(mode === 'fast' ? 'for: 5s' : 'for: 1m');
    },
  );
});

describe('Alertmanager', () => {
  it('is valid (amtool check-config) and sends one notification per pool', () => {
    const dir = mkdtempSync(join(tmpdir(), 'alertmanager-'));
    const file = join(dir, 'alertmanager.yml');
    writeFileSync(
      file,
      readFileSync(join(ROOT, 'monitoring/alertmanager/alertmanager.yml'), 'utf8').replace(
        'url: CONTROL_PLANE_URL',
        'url: http://127.0.0.1:8090',
      ),
    );
    const result = run('amtool', ['check-config', file]);
    expect(result.output).toContain('SUCCESS');
    expect(result.status).toBe(0);
    const config = readYaml<{ route: { group_by: string[] } }>('monitoring/alertmanager/alertmanager.yml');
    expect(config.route.group_by).toEqual(expect.arrayContaining(['alertname', 'pool']));
  });
});

describe('Grafana provisioning', () => {
  const datasources = readYaml<{ datasources: { uid: string; type: string; url: string }[] }>(
    'monitoring/grafana/provisioning/datasources/prometheus.yaml',
  ).datasources;
  const alerting = readYaml<{
    contactPoints: {
      name: string;
      receivers: {
        uid: string;
        type: string;
        settings: Record<string, unknown>;
        disableResolveMessage?: boolean;
      }[];
    }[];
    policies: {
      receiver: string;
      group_by: string[];
      repeat_interval: string;
      routes: {
        receiver: string;
        object_matchers: string[][];
        group_by: string[];
        repeat_interval: string;
      }[];
    }[];
    groups: {
      name: string;
      folder: string;
      interval: string;
      rules: {
        uid: string;
        title: string;
        condition: string;
        for: string;
        noDataState: string;
        execErrState: string;
        labels: Record<string, string>;
        annotations: Record<string, string>;
        data: {
          refId: string;
          datasourceUid: string;
          relativeTimeRange?: { from: number };
          model: Record<string, unknown>;
        }[];
      }[];
    }[];
  }>('monitoring/grafana/provisioning/alerting/autoscaling.yaml');
  const rules = alerting.groups.flatMap((g) => g.rules);
  const dashboard = JSON.parse(
    readFileSync(join(ROOT, 'monitoring/grafana/dashboards/autoscaling.json'), 'utf8'),
  );

  it('has a Prometheus datasource with a fixed uid', () => {
    expect(datasources).toEqual([
      expect.objectContaining({ uid: 'prometheus', type: 'prometheus', url: 'http://prometheus:9090' }),
    ]);
  });

  it('gives every rule a valid uid, an existing condition refId and known datasource uids', () => {
    const known = new Set([...datasources.map((d) => d.uid), '__expr__']);
    for (const rule of rules) {
      expect(rule.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
      expect(rule.data.map((d) => d.refId)).toContain(rule.condition);
      for (const query of rule.data) {
        expect(known.has(query.datasourceUid)).toBe(true);
        if (query.datasourceUid !== '__expr__') expect(query.relativeTimeRange?.from).toBeGreaterThan(0);
      }
    }
    expect(new Set(rules.map((r) => r.uid)).size).toBe(rules.length);
  });

  it('evaluates rule groups on a multiple of 10 s', () => {
    for (const group of alerting.groups) {
      const seconds =
        Number(/^(\d+)s$/.exec(group.interval)?.[1] ?? /^(\d+)m$/.exec(group.interval)?.[1] ?? NaN) *
        (group.interval.endsWith('m') ? 60 : 1);
      expect(seconds % 10).toBe(0);
      expect(seconds).toBeGreaterThan(0);
    }
  });

  it('never scales on missing data or a failing query', () => {
    for (const rule of rules) {
      expect(rule.noDataState).toBe('OK');
      expect(rule.execErrState).toBe('OK');
    }
  });

  it('uses the same expression, thresholds, durations and labels as the Prometheus rules', () => {
    const recorded = new Set(promRules.filter((r) => r.record).map((r) => r.record));
    for (const rule of rules) {
      const promAlert = promRules.find((r) => r.alert === rule.title);
      expect(promAlert).toBeDefined();
      const [, metric, op, value] = /^(\S+) ([<>]) ([\d.]+)$/.exec(promAlert!.expr)!;
      const query = rule.data.find((d) => d.datasourceUid === 'prometheus')!;
      expect(query.model.expr).toBe(metric);
      expect(recorded.has(metric)).toBe(true);
      const threshold = rule.data.find((d) => d.model.type === 'threshold')!.model as {
        conditions: { evaluator: { type: string; params: number[] } }[];
      };
      expect(threshold.conditions[0].evaluator).toEqual({
        type: op === '>' ? 'gt' : 'lt',
        params: [Number(value)],
      });
      expect(rule.for).toBe(promAlert!.for);
      expect(rule.labels.autoscale).toBe(promAlert!.labels!.autoscale);
      expect(rule.labels.autoscale_policy).toBe(promAlert!.labels!.autoscale_policy);
      // Every notification carries the utilisation for the capacity-aware policy.
      expect(rule.annotations.value).toBe('{{ $values.B.Value }}');
      expect(promAlert!.annotations!.value).toBe('{{ $value }}');
    }
    // The course's two rules, and the target policy's early scale-in rule.
    expect(rules.map((r) => `${r.title} ${r.labels.autoscale}`).sort()).toEqual([
      'PoolCpuBelowTarget down',
      'PoolCpuHigh up',
      'PoolCpuLow down',
    ]);
  });

  it('notifies the control plane webhook with credentials and repeats while firing', () => {
    const receiver = alerting.contactPoints[0].receivers[0];
    expect(receiver).toMatchObject({
      type: 'webhook',
      settings: { url: 'http://control-plane:8090/webhooks/grafana', httpMethod: 'POST' },
    });
    expect(receiver.settings).toMatchObject({
      username: '${WEBHOOK_USERNAME}',
      password: '${WEBHOOK_PASSWORD}',
    });
    expect((receiver.settings.hmacConfig as Record<string, string>).secret).toBe('${WEBHOOK_HMAC_SECRET}');
    const receivers = new Set(alerting.contactPoints.map((c) => c.name));
    const root = alerting.policies[0];
    expect(receivers.has(root.receiver)).toBe(true);
    expect(root.routes.every((r) => receivers.has(r.receiver))).toBe(true);
    expect(root.routes[0].object_matchers).toEqual([['autoscale', '=~', 'up|down']]);
    expect(root.routes[0].repeat_interval).toBe('5m');
  });

  it('alerts per pool: one instance per pool series, labelled pool, and one notification per pool', () => {
    const recorded = new Map(promRules.filter((r) => r.record).map((r) => [r.record!, r.expr]));
    for (const rule of rules) {
      const query = rule.data.find((d) => d.datasourceUid === 'prometheus')!.model;
      // The query is the per-pool recording rule (one series per pool, grouped by pool), read as an instant
      // vector: Grafana makes an alert instance per series, each with the series' labels, `pool` among them.
      expect(recorded.get(String(query.expr))).toMatch(/^\w+ by \(pool\) /);
      expect(query).toMatchObject({ instant: true, range: false });
      // The reduce and threshold keep the series' labels; no static label overrides `pool`.
      expect(rule.labels).not.toHaveProperty('pool');
      expect(rule.annotations.summary).toContain('{{ with $labels.pool }} in pool {{ . }}{{ end }}');
    }
    const root = alerting.policies[0];
    for (const policy of [root, ...root.routes])
      expect(policy.group_by).toEqual(expect.arrayContaining(['alertname', 'pool']));
  });

  it('has a dashboard whose panels use the provisioned datasource and existing metrics', () => {
    expect(dashboard.uid).toBe('autoscaling');
    for (const rule of rules)
      expect((rule as unknown as { dashboardUid: string }).dashboardUid).toBe(dashboard.uid);
    const recorded = promRules.filter((r) => r.record).map((r) => r.record!);
    const ownMetrics = readFileSync(
      join(ROOT, 'apps/control-plane/src/metrics/metrics.service.ts'),
      'utf8',
    ).match(/autoscaler_[a-z_]+/g)!;
    const exprs: string[] = [];
    for (const panel of dashboard.panels) {
      expect(panel.datasource.uid).toBe('prometheus');
      for (const target of panel.targets) {
        expect(target.datasource.uid).toBe('prometheus');
        exprs.push(target.expr);
      }
    }
    for (const expr of exprs) {
      const names = expr.match(/[a-z_]+:[a-z_:0-9]+|autoscaler_[a-z_]+/g) ?? [];
      for (const name of names) expect([...recorded, ...ownMetrics]).toContain(name);
    }
    // CPU is read only through the glitch-proof recording rules, never from the raw counters.
    for (const expr of [...exprs, ...rules.flatMap((r) => r.data.map((d) => String(d.model.expr ?? '')))])
      expect(expr).not.toContain('node_cpu_seconds_total');
    // A `pool` variable, and every pool-level panel filtered by it (the control plane's own series also when they
    // have no pool label, `pool=~"$pool|"`).
    const variable = dashboard.templating.list.find((v: { name: string }) => v.name === 'pool');
    expect(variable).toMatchObject({
      type: 'query',
      definition: 'label_values(pool)',
      datasource: { uid: 'prometheus' },
      multi: true,
      includeAll: true,
    });
    expect(variable.query.query).toBe('label_values(pool)');
    const unfiltered = exprs.filter((e) => !/pool=~"\$pool\|?"/.test(e));
    expect(unfiltered).toEqual([
      'sum by (source, direction, outcome) (increase(autoscaler_webhooks_received_total[1m]))',
      'sum by (operation, status) (increase(autoscaler_exoscale_api_requests_total[1m]))',
    ]);
    for (const expr of exprs.filter((e) => /pool:|instance:/.test(e)))
      expect(expr).toContain('{pool=~"$pool"}');
    const cpu = dashboard.panels.find((p: { id: number }) => p.id === 1);
    expect(cpu.targets[0].legendFormat).toBe('{{pool}}');
    expect(cpu.fieldConfig.defaults.thresholds.steps.map((s: { value: number | null }) => s.value)).toEqual([
      null,
      0.2,
      0.8,
    ]);
  });
});

describe('docker-compose.monitor.yml', () => {
  const env = {
    EXOSCALE_KEY: 'EXOtest',
    EXOSCALE_SECRET: 'secret',
    POOLS_FILE: '/etc/autoscaler/pools/pools.yaml',
    WEBHOOK_USERNAME: 'grafana',
    WEBHOOK_PASSWORD: 'password',
    WEBHOOK_HMAC_SECRET: 'hmac',
    API_TOKEN: 'token',
    GRAFANA_ADMIN_PASSWORD: 'admin',
  };
  const compose = readYaml<{
    services: Record<
      string,
      {
        image?: string;
        restart?: string;
        volumes?: string[];
        healthcheck?: unknown;
        environment?: Record<string, string>;
        build?: unknown;
      }
    >;
    volumes: Record<string, unknown>;
  }>('docker-compose.monitor.yml');

  it('is a valid Compose file (docker-compose config)', () => {
    const envFile = join(mkdtempSync(join(tmpdir(), 'compose-')), 'monitor.env');
    writeFileSync(
      envFile,
      Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
    );
    const ok = run('docker-compose', [
      '-f',
      'docker-compose.monitor.yml',
      '--env-file',
      envFile,
      'config',
      '-q',
    ]);
    expect(ok.output).toBe('');
    expect(ok.status).toBe(0);
    const emptyEnv = join(mkdtempSync(join(tmpdir(), 'compose-')), 'empty.env');
    writeFileSync(emptyEnv, '');
    const missing = run('docker-compose', [
      '-f',
      'docker-compose.monitor.yml',
      '--env-file',
      emptyEnv,
      'config',
      '-q',
    ]);
    expect(missing.status).not.toBe(0);
    expect(missing.output).toContain('set in the env file');
  });

  it('pins every image, restarts every service and shares the SD directory', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['control-plane', 'grafana', 'prometheus']);
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.restart).toBe('unless-stopped');
      if (name !== 'control-plane') {
        expect(service.image).toMatch(/:v?\d+\.\d+\.\d+$/);
        expect(service.healthcheck).toBeDefined();
      }
    }
    expect(compose.services['control-plane'].build).toBeDefined();
    expect(compose.services.prometheus.volumes).toContain('service-discovery:/srv/service-discovery:ro');
    expect(compose.services['control-plane'].volumes).toContain('service-discovery:/srv/service-discovery');
    expect(Object.keys(compose.volumes)).toEqual(
      expect.arrayContaining(['service-discovery', 'prometheus-data', 'grafana-data']),
    );
    expect(compose.services['control-plane'].environment?.SD_FILE).toBe('/srv/service-discovery/config.json');
  });

  it('gives each service only its own secrets', () => {
    expect(Object.keys(compose.services.grafana.environment ?? {})).not.toContain('EXOSCALE_SECRET');
    expect(Object.keys(compose.services.prometheus.environment ?? {})).toEqual([]);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  it('is multi-stage on Node 22, non-root, production-only, with a health check on 8090', () => {
    expect(dockerfile.match(/^FROM /gm)!.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:22[-.\w]*slim/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(dockerfile).toMatch(/^EXPOSE 8090$/m);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/main.js"\]$/m);
  });
});
