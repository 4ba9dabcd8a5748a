import { applyDecorators } from '@nestjs/common';
import {
  DEFAULT_FORECAST_SETTINGS,
  DEFAULT_HEALTH_SETTINGS,
  FORECAST_MODES,
  ForecastMode,
  DEFAULT_POLICY_SETTINGS,
  HealthSettings,
  parseSchedules,
  POLICY_NAMES,
  PolicyName,
  PolicySettings,
  ScheduleWindow,
} from '@app/scaling-policy';
import { plainToInstance, Transform } from 'class-transformer';

import { FAILPOINT_NAMES, FAILPOINTS_PATTERN } from '../scaling/failpoints';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
  IsUUID,
  Matches,
  Max,
  Min,
  validateSync,
  ValidateIf,
  ValidationError,
} from 'class-validator';

/** A pool's name: a DNS label (it appears in URLs, file names, metric labels). */
export const POOL_NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Every setting of the control plane (docs/architecture.md §3), validated once at boot. Nothing else reads the environment. */

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
const toBool = ({ value }: { value: unknown }) => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off', ''].includes(v)) return false;
  return value;
};
const blankToUndefined = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/** An integer setting in [min, max]; its messages name the setting. */
function IntSetting(name: string, kind: string, min: number, max: number): PropertyDecorator {
  const range = `${name} must be between ${min} and ${max}`;
  // Listed in the order stacked decorators are applied (bottom-up), so a type error is the one reported.
  return applyDecorators(
    Max(max, { message: range }),
    Min(min, { message: range }),
    IsInt({ message: `${name} must be an integer ${kind}` }),
    Transform(toInt),
  );
}

const toNumber = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?(\d+\.?\d*|\.\d+)$/.test(value.trim()) ? Number(value.trim()) : value;

/** A decimal setting in [min, max]; its messages name the setting. */
function FractionSetting(name: string, min: number, max: number): PropertyDecorator {
  const range = `${name} must be a number between ${min} and ${max}`;
  return applyDecorators(
    Max(max, { message: range }),
    Min(min, { message: range }),
    IsNumber({ allowNaN: false, allowInfinity: false }, { message: range }),
    Transform(toNumber),
  );
}

/** An optional http(s) URL setting; an empty value counts as unset. */
function OptionalUrlSetting(name: string, example: string): PropertyDecorator {
  return applyDecorators(
    IsOptional(),
    Transform(blankToUndefined),
    IsUrl(
      { require_tld: false, protocols: ['http', 'https'], require_protocol: true },
      { message: `${name} must be an http(s) URL such as ${example}` },
    ),
  );
}

/** An optional string setting; an empty value counts as unset. */
function OptionalString(): PropertyDecorator {
  return applyDecorators(IsOptional(), Transform(blankToUndefined), IsString());
}

export class Settings {
  @IsString()
  @IsNotEmpty({ message: 'EXOSCALE_KEY is required (or EXOSCALE_API_KEY)' })
  EXOSCALE_KEY: string;

  @IsString()
  @IsNotEmpty({ message: 'EXOSCALE_SECRET is required (or EXOSCALE_API_SECRET)' })
  EXOSCALE_SECRET: string;

  /** Every Exoscale zone name (at-vie-1, ch-dk-2, de-fra-1, ...); terraform/variables.tf checks the same pattern. */
  @Matches(/^[a-z]{2}-[a-z]{2,4}-\d+$/, {
    message: 'EXOSCALE_ZONE must be an Exoscale zone name such as at-vie-1, ch-dk-2 or de-fra-1',
  })
  EXOSCALE_ZONE = 'at-vie-1';

  /** The one-pool shorthand (docs/architecture.md §3): the pool to manage, unless POOLS_FILE lists the pools. */
  @ValidateIf((s: Settings) => !s.POOLS_FILE)
  @IsUUID('all', { message: 'EXOSCALE_INSTANCEPOOL_ID must be the UUID of the instance pool to manage' })
  EXOSCALE_INSTANCEPOOL_ID: string;

  /** How the one pool of the shorthand is named in alerts (`pool` label), URLs, metrics and the status page. */
  @Matches(POOL_NAME_PATTERN, {
    message:
      'POOL_NAME must be 1-63 lowercase letters, digits and dashes, starting and ending with a letter or digit',
  })
  POOL_NAME = 'default';

  /** A YAML file listing the pools to manage (docs/architecture.md §3, "Many pools"); read by loadFleetConfig. */
  @IsOptional()
  @Transform(blankToUndefined)
  @Matches(/^\/.*[^/]$/, { message: 'POOLS_FILE must be an absolute file path' })
  POOLS_FILE?: string;

  /** At most this many Exoscale API requests in flight per zone (every pool of a zone shares one client). */
  @IntSetting('API_CONCURRENCY_PER_ZONE', 'number of requests', 1, 256)
  API_CONCURRENCY_PER_ZONE = 8;

  /** A tick (or a discovery pass) works on at most this many pools at once; the others wait their turn. */
  @IntSetting('POOL_CONCURRENCY', 'number of pools', 1, 1000)
  POOL_CONCURRENCY = 32;

  @OptionalUrlSetting('EXOSCALE_API_ENDPOINT', 'https://api-at-vie-1.exoscale.com/v2')
  EXOSCALE_API_ENDPOINT?: string;

  /** Legacy API v1 zone UUID: accepted (the course passes it) and ignored. */
  @IsOptional()
  EXOSCALE_ZONE_ID?: string;

  @IntSetting('LISTEN_PORT', 'port number', 1, 65535)
  LISTEN_PORT = 8090;

  @IsString()
  @IsNotEmpty({ message: 'LISTEN_HOST must not be empty' })
  LISTEN_HOST = '0.0.0.0';

  @IntSetting('TARGET_PORT', 'port number', 1, 65535)
  TARGET_PORT = 9100;

  @Matches(/^\/.*[^/]$/, { message: 'SD_FILE must be an absolute file path' })
  SD_FILE = '/srv/service-discovery/config.json';

  /** Where the control plane keeps its state across restarts (state.json). */
  @Matches(/^\/.*[^/]$|^\/$/, { message: 'STATE_DIR must be an absolute directory path' })
  STATE_DIR = '/var/lib/exoscale-autoscaler';

  /**
   * A notification identical to one received within this many seconds is a duplicate delivery (Alertmanager HA
   * peers, retries) and records nothing. Keep it below the senders' repeat interval; 0 turns it off.
   */
  @IntSetting('WEBHOOK_DEDUP_SECONDS', 'number of seconds', 0, 3600)
  WEBHOOK_DEDUP_SECONDS = 30;

  /**
   * High availability (docs/architecture.md §4, "Two replicas"): the PostgreSQL that holds every replica's state and
   * the leader's lease, e.g. postgres://autoscaler:PASSWORD@db:5432/autoscaler?sslmode=require. Unset: the state
   * file under STATE_DIR, one process, always the leader. A secret: never logged.
   */
  @IsOptional()
  @Transform(blankToUndefined)
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgres:// connection URL' })
  DATABASE_URL?: string;

  /** This replica's name in the lease (`holder`): unique per replica; default `<hostname>/<pid>/<random>`. */
  @OptionalString()
  REPLICA_ID?: string;

  /** The lease lasts this long after each renew (database clock). */
  @IntSetting('LEASE_DURATION_SECONDS', 'number of seconds', 2, 600)
  LEASE_DURATION_SECONDS = 15;

  /** A leader that could not renew for this long stops acting and exits (75) to be restarted clean. */
  @IntSetting('LEASE_RENEW_DEADLINE_SECONDS', 'number of seconds', 1, 600)
  LEASE_RENEW_DEADLINE_SECONDS = 10;

  /** Followers try to take the lease, and the leader renews it, this often. */
  @IntSetting('LEASE_RETRY_PERIOD_SECONDS', 'number of seconds', 1, 600)
  LEASE_RETRY_PERIOD_SECONDS = 2;

  /** Crash tests only: comma-separated failpoints (scaling/failpoints.ts) at which the process kills itself. */
  @IsOptional()
  @Transform(blankToUndefined)
  @Matches(FAILPOINTS_PATTERN, {
    message: `FAILPOINTS must be a comma-separated list of: ${FAILPOINT_NAMES.join(', ')}`,
  })
  FAILPOINTS?: string;

  @IntSetting('DISCOVERY_INTERVAL_SECONDS', 'number of seconds', 1, 3600)
  DISCOVERY_INTERVAL_SECONDS = 10;

  @IntSetting('SCALING_INTERVAL_SECONDS', 'number of seconds', 1, 3600)
  SCALING_INTERVAL_SECONDS = 60;

  @IntSetting('POOL_MIN_SIZE', 'pool size', 1, 1000)
  POOL_MIN_SIZE = 1;

  @IntSetting('POOL_MAX_SIZE', 'pool size', 1, 1000)
  POOL_MAX_SIZE = 10;

  /** After any pool change, up signals are deferred this long (the target policy relies on WARMUP_SECONDS instead). */
  @IntSetting('SCALE_UP_COOLDOWN_SECONDS', 'number of seconds', 0, 3600)
  SCALE_UP_COOLDOWN_SECONDS = DEFAULT_POLICY_SETTINGS.upCooldownSeconds;

  /** After any pool change, down signals are deferred this long. */
  @IntSetting('SCALE_DOWN_COOLDOWN_SECONDS', 'number of seconds', 0, 3600)
  SCALE_DOWN_COOLDOWN_SECONDS = DEFAULT_POLICY_SETTINGS.downCooldownSeconds;

  /** `target`: size from the measured utilisation; `step`: one member per signal (the course's literal rule). */
  @IsIn(POLICY_NAMES, { message: `SCALING_POLICY must be one of ${POLICY_NAMES.join(', ')}` })
  SCALING_POLICY: PolicyName = DEFAULT_POLICY_SETTINGS.policy;

  /** Scale-out sizes the pool so that the measured load runs at this utilisation. */
  @FractionSetting('TARGET_UTILIZATION', 0.1, 0.95)
  TARGET_UTILIZATION = DEFAULT_POLICY_SETTINGS.targetUtilisation;

  /** Scale-in never goes below the size at which the projected utilisation would exceed this. */
  @FractionSetting('SCALE_IN_UTILIZATION', 0.1, 0.95)
  SCALE_IN_UTILIZATION = DEFAULT_POLICY_SETTINGS.scaleInUtilisation;

  /** A member younger than this is capacity on its way (boot + one rate window); values before it settle are stale. */
  @IntSetting('WARMUP_SECONDS', 'number of seconds', 0, 3600)
  WARMUP_SECONDS = DEFAULT_POLICY_SETTINGS.warmupSeconds;

  /** Target policy: size the pool from the fresh Prometheus reading at every tick, alert or not (`Tracking`). */
  @Transform(toBool)
  @IsBoolean({ message: 'SCALE_ON_EVERY_READING must be true or false' })
  SCALE_ON_EVERY_READING = DEFAULT_POLICY_SETTINGS.scaleOnEveryReading;

  /** Tracking sizes up so that the projected load runs at this utilisation (below the 80 % alert threshold). */
  @FractionSetting('TRACKING_UTILIZATION', 0.1, 0.95)
  TRACKING_UTILIZATION = DEFAULT_POLICY_SETTINGS.trackingUtilisation;

  /** Tracking: seconds ahead the load's rising slope is projected (`Trend`); 0 turns the trend off. */
  @IntSetting('TREND_SECONDS', 'number of seconds', 0, 600)
  TREND_SECONDS = DEFAULT_POLICY_SETTINGS.trendSeconds;

  /**
   * Tracking: seconds of readings the slope is fitted over; the swing hold looks back 1.5 times as far, within the
   * 600 s of readings the scaling service keeps.
   */
  @IntSetting('TREND_WINDOW_SECONDS', 'number of seconds', 10, 360)
  TREND_WINDOW_SECONDS = DEFAULT_POLICY_SETTINGS.trendWindowSeconds;

  /**
   * Tracking: members' worth of CPU one request in flight takes (1: the course's app pins a member per request); a
   * saturated reading is sized from its requests in flight. 0: they are never used.
   */
  @FractionSetting('IN_FLIGHT_LOAD', 0, 16)
  IN_FLIGHT_LOAD = DEFAULT_POLICY_SETTINGS.inFlightLoad;

  /** A firing alert not re-notified within this long expires (a lost "resolved" cannot scale forever). */
  @IntSetting('ALERT_TTL_SECONDS', 'number of seconds', 1, 86400)
  ALERT_TTL_SECONDS = 420;

  /**
   * Predictive pre-scaling (docs/architecture.md §4): `off`; `forecast-only` (the default: the forecast from the
   * pool's load a day and a week back is logged and shown, never acted on); `on` (a tick's size is the larger of
   * the reactive size and the forecast: scale-out only). Needs PROMETHEUS_URL.
   */
  @IsIn(FORECAST_MODES, { message: `FORECAST_MODE must be one of ${FORECAST_MODES.join(', ')}` })
  FORECAST_MODE: ForecastMode = DEFAULT_FORECAST_SETTINGS.mode;

  /** The forecast sizes for the peak load x (1 + this). */
  @FractionSetting('FORECAST_MARGIN', 0, 1)
  FORECAST_MARGIN = DEFAULT_FORECAST_SETTINGS.margin;

  /** How far ahead of the same time a day (a week) ago the forecast looks: at least boot + warm-up + a tick. */
  @IntSetting('FORECAST_LEAD_SECONDS', 'number of seconds', 5, 7200)
  FORECAST_LEAD_SECONDS = DEFAULT_FORECAST_SETTINGS.leadSeconds;

  /**
   * The "day" the forecast reads back (the week is seven of them): 86400, or a compressed day for a demonstration
   * (`npm start -- --fast` uses 120 s), so that a forecast from history shows within minutes.
   */
  @IntSetting('FORECAST_DAY_SECONDS', 'number of seconds', 60, 86400)
  FORECAST_DAY_SECONDS = DEFAULT_FORECAST_SETTINGS.daySeconds;

  /** The utilisation the forecast sizes the pool for (the peak of the window, so above TARGET_UTILIZATION). */
  @FractionSetting('FORECAST_TARGET_UTILIZATION', 0.1, 0.95)
  FORECAST_TARGET_UTILIZATION = DEFAULT_FORECAST_SETTINGS.targetUtilisation;

  /**
   * The quantile of the look-ahead window's readings the forecast takes as its peak (`quantile_over_time`; 1: the
   * highest, `max_over_time`): the highest reading of a noisy day is its noise's highest excursion.
   */
  @FractionSetting('FORECAST_PEAK_QUANTILE', 0.5, 1)
  FORECAST_PEAK_QUANTILE = DEFAULT_FORECAST_SETTINGS.peakQuantile;

  /** Optional: read the pool utilisation fresh from this Prometheus at each decision. */
  @OptionalUrlSetting('PROMETHEUS_URL', 'http://prometheus:9090')
  PROMETHEUS_URL?: string;

  /**
   * Scheduled capacity (docs/architecture.md §4, "Scheduled capacity"): YAML or JSON, a list of windows
   * `{name, start: <cron>, end: <cron> | duration: <10h>, timezone: <IANA>, min?, max?}`; checked in loadSettings.
   */
  @OptionalString()
  SCHEDULES?: string;

  /** The windows of SCHEDULES (loadSettings has refused any problem). */
  get schedules(): ScheduleWindow[] {
    return parseSchedules(this.SCHEDULES, 'SCHEDULES').windows;
  }

  @OptionalString()
  WEBHOOK_USERNAME?: string;

  @OptionalString()
  WEBHOOK_PASSWORD?: string;

  @OptionalString()
  WEBHOOK_TOKEN?: string;

  @OptionalString()
  WEBHOOK_HMAC_SECRET?: string;

  @OptionalString()
  API_TOKEN?: string;

  /** A connection must send a request's complete headers within this long (slowloris; idle new connections). */
  @IntSetting('HTTP_HEADERS_TIMEOUT_SECONDS', 'number of seconds', 1, 600)
  HTTP_HEADERS_TIMEOUT_SECONDS = 10;

  /** A whole request (headers and body) must arrive within this long. */
  @IntSetting('HTTP_REQUEST_TIMEOUT_SECONDS', 'number of seconds', 1, 600)
  HTTP_REQUEST_TIMEOUT_SECONDS = 30;

  /** An idle kept-alive connection is closed after this long. */
  @IntSetting('HTTP_KEEP_ALIVE_TIMEOUT_SECONDS', 'number of seconds', 1, 600)
  HTTP_KEEP_ALIVE_TIMEOUT_SECONDS = 5;

  /** Connections beyond this many are refused. */
  @IntSetting('HTTP_MAX_CONNECTIONS', 'number of connections', 1, 100000)
  HTTP_MAX_CONNECTIONS = 1024;

  @Transform(toBool)
  @IsBoolean({ message: 'DRY_RUN must be true or false' })
  DRY_RUN = false;

  /** Replace members the control plane judges unhealthy (docs/architecture.md, "Healthy members"). */
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string'
      ? (({ on: true, off: false } as Record<string, boolean>)[value.trim().toLowerCase()] ?? value)
      : value,
  )
  @IsBoolean({ message: 'HEALTH_REPLACEMENT must be on or off' })
  HEALTH_REPLACEMENT = DEFAULT_HEALTH_SETTINGS.enabled;

  /** A member younger than this is never judged; at least WARMUP_SECONDS (unset: the larger of 300 and it). */
  @IsOptional()
  @IntSetting('HEALTH_GRACE_SECONDS', 'number of seconds', 0, 86400)
  HEALTH_GRACE_SECONDS?: number;

  @IntSetting('HEALTH_FAILURE_READS', 'number of reads', 1, 100)
  HEALTH_FAILURE_READS = DEFAULT_HEALTH_SETTINGS.failureReads;

  @IntSetting('HEALTH_FAILURE_SECONDS', 'number of seconds', 0, 86400)
  HEALTH_FAILURE_SECONDS = DEFAULT_HEALTH_SETTINGS.failureSeconds;

  @IntSetting('HEALTH_STARTUP_TIMEOUT_SECONDS', 'number of seconds', 1, 86400)
  HEALTH_STARTUP_TIMEOUT_SECONDS = DEFAULT_HEALTH_SETTINGS.startupTimeoutSeconds;

  @IntSetting('HEALTH_MAX_UNHEALTHY_PERCENT', 'percentage', 0, 100)
  HEALTH_MAX_UNHEALTHY_PERCENT = DEFAULT_HEALTH_SETTINGS.maxUnhealthyFraction * 100;

  /** The health rules' settings, as libs/scaling-policy takes them. */
  get healthSettings(): HealthSettings {
    return {
      enabled: this.HEALTH_REPLACEMENT,
      graceSeconds:
        this.HEALTH_GRACE_SECONDS ?? Math.max(DEFAULT_HEALTH_SETTINGS.graceSeconds, this.WARMUP_SECONDS),
      failureReads: this.HEALTH_FAILURE_READS,
      failureSeconds: this.HEALTH_FAILURE_SECONDS,
      startupTimeoutSeconds: this.HEALTH_STARTUP_TIMEOUT_SECONDS,
      maxUnhealthyFraction: this.HEALTH_MAX_UNHEALTHY_PERCENT / 100,
    };
  }

  /** The scaling policy's settings, as libs/scaling-policy takes them. */
  get policySettings(): PolicySettings {
    return {
      ...DEFAULT_POLICY_SETTINGS,
      policy: this.SCALING_POLICY,
      bounds: { min: this.POOL_MIN_SIZE, max: this.POOL_MAX_SIZE },
      targetUtilisation: this.TARGET_UTILIZATION,
      scaleInUtilisation: this.SCALE_IN_UTILIZATION,
      warmupSeconds: this.WARMUP_SECONDS,
      scaleOnEveryReading: this.SCALE_ON_EVERY_READING,
      trackingUtilisation: this.TRACKING_UTILIZATION,
      trendSeconds: this.TREND_SECONDS,
      trendWindowSeconds: this.TREND_WINDOW_SECONDS,
      inFlightLoad: this.IN_FLIGHT_LOAD,
      upCooldownSeconds: this.SCALE_UP_COOLDOWN_SECONDS,
      downCooldownSeconds: this.SCALE_DOWN_COOLDOWN_SECONDS,
    };
  }

  /**
   * The labels that name this pool on its metrics and file_sd targets: `{pool: POOL_NAME}` in pools-file mode; none
   * for the one-pool shorthand, whose series stay exactly as they were before pools files existed.
   */
  get poolLabels(): { pool?: string } {
    return this.POOLS_FILE ? { pool: this.POOL_NAME } : {};
  }

  get apiEndpoint(): string {
    return this.EXOSCALE_API_ENDPOINT ?? `https://api-${this.EXOSCALE_ZONE}.exoscale.com/v2`;
  }
}

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

const KNOWN = new Set(
  Object.keys(new Settings()).concat(['EXOSCALE_KEY', 'EXOSCALE_SECRET', 'EXOSCALE_INSTANCEPOOL_ID']),
);

function messages(errors: ValidationError[]): string[] {
  return errors.flatMap((e) => {
    const constraints = Object.values(e.constraints ?? {});
    // One message per setting: the first failing constraint names it and says what is wrong.
    return constraints.length > 0 ? [constraints[constraints.length - 1]] : messages(e.children ?? []);
  });
}

/** Builds the settings from an environment; throws SettingsError listing every problem, each naming its setting. */
export function loadSettings(env: Record<string, string | undefined>): Settings {
  const { settings, problems } = checkSettings(env);
  if (problems.length > 0) throw new SettingsError(problems);
  return settings;
}

/**
 * The settings of an environment and every problem with them (loadSettings throws them).
 * @param options.poolChecks false: skip the checks between a pool's settings (bounds, utilisations, warm-up,
 *   SCHEDULES against the bounds): a pools file's pools make them with their own values
 */
export function checkSettings(
  env: Record<string, string | undefined>,
  { poolChecks = true }: { poolChecks?: boolean } = {},
): { settings: Settings; problems: string[] } {
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && KNOWN.has(key) && value !== '') raw[key] = value;
  }
  raw.EXOSCALE_KEY ??= env.EXOSCALE_API_KEY ?? '';
  raw.EXOSCALE_SECRET ??= env.EXOSCALE_API_SECRET ?? '';
  const settings = plainToInstance(Settings, raw, { exposeDefaultValues: true });
  const problems = messages(validateSync(settings, { forbidUnknownValues: false }));
  const pool = problems.length === 0 && poolChecks;
  if (pool && settings.POOL_MIN_SIZE > settings.POOL_MAX_SIZE) {
    problems.push(
      `POOL_MIN_SIZE (${settings.POOL_MIN_SIZE}) must not exceed POOL_MAX_SIZE (${settings.POOL_MAX_SIZE})`,
    );
  }
  if (pool && settings.SCALE_IN_UTILIZATION < settings.TARGET_UTILIZATION) {
    problems.push(
      `SCALE_IN_UTILIZATION (${settings.SCALE_IN_UTILIZATION}) must not be below TARGET_UTILIZATION (${settings.TARGET_UTILIZATION}): scale-in would undo every scale-out`,
    );
  }
  if (
    pool &&
    settings.HEALTH_GRACE_SECONDS !== undefined &&
    settings.HEALTH_GRACE_SECONDS < settings.WARMUP_SECONDS
  ) {
    problems.push(
      `HEALTH_GRACE_SECONDS (${settings.HEALTH_GRACE_SECONDS}) must not be below WARMUP_SECONDS (${settings.WARMUP_SECONDS}): a member still warming up would be judged`,
    );
  }
  if (pool && settings.FORECAST_LEAD_SECONDS >= settings.FORECAST_DAY_SECONDS) {
    problems.push(
      `FORECAST_LEAD_SECONDS (${settings.FORECAST_LEAD_SECONDS}) must be below FORECAST_DAY_SECONDS (${settings.FORECAST_DAY_SECONDS}): the forecast looks ahead within the day it reads back`,
    );
  }
  if (problems.length === 0) {
    const limits = { minSize: settings.POOL_MIN_SIZE, maxSize: settings.POOL_MAX_SIZE };
    problems.push(
      ...parseSchedules(settings.SCHEDULES, 'SCHEDULES', poolChecks ? limits : undefined).problems,
    );
  }
  if (
    problems.length === 0 &&
    !(
      settings.LEASE_DURATION_SECONDS > settings.LEASE_RENEW_DEADLINE_SECONDS &&
      settings.LEASE_RENEW_DEADLINE_SECONDS > settings.LEASE_RETRY_PERIOD_SECONDS
    )
  ) {
    problems.push(
      `LEASE_DURATION_SECONDS (${settings.LEASE_DURATION_SECONDS}) > LEASE_RENEW_DEADLINE_SECONDS (${settings.LEASE_RENEW_DEADLINE_SECONDS}) > LEASE_RETRY_PERIOD_SECONDS (${settings.LEASE_RETRY_PERIOD_SECONDS}) must hold`,
    );
  }
  if (Boolean(settings.WEBHOOK_USERNAME) !== Boolean(settings.WEBHOOK_PASSWORD)) {
    problems.push('WEBHOOK_USERNAME and WEBHOOK_PASSWORD must be set together');
  }
  return { settings, problems };
}
