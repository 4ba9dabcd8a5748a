import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { DEFAULT_POLICY_SETTINGS, PolicyName, PolicySettings, READING_SERIES } from '@app/scaling-policy';
import { parse } from 'yaml';

import { ModelSettings, NotificationModel, RuleModel } from './model';

export class SettingsFileError extends Error {}

/** `10s`, `1m`, `5m`, `1h`, `1m30s` -> seconds. */
export function parseDuration(text: string): number {
  const parts = [...String(text).matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== String(text).trim())
    throw new SettingsFileError(`not a duration: ${JSON.stringify(text)}`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600 } as const;
  return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2] as keyof typeof unit], 0);
}

const read = (root: string, path: string): unknown => {
  try {
    return parse(readFileSync(join(root, path), 'utf8'));
  } catch (error) {
    throw new SettingsFileError(`${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
};

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The Grafana rules the cloud alerts with: threshold, direction and `for` of each. */
function grafanaRules(file: Obj): { rules: RuleModel[]; interval: number } {
  const group = (file.groups as Obj[]).find((g) => g.name === 'autoscaling');
  if (!group) throw new SettingsFileError('Grafana alerting: no rule group "autoscaling"');
  const rules = (group.rules as Obj[]).map((rule): RuleModel => {
    const condition = (rule.data as Obj[]).find((d) => d.refId === rule.condition);
    const evaluator = condition?.model?.conditions?.[0]?.evaluator as Obj | undefined;
    const direction = rule.labels?.autoscale as string;
    if (!evaluator || !['gt', 'lt'].includes(evaluator.type) || !['up', 'down'].includes(direction))
      throw new SettingsFileError(
        `Grafana rule ${rule.title}: expected a gt/lt threshold and autoscale=up|down`,
      );
    return {
      name: rule.title as string,
      direction: direction as RuleModel['direction'],
      op: evaluator.type === 'gt' ? '>' : '<',
      threshold: Number(evaluator.params[0]),
      forSeconds: parseDuration(rule.for as string),
      targetOnly: rule.labels?.autoscale_policy === 'target',
    };
  });
  return { rules, interval: parseDuration(group.interval as string) };
}

/** The notification policy route the autoscaling alerts take, and whether resolved notifications are sent. */
function grafanaNotification(file: Obj): NotificationModel {
  const root = (file.policies as Obj[])[0];
  const route = ((root.routes as Obj[] | undefined) ?? []).find((r) =>
    JSON.stringify(r.object_matchers ?? []).includes('autoscale'),
  );
  const pick = (key: string) => parseDuration((route?.[key] ?? root[key]) as string);
  const receiver = (file.contactPoints as Obj[]).flatMap((c) => c.receivers as Obj[])[0];
  return {
    groupWait: pick('group_wait'),
    groupInterval: pick('group_interval'),
    repeatInterval: pick('repeat_interval'),
    sendResolved: receiver?.disableResolveMessage !== true,
  };
}

/** `${NAME:-default}` values of the control plane's environment in the monitoring VM's compose file. */
function composeEnvironment(file: Obj): Record<string, string> {
  const env = (file.services?.['control-plane']?.environment ?? {}) as Obj;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    const m = /^\$\{[A-Z_]+:-(.*)\}$/.exec(String(value));
    out[key] = m ? m[1] : String(value);
  }
  return out;
}

/**
 * The cloud pipeline as shipped: Grafana rules and notification policy, Prometheus' scrape interval and rate
 * window, and the control plane's settings on the monitoring VM (its defaults, overridden by the compose file).
 */
export function shippedCloudSettings(
  root: string,
): Omit<ModelSettings, 'noise' | 'seed' | 'bounds' | 'boot'> {
  const grafana = read(root, 'monitoring/grafana/provisioning/alerting/autoscaling.yaml') as Obj;
  const prometheus = read(root, 'monitoring/prometheus/prometheus.yml') as Obj;
  const recording = read(root, 'monitoring/prometheus/rules/autoscaling.rules.yml') as Obj;
  const compose = read(root, 'docker-compose.monitor.yml') as Obj;

  const { rules, interval } = grafanaRules(grafana);
  const rateExpr = (recording.groups as Obj[])
    .flatMap((g) => g.rules as Obj[])
    .find((r) => r.record === 'instance:node_cpu_utilisation:rate1m')?.expr as string | undefined;
  const window = rateExpr && /\[(\w+)\]/.exec(rateExpr);
  if (!window)
    throw new SettingsFileError('Prometheus rules: no rate window in instance:node_cpu_utilisation:rate1m');

  const scrapeInterval = parseDuration((prometheus.global as Obj).scrape_interval as string);
  const readingWindow = readingWindowOf(recording, scrapeInterval);

  const env = composeEnvironment(compose);
  const num = (key: string, fallback: number) => (env[key] !== undefined ? Number(env[key]) : fallback);
  const policy: PolicySettings = {
    ...DEFAULT_POLICY_SETTINGS,
    bounds: { min: num('POOL_MIN_SIZE', 1), max: num('POOL_MAX_SIZE', 10) },
    policy: (env.SCALING_POLICY as PolicyName | undefined) ?? DEFAULT_POLICY_SETTINGS.policy,
    targetUtilisation: num('TARGET_UTILIZATION', DEFAULT_POLICY_SETTINGS.targetUtilisation),
    scaleInUtilisation: num('SCALE_IN_UTILIZATION', DEFAULT_POLICY_SETTINGS.scaleInUtilisation),
    warmupSeconds: num('WARMUP_SECONDS', DEFAULT_POLICY_SETTINGS.warmupSeconds),
    scaleOnEveryReading:
      env.SCALE_ON_EVERY_READING !== undefined
        ? env.SCALE_ON_EVERY_READING === 'true'
        : DEFAULT_POLICY_SETTINGS.scaleOnEveryReading,
    trackingUtilisation: num('TRACKING_UTILIZATION', DEFAULT_POLICY_SETTINGS.trackingUtilisation),
    upCooldownSeconds: num('SCALE_UP_COOLDOWN_SECONDS', DEFAULT_POLICY_SETTINGS.upCooldownSeconds),
    downCooldownSeconds: num('SCALE_DOWN_COOLDOWN_SECONDS', DEFAULT_POLICY_SETTINGS.downCooldownSeconds),
  };
  return {
    scrapeInterval,
    rateWindow: parseDuration(window[1]),
    readingWindow,
    evaluationInterval: interval,
    discoveryInterval: num('DISCOVERY_INTERVAL_SECONDS', 10),
    rules,
    notification: grafanaNotification(grafana),
    tickInterval: num('SCALING_INTERVAL_SECONDS', 60),
    valueSource: env.PROMETHEUS_URL ? 'prometheus' : 'notification',
    alertTtl: num('ALERT_TTL_SECONDS', 420),
    policy,
    // The tick reads the requests in flight when the rules record them (and tracking reads at every tick).
    inFlight: (recording.groups as Obj[])
      .flatMap((g) => g.rules as Obj[])
      .some((r) => r.record === READING_SERIES.inFlight),
  };
}

/**
 * The window of the tick's reading: the rules record READING_SERIES.utilisation as an average of a per-member
 * series; that series' `irate` covers the newest scrape interval, a `rate(...[w])` covers w.
 * @throws SettingsFileError when the rules do not record the series the control plane reads
 */
function readingWindowOf(recording: Obj, scrapeInterval: number): number {
  const rules = (recording.groups as Obj[]).flatMap((g) => g.rules as Obj[]);
  const expr = (record: string) => rules.find((r) => r.record === record)?.expr as string | undefined;
  const pool = expr(READING_SERIES.utilisation);
  const member = pool && /\(\s*([\w:]+)\s*\)\s*$/.exec(pool)?.[1];
  const source = member && expr(member);
  if (!source)
    throw new SettingsFileError(
      `Prometheus rules: ${READING_SERIES.utilisation} is not an average of a recorded per-member series`,
    );
  if (/\birate\(/.test(source)) return scrapeInterval;
  const window = /\brate\([^[]*\[(\w+)\]/.exec(source);
  if (!window) throw new SettingsFileError(`Prometheus rules: no rate window in ${member}`);
  return parseDuration(window[1]);
}
