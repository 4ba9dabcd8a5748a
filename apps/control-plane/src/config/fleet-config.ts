import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { isUUID } from 'class-validator';
import { parse as parseYaml } from 'yaml';

import { checkSettings, loadSettings, POOL_NAME_PATTERN, Settings, SettingsError } from './settings';

/** One managed pool: who it is, and its own settings (the environment's, with the pool's fields and overrides). */
export interface PoolConfig {
  /** The pool's name: the `pool` label of its targets and alerts, its URLs (/pools/{name}), its metrics. */
  name: string;
  /** The instance pool's UUID. */
  id: string;
  zone: string;
  settings: Settings;
}

/** The control plane's configuration: process-wide settings and the pools it manages (at least one). */
export interface FleetConfig {
  settings: Settings;
  pools: PoolConfig[];
  /** `env`: the one-pool shorthand (EXOSCALE_INSTANCEPOOL_ID ...); `file`: POOLS_FILE. */
  source: 'env' | 'file';
  /** The pools file's `discovery`: pools labelled `autoscaler/enabled=true` in these zones are managed too. */
  discovery?: PoolDiscoveryConfig;
  /** The environment the pools' settings were built from (a discovered pool's are built from it too). */
  env?: Record<string, string | undefined>;
}

/** Label discovery (like cluster-autoscaler's tag discovery), from the pools file's `discovery:` mapping. */
export interface PoolDiscoveryConfig {
  zones: string[];
  /** How often the zones' pools are listed again. */
  intervalSeconds: number;
}

/** The labels label discovery reads on an instance pool. */
export const DISCOVERY_LABELS = {
  enabled: 'autoscaler/enabled',
  name: 'autoscaler/name',
  min: 'autoscaler/min',
  max: 'autoscaler/max',
} as const;

/**
 * The settings a pool may override in the pools file's `settings:` map; the others are process-wide (ports, keys,
 * files, webhook credentials). Names and values are those of the environment (docs/architecture.md §3).
 */
export const POOL_SETTINGS = [
  'SCALING_POLICY',
  'TARGET_UTILIZATION',
  'SCALE_IN_UTILIZATION',
  'WARMUP_SECONDS',
  'SCALE_ON_EVERY_READING',
  'TRACKING_UTILIZATION',
  'TREND_SECONDS',
  'TREND_WINDOW_SECONDS',
  'IN_FLIGHT_LOAD',
  'SCALE_UP_COOLDOWN_SECONDS',
  'SCALE_DOWN_COOLDOWN_SECONDS',
  'ALERT_TTL_SECONDS',
  'SCHEDULES',
  'FORECAST_MODE',
  'FORECAST_MARGIN',
  'FORECAST_LEAD_SECONDS',
  'FORECAST_DAY_SECONDS',
  'FORECAST_TARGET_UTILIZATION',
  'FORECAST_PEAK_QUANTILE',
  'TARGET_PORT',
  'DRY_RUN',
  'HEALTH_REPLACEMENT',
  'HEALTH_GRACE_SECONDS',
  'HEALTH_FAILURE_READS',
  'HEALTH_FAILURE_SECONDS',
  'HEALTH_STARTUP_TIMEOUT_SECONDS',
  'HEALTH_MAX_UNHEALTHY_PERCENT',
] as const;

const ENTRY_FIELDS = ['name', 'id', 'zone', 'min', 'max', 'settings'];
/** Environment settings that name the one pool of the shorthand: meaningless beside a pools file. */
const SHORTHAND_ONLY = ['EXOSCALE_INSTANCEPOOL_ID', 'POOL_NAME', 'POOL_MIN_SIZE', 'POOL_MAX_SIZE'];
const ZONE_PATTERN = /^[a-z]{2}-[a-z]{2,4}-\d+$/;
const MAX_POOLS = 5000;

/** The pool's file_sd file in pools-file mode: one per pool, beside SD_FILE (Prometheus globs `*.json` there). */
export const poolSdFile = (sdFile: string, name: string) => join(dirname(sdFile), `pool-${name}.json`);
/** The pool's state directory in pools-file mode: by its id, so a renamed pool keeps its state. */
export const poolStateDir = (stateDir: string, id: string) => join(stateDir, 'pools', id);

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * Builds the fleet from an environment: without POOLS_FILE, the one pool of the shorthand (settings exactly as
 * loadSettings gives them); with it, every pool of the YAML file
 * `{pools: [{name, id, zone?, min, max, settings?: {SETTING: value}}]}` (zone defaults to EXOSCALE_ZONE).
 * @throws SettingsError listing every problem; a pool's problems name it and the field (`pools[1] (web): max ...`).
 */
export function loadFleetConfig(
  env: Record<string, string | undefined>,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): FleetConfig {
  if (!env.POOLS_FILE?.trim()) {
    const settings = loadSettings(env);
    return {
      settings,
      source: 'env',
      pools: [
        {
          name: settings.POOL_NAME,
          id: settings.EXOSCALE_INSTANCEPOOL_ID,
          zone: settings.EXOSCALE_ZONE,
          settings,
        },
      ],
    };
  }
  // Process-wide settings; the checks between a pool's settings are made per pool, with its own values.
  const checked = checkSettings(env, { poolChecks: false });
  const settings = checked.settings;
  const problems: string[] = [...checked.problems];
  const global = new Set(checked.problems);
  const file = settings.POOLS_FILE ?? env.POOLS_FILE!.trim();
  for (const key of SHORTHAND_ONLY) {
    if (env[key] !== undefined && env[key] !== '')
      problems.push(`${key} is the one-pool shorthand: with POOLS_FILE, give each pool's values in the file`);
  }
  let document: unknown;
  try {
    document = parseYaml(readFile(file), { prettyErrors: true, uniqueKeys: true, merge: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    const code = (error as { code?: unknown }).code;
    throw new SettingsError([
      ...problems,
      typeof code === 'string' && /^E[A-Z]+$/.test(code)
        ? `POOLS_FILE ${file} cannot be read (${code})`
        : `POOLS_FILE ${file} is not valid YAML: ${reason}`,
    ]);
  }
  const list = (document as { pools?: unknown } | null)?.pools;
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    throw new SettingsError([...problems, `POOLS_FILE ${file} must be a mapping with a "pools" list`]);
  // Fields named x-... hold YAML anchors for the pools (as in a compose file); anything else is a mistake.
  const extra = Object.keys(document).filter(
    (k) => k !== 'pools' && k !== 'discovery' && !k.startsWith('x-'),
  );
  if (extra.length > 0) problems.push(`POOLS_FILE: unknown top-level field(s) ${extra.join(', ')}`);
  const discovery = parseDiscovery((document as { discovery?: unknown }).discovery, problems);
  if (discovery && (list === undefined || list === null)) {
    if (problems.length > 0) throw new SettingsError(problems);
    return { settings, pools: [], source: 'file', discovery, env };
  }
  if (!Array.isArray(list) || (list.length === 0 && !discovery))
    throw new SettingsError([
      ...problems,
      `POOLS_FILE ${file} must have a non-empty "pools" list (or a "discovery" mapping)`,
    ]);
  if (list.length > MAX_POOLS) problems.push(`POOLS_FILE lists ${list.length} pools; at most ${MAX_POOLS}`);

  const pools: PoolConfig[] = [];
  const names = new Map<string, number>();
  const ids = new Map<string, number>();
  list.forEach((raw: unknown, index) => {
    const entry = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {}) as Record<
      string,
      unknown
    >;
    const label = `pools[${index}]${typeof entry.name === 'string' ? ` (${JSON.stringify(entry.name).slice(1, -1)})` : ''}`;
    const local: string[] = [];
    if (entry !== raw) {
      problems.push(`${label}: must be a mapping with name, id, min and max`);
      return;
    }
    for (const key of Object.keys(entry))
      if (!ENTRY_FIELDS.includes(key))
        local.push(
          `unknown field "${key}" (fields: ${ENTRY_FIELDS.join(', ')}; settings go under settings:)`,
        );
    const name = entry.name;
    if (typeof name !== 'string' || !POOL_NAME_PATTERN.test(name))
      local.push(
        'name must be 1-63 lowercase letters, digits and dashes, starting and ending with a letter or digit',
      );
    else if (isUUID(name)) local.push('name must not be a UUID (a pool is found by its name or its id)');
    else if (names.has(name)) local.push(`name "${name}" is already used by pools[${names.get(name)}]`);
    else names.set(name, index);
    // Exoscale's ids are lower case; the API answers 404 for the same id in upper case.
    const id = typeof entry.id === 'string' ? entry.id.trim().toLowerCase() : entry.id;
    if (typeof id !== 'string' || !isUUID(id)) local.push('id must be the UUID of the instance pool');
    else if (ids.has(id.toLowerCase()))
      local.push(`id ${id} is already managed as pools[${ids.get(id.toLowerCase())}]`);
    else ids.set(id.toLowerCase(), index);
    const zone = entry.zone ?? settings.EXOSCALE_ZONE;
    if (typeof zone !== 'string' || !ZONE_PATTERN.test(zone))
      local.push('zone must be an Exoscale zone name such as at-vie-1, ch-dk-2 or de-fra-1');
    const isBound = (v: unknown): v is number =>
      typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 1000;
    for (const bound of ['min', 'max'] as const)
      if (!isBound(entry[bound])) local.push(`${bound} must be a whole number between 1 and 1000`);
    if (isBound(entry.min) && isBound(entry.max) && entry.min > entry.max)
      local.push(`min (${String(entry.min)}) must not exceed max (${String(entry.max)})`);
    const overrides: Record<string, string> = {};
    const given = entry.settings ?? {};
    if (typeof given !== 'object' || given === null || Array.isArray(given)) {
      local.push('settings must be a mapping of setting names to values');
    } else {
      for (const [key, value] of Object.entries(given)) {
        if (!(POOL_SETTINGS as readonly string[]).includes(key)) {
          local.push(`settings.${key} is not a per-pool setting (per-pool: ${POOL_SETTINGS.join(', ')})`);
          continue;
        }
        const text =
          key === 'SCHEDULES' && typeof value === 'object' && value !== null
            ? JSON.stringify(value)
            : scalar(value);
        if (text === undefined) local.push(`settings.${key} must be a single value`);
        else if (text.trim() === '')
          local.push(`settings.${key} must not be empty (leave it out for the default)`);
        else overrides[key] = text;
      }
    }
    if (local.length > 0) {
      problems.push(...local.map((p) => `${label}: ${p}`));
      return;
    }
    try {
      const pool = { name: name as string, id: id as string, zone: zone as string };
      const bounds = { min: entry.min as number, max: entry.max as number };
      pools.push({ ...pool, settings: poolSettings(env, settings, pool, bounds, overrides) });
    } catch (error) {
      if (!(error instanceof SettingsError)) throw error;
      // A problem of the environment itself is reported once, above, not again for every pool.
      problems.push(...error.problems.filter((p) => !global.has(p)).map((p) => `${label}: ${p}`));
    }
  });
  if (problems.length > 0) throw new SettingsError(problems);
  return { settings, pools, source: 'file', ...(discovery ? { discovery } : {}), env };
}

/**
 * One pool's settings in pools-file mode: the environment's, with the pool's identity, bounds, files and overrides.
 * @throws SettingsError naming the settings that are wrong for this pool
 */
export function poolSettings(
  env: Record<string, string | undefined>,
  settings: Settings,
  pool: { name: string; id: string; zone: string },
  bounds: { min: number; max: number },
  overrides: Record<string, string> = {},
): Settings {
  return loadSettings({
    ...env,
    POOL_NAME: pool.name,
    EXOSCALE_INSTANCEPOOL_ID: pool.id,
    EXOSCALE_ZONE: pool.zone,
    POOL_MIN_SIZE: String(bounds.min),
    POOL_MAX_SIZE: String(bounds.max),
    SD_FILE: poolSdFile(settings.SD_FILE, pool.name),
    STATE_DIR: poolStateDir(settings.STATE_DIR, pool.id),
    ...overrides,
  });
}

function parseDiscovery(raw: unknown, problems: string[]): PoolDiscoveryConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push('discovery must be a mapping {zones: [ZONE, ...], intervalSeconds?: SECONDS}');
    return undefined;
  }
  const d = raw as Record<string, unknown>;
  const before = problems.length;
  for (const key of Object.keys(d))
    if (key !== 'zones' && key !== 'intervalSeconds')
      problems.push(`discovery: unknown field "${key}" (fields: zones, intervalSeconds)`);
  const zones = d.zones;
  if (
    !Array.isArray(zones) ||
    zones.length === 0 ||
    !zones.every((z) => typeof z === 'string' && ZONE_PATTERN.test(z))
  )
    problems.push('discovery.zones must be a non-empty list of Exoscale zone names such as at-vie-1');
  const interval = d.intervalSeconds ?? 60;
  if (typeof interval !== 'number' || !Number.isInteger(interval) || interval < 10 || interval > 3600)
    problems.push('discovery.intervalSeconds must be a whole number between 10 and 3600');
  if (problems.length > before) return undefined;
  return { zones: [...new Set(zones as string[])], intervalSeconds: interval as number };
}

/** What label discovery makes of one instance pool: not labelled for us, a pool to manage, or why it cannot be. */
export type LabelledPool =
  | { kind: 'unlabelled' }
  | { kind: 'pool'; name: string; id: string; zone: string; min: number; max: number }
  | { kind: 'invalid'; id: string; problem: string };

/**
 * Reads an instance pool's labels (DISCOVERY_LABELS): `autoscaler/enabled=true` marks it; `autoscaler/name` (else
 * the pool's own name, lower-cased, other characters as dashes) names it; `autoscaler/min`/`autoscaler/max` bound it
 * (default 1 and 10).
 */
export function labelledPool(
  pool: { id: string; name: string; labels: Record<string, string> },
  zone: string,
): LabelledPool {
  const labels = pool.labels ?? {};
  if ((labels[DISCOVERY_LABELS.enabled] ?? '').trim().toLowerCase() !== 'true') return { kind: 'unlabelled' };
  const id = pool.id.toLowerCase();
  const invalid = (problem: string): LabelledPool => ({
    kind: 'invalid',
    id,
    problem: `instance pool ${id} (${JSON.stringify(pool.name)}) in ${zone}: ${problem}`,
  });
  const name =
    labels[DISCOVERY_LABELS.name]?.trim() ||
    pool.name
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 63)
      .replace(/-+$/, '');
  if (!POOL_NAME_PATTERN.test(name) || isUUID(name))
    return invalid(
      `${DISCOVERY_LABELS.name} must be 1-63 lowercase letters, digits and dashes (got ${JSON.stringify(name)})`,
    );
  const bound = (key: string, fallback: number): number | null => {
    const text = labels[key];
    if (text === undefined) return fallback;
    const n = Number(text.trim());
    return /^\d+$/.test(text.trim()) && n >= 1 && n <= 1000 ? n : null;
  };
  const min = bound(DISCOVERY_LABELS.min, 1);
  const max = bound(DISCOVERY_LABELS.max, 10);
  if (min === null) return invalid(`${DISCOVERY_LABELS.min} must be a whole number between 1 and 1000`);
  if (max === null) return invalid(`${DISCOVERY_LABELS.max} must be a whole number between 1 and 1000`);
  if (min > max)
    return invalid(`${DISCOVERY_LABELS.min} (${min}) must not exceed ${DISCOVERY_LABELS.max} (${max})`);
  return { kind: 'pool', name, id, zone, min, max };
}
