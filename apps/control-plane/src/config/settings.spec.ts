import { loadSettings, SettingsError } from './settings';

const required = {
  EXOSCALE_KEY: 'EXOkey',
  EXOSCALE_SECRET: 'secret',
  EXOSCALE_INSTANCEPOOL_ID: 'a02baf5a-a3e4-49a0-857b-8a08d276c1c0',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadSettings(env);
  } catch (error) {
    return (error as SettingsError).problems;
  }
  return [];
}

describe('loadSettings', () => {
  it('applies the documented defaults', () => {
    const s = loadSettings(required);
    expect(s).toMatchObject({
      EXOSCALE_ZONE: 'at-vie-1',
      LISTEN_PORT: 8090,
      LISTEN_HOST: '0.0.0.0',
      TARGET_PORT: 9100,
      SD_FILE: '/srv/service-discovery/config.json',
      DISCOVERY_INTERVAL_SECONDS: 10,
      SCALING_INTERVAL_SECONDS: 60,
      POOL_MIN_SIZE: 1,
      POOL_MAX_SIZE: 10,
      DRY_RUN: false,
      SCALE_UP_COOLDOWN_SECONDS: 0,
      SCALE_DOWN_COOLDOWN_SECONDS: 0,
    });
    expect(s.apiEndpoint).toBe('https://api-at-vie-1.exoscale.com/v2');
  });

  it('accepts the API_KEY/API_SECRET aliases and the legacy zone id', () => {
    const s = loadSettings({
      EXOSCALE_API_KEY: 'k',
      EXOSCALE_API_SECRET: 's',
      EXOSCALE_INSTANCEPOOL_ID: required.EXOSCALE_INSTANCEPOOL_ID,
      EXOSCALE_ZONE_ID: '4da1b188-dcd6-4ff5-b7fd-bde984055548',
      DRY_RUN: 'true',
      EXOSCALE_API_ENDPOINT: 'http://127.0.0.1:8086/v2',
    });
    expect(s).toMatchObject({ EXOSCALE_KEY: 'k', EXOSCALE_SECRET: 's', DRY_RUN: true });
    expect(s.apiEndpoint).toBe('http://127.0.0.1:8086/v2');
  });

  it('names each missing or invalid setting', () => {
    expect(problems({})).toEqual([
      'EXOSCALE_KEY is required (or EXOSCALE_API_KEY)',
      'EXOSCALE_SECRET is required (or EXOSCALE_API_SECRET)',
      'EXOSCALE_INSTANCEPOOL_ID must be the UUID of the instance pool to manage',
    ]);
    expect(problems({ ...required, LISTEN_PORT: 'eighty' })).toEqual([
      'LISTEN_PORT must be an integer port number',
    ]);
    expect(problems({ ...required, TARGET_PORT: '70000' })).toEqual([
      'TARGET_PORT must be between 1 and 65535',
    ]);
    expect(problems({ ...required, POOL_MIN_SIZE: '0' })).toEqual([
      'POOL_MIN_SIZE must be between 1 and 1000',
    ]);
    expect(problems({ ...required, POOL_MIN_SIZE: '5', POOL_MAX_SIZE: '3' })).toEqual([
      'POOL_MIN_SIZE (5) must not exceed POOL_MAX_SIZE (3)',
    ]);
    expect(problems({ ...required, DRY_RUN: 'maybe' })).toEqual(['DRY_RUN must be true or false']);
    expect(problems({ ...required, SCALE_UP_COOLDOWN_SECONDS: '-5' })).toEqual([
      'SCALE_UP_COOLDOWN_SECONDS must be between 0 and 3600',
    ]);
    expect(problems({ ...required, SD_FILE: 'relative.json' })).toEqual([
      'SD_FILE must be an absolute file path',
    ]);
    expect(problems({ ...required, WEBHOOK_USERNAME: 'grafana' })).toEqual([
      'WEBHOOK_USERNAME and WEBHOOK_PASSWORD must be set together',
    ]);
    expect(problems({ ...required, EXOSCALE_API_ENDPOINT: 'ftp://x' })).toHaveLength(1);
  });

  it('validates the scaling policy settings, each by name', () => {
    expect(loadSettings(required)).toMatchObject({
      SCALING_POLICY: 'target',
      TARGET_UTILIZATION: 0.6,
      SCALE_IN_UTILIZATION: 0.75,
      WARMUP_SECONDS: 180,
      ALERT_TTL_SECONDS: 420,
      PROMETHEUS_URL: undefined,
    });
    const s = loadSettings({
      ...required,
      SCALING_POLICY: 'step',
      TARGET_UTILIZATION: '.5',
      PROMETHEUS_URL: 'http://prometheus:9090',
    });
    expect(s.policySettings).toMatchObject({
      policy: 'step',
      targetUtilisation: 0.5,
      bounds: { min: 1, max: 10 },
    });
    expect(
      problems({
        ...required,
        SCALING_POLICY: 'magic',
        TARGET_UTILIZATION: '80%',
        WARMUP_SECONDS: '-1',
        ALERT_TTL_SECONDS: '0',
        PROMETHEUS_URL: 'prometheus',
      }),
    ).toEqual([
      'SCALING_POLICY must be one of target, step',
      'TARGET_UTILIZATION must be a number between 0.1 and 0.95',
      'WARMUP_SECONDS must be between 0 and 3600',
      'ALERT_TTL_SECONDS must be between 1 and 86400',
      'PROMETHEUS_URL must be an http(s) URL such as http://prometheus:9090',
    ]);
    // The tracking trend and the requests in flight (the local stack's --fast compresses the trend's times).
    expect(loadSettings(required).policySettings).toMatchObject({
      trendSeconds: 120,
      trendWindowSeconds: 240,
      inFlightLoad: 1,
    });
    expect(
      loadSettings({ ...required, TREND_SECONDS: '10', TREND_WINDOW_SECONDS: '20', IN_FLIGHT_LOAD: '0.25' })
        .policySettings,
    ).toMatchObject({ trendSeconds: 10, trendWindowSeconds: 20, inFlightLoad: 0.25 });
    expect(
      problems({ ...required, TREND_SECONDS: '-5', TREND_WINDOW_SECONDS: '3600', IN_FLIGHT_LOAD: 'many' }),
    ).toEqual([
      'TREND_SECONDS must be between 0 and 600',
      'TREND_WINDOW_SECONDS must be between 10 and 360',
      'IN_FLIGHT_LOAD must be a number between 0 and 16',
    ]);
    expect(problems({ ...required, TARGET_UTILIZATION: '0.8', SCALE_IN_UTILIZATION: '0.7' })).toEqual([
      'SCALE_IN_UTILIZATION (0.7) must not be below TARGET_UTILIZATION (0.8): scale-in would undo every scale-out',
    ]);
  });

  it('reads the forecast day (a real one by default, a compressed one for a demonstration) and its lead', () => {
    expect(loadSettings(required)).toMatchObject({
      SCALE_ON_EVERY_READING: true,
      FORECAST_DAY_SECONDS: 86400,
      FORECAST_LEAD_SECONDS: 420,
      FORECAST_TARGET_UTILIZATION: 0.82,
      FORECAST_PEAK_QUANTILE: 0.85,
    });
    expect(
      loadSettings({ ...required, FORECAST_DAY_SECONDS: '120', FORECAST_LEAD_SECONDS: '15' }),
    ).toMatchObject({ FORECAST_DAY_SECONDS: 120, FORECAST_LEAD_SECONDS: 15 });
    expect(problems({ ...required, FORECAST_DAY_SECONDS: '30', FORECAST_LEAD_SECONDS: '2' })).toEqual([
      'FORECAST_LEAD_SECONDS must be between 5 and 7200',
      'FORECAST_DAY_SECONDS must be between 60 and 86400',
    ]);
    expect(problems({ ...required, FORECAST_PEAK_QUANTILE: '1.2' })).toEqual([
      'FORECAST_PEAK_QUANTILE must be a number between 0.5 and 1',
    ]);
    expect(problems({ ...required, FORECAST_DAY_SECONDS: '300' })).toEqual([
      'FORECAST_LEAD_SECONDS (420) must be below FORECAST_DAY_SECONDS (300): the forecast looks ahead within the day it reads back',
    ]);
  });

  it('validates the dedup window, failpoints and the health replacement settings, each by name', () => {
    expect(
      problems({ ...required, WEBHOOK_DEDUP_SECONDS: '-1', FAILPOINTS: 'after-intent-saved,nope' }),
    ).toEqual([
      'WEBHOOK_DEDUP_SECONDS must be between 0 and 3600',
      expect.stringMatching(/^FAILPOINTS must be a comma-separated list of: after-intent-saved, /),
    ]);
    expect(
      problems({
        ...required,
        HEALTH_REPLACEMENT: 'maybe',
        HEALTH_FAILURE_READS: '0',
        HEALTH_MAX_UNHEALTHY_PERCENT: '120',
      }),
    ).toEqual([
      'HEALTH_REPLACEMENT must be on or off',
      'HEALTH_FAILURE_READS must be between 1 and 100',
      'HEALTH_MAX_UNHEALTHY_PERCENT must be between 0 and 100',
    ]);
    expect(problems({ ...required, WARMUP_SECONDS: '200', HEALTH_GRACE_SECONDS: '100' })).toEqual([
      'HEALTH_GRACE_SECONDS (100) must not be below WARMUP_SECONDS (200): a member still warming up would be judged',
    ]);
    const s = loadSettings({ ...required, HEALTH_REPLACEMENT: 'off', WARMUP_SECONDS: '400' });
    expect(s.healthSettings).toMatchObject({
      enabled: false,
      graceSeconds: 400,
      failureReads: 3,
      maxUnhealthyFraction: 0.4,
    });
    expect(loadSettings(required).healthSettings).toMatchObject({ enabled: true, graceSeconds: 300 });
    expect(loadSettings({ ...required, FAILPOINTS: 'during-operation' }).FAILPOINTS).toBe('during-operation');
  });

  it('reads SCHEDULES (YAML or JSON) and refuses a bad window, naming SCHEDULES, the window and the field', () => {
    expect(loadSettings(required).schedules).toEqual([]);
    const yaml =
      '[{name: office, start: "0 8 * * 1-5", end: "0 18 * * 1-5", timezone: Europe/Vienna, min: 3}]';
    expect(loadSettings({ ...required, SCHEDULES: yaml }).schedules).toEqual([
      { name: 'office', start: '0 8 * * 1-5', end: '0 18 * * 1-5', timezone: 'Europe/Vienna', min: 3 },
    ]);
    const json = JSON.stringify([{ name: 'batch', start: '0 2 * * *', duration: '2h', max: 12 }]);
    expect(loadSettings({ ...required, SCHEDULES: json }).schedules).toEqual([
      { name: 'batch', start: '0 2 * * *', durationSeconds: 7200, timezone: 'UTC', max: 12 },
    ]);
    expect(
      problems({ ...required, SCHEDULES: '[{name: a, start: "0 8 * * *", end: "0 9 * * *", min: 11}]' }),
    ).toEqual([
      'SCHEDULES[0] (a).min (11) must not exceed POOL_MAX_SIZE (10) unless the window sets its own max',
    ]);
    expect(
      problems({
        ...required,
        POOL_MIN_SIZE: '2',
        SCHEDULES: '[{name: a, start: "0 8 * * *", end: "0 9 * * *", max: 1}]',
      }),
    ).toEqual(['SCHEDULES[0] (a).max (1) must not be below POOL_MIN_SIZE (2)']);
    expect(
      problems({
        ...required,
        SCHEDULES: '[{name: a, start: "0 8 * * *", end: "0 9 * * *", timezone: Europe/Vienne, min: 2}]',
      }),
    ).toEqual(['SCHEDULES[0] (a).timezone "Europe/Vienne" is not an IANA time zone such as Europe/Vienna']);
    expect(
      problems({ ...required, SCHEDULES: '[{name: a, start: "0 8 * * 8", end: "0 9 * * *", min: 2}]' })[0],
    ).toMatch(/^SCHEDULES\[0\] \(a\)\.start "0 8 \* \* 8" is not a valid cron expression/);
    expect(problems({ ...required, SCHEDULES: '{oops' })[0]).toMatch(/^SCHEDULES is not valid YAML or JSON/);
  });

  it('never puts a secret value into its messages', () => {
    const error = (() => {
      try {
        loadSettings({ ...required, EXOSCALE_SECRET: 'super-secret', POOL_MAX_SIZE: 'x' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toContain('POOL_MAX_SIZE');
    expect(error?.message).not.toContain('super-secret');
  });
});
