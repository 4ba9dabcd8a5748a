import { loadFleetConfig, poolSdFile } from './fleet-config';
import { SettingsError } from './settings';

const WEB = '6f0b7a35-1b3c-4d5e-8f90-123456789abc';
const WORKER = '7a1c8b46-2c4d-4e6f-9a01-23456789abcd';
const BASE = { EXOSCALE_KEY: 'EXOkey', EXOSCALE_SECRET: 'secret', POOLS_FILE: '/etc/autoscaler/pools.yaml' };

function load(yaml: string, env: Record<string, string> = {}) {
  return loadFleetConfig({ ...BASE, ...env }, (path) => {
    expect(path).toBe('/etc/autoscaler/pools.yaml');
    return yaml;
  });
}
function problems(yaml: string, env: Record<string, string> = {}): string[] {
  try {
    load(yaml, env);
  } catch (error) {
    if (error instanceof SettingsError) return error.problems;
    throw error;
  }
  throw new Error('expected a SettingsError');
}

describe('loadFleetConfig', () => {
  it('keeps the one-pool shorthand without POOLS_FILE: the environment is the pool', () => {
    const fleet = loadFleetConfig({
      EXOSCALE_KEY: 'k',
      EXOSCALE_SECRET: 's',
      EXOSCALE_INSTANCEPOOL_ID: WEB,
      POOL_MAX_SIZE: '7',
    });
    expect(fleet.source).toBe('env');
    expect(fleet.pools).toHaveLength(1);
    expect(fleet.pools[0]).toMatchObject({ name: 'default', id: WEB, zone: 'at-vie-1' });
    expect(fleet.pools[0].settings).toBe(fleet.settings);
    expect(fleet.settings.poolLabels).toEqual({});
  });

  it('builds each pool with its bounds, zone, files and overrides over the environment', () => {
    const fleet = load(
      [
        'pools:',
        `  - {name: web, id: ${WEB}, zone: at-vie-1, min: 1, max: 10}`,
        `  - name: worker`,
        `    id: ${WORKER}`,
        `    zone: ch-gva-2`,
        `    min: 2`,
        `    max: 4`,
        `    settings:`,
        `      TARGET_UTILIZATION: 0.5`,
        `      SCALING_POLICY: step`,
        `      SCHEDULES: [{name: office, start: "0 8 * * 1-5", duration: 10h, timezone: Europe/Vienna, min: 3}]`,
      ].join('\n'),
      { TARGET_UTILIZATION: '0.6', SD_FILE: '/srv/sd/config.json', STATE_DIR: '/var/lib/as' },
    );
    expect(fleet.source).toBe('file');
    const [web, worker] = fleet.pools;
    expect(web).toMatchObject({ name: 'web', id: WEB, zone: 'at-vie-1' });
    expect(web.settings.TARGET_UTILIZATION).toBe(0.6);
    expect(web.settings.POOL_MAX_SIZE).toBe(10);
    expect(web.settings.SD_FILE).toBe('/srv/sd/pool-web.json');
    expect(web.settings.STATE_DIR).toBe(`/var/lib/as/pools/${WEB}`);
    expect(web.settings.poolLabels).toEqual({ pool: 'web' });
    expect(worker.zone).toBe('ch-gva-2');
    expect(worker.settings.apiEndpoint).toBe('https://api-ch-gva-2.exoscale.com/v2');
    expect(worker.settings.TARGET_UTILIZATION).toBe(0.5);
    expect(worker.settings.SCALING_POLICY).toBe('step');
    expect(worker.settings.schedules.map((w) => w.name)).toEqual(['office']);
    expect(worker.settings.policySettings.bounds).toEqual({ min: 2, max: 4 });
    expect(poolSdFile('/srv/sd/config.json', 'x')).toBe('/srv/sd/pool-x.json');
  });

  it('takes the zone from EXOSCALE_ZONE when a pool gives none', () => {
    const fleet = load(`pools: [{name: a, id: ${WEB}, min: 1, max: 2}]`, { EXOSCALE_ZONE: 'de-fra-1' });
    expect(fleet.pools[0].zone).toBe('de-fra-1');
  });

  it('names the pool and the field of every problem, all at once', () => {
    expect(
      problems(
        [
          'pools:',
          `  - {name: Web, id: ${WEB}, min: 1, max: 2}`,
          `  - {name: b, id: not-a-uuid, min: 0, max: 2}`,
          `  - {name: c, id: ${WORKER}, min: 3, max: 2, size: 2}`,
          `  - {name: d, id: ${WEB.toUpperCase()}, min: 1, max: 2, zone: mars}`,
          `  - {name: b, id: 11111111-2222-4333-8444-555555555555, min: 1, max: 2}`,
          `  - {name: e, id: 21111111-2222-4333-8444-555555555555, min: 1, max: 2, settings: {LISTEN_PORT: 80}}`,
          `  - {name: f, id: 31111111-2222-4333-8444-555555555555, min: 1, max: 2, settings: {TARGET_UTILIZATION: 2}}`,
          `  - just a string`,
        ].join('\n'),
      ),
    ).toEqual([
      'pools[0] (Web): name must be 1-63 lowercase letters, digits and dashes, starting and ending with a letter or digit',
      'pools[1] (b): id must be the UUID of the instance pool',
      'pools[1] (b): min must be a whole number between 1 and 1000',
      'pools[2] (c): unknown field "size" (fields: name, id, zone, min, max, settings; settings go under settings:)',
      'pools[2] (c): min (3) must not exceed max (2)',
      `pools[3] (d): id ${WEB} is already managed as pools[0]`,
      'pools[3] (d): zone must be an Exoscale zone name such as at-vie-1, ch-dk-2 or de-fra-1',
      'pools[4] (b): name "b" is already used by pools[1]',
      expect.stringMatching(/^pools\[5\] \(e\): settings\.LISTEN_PORT is not a per-pool setting/),
      'pools[6] (f): TARGET_UTILIZATION must be a number between 0.1 and 0.95',
      'pools[7]: must be a mapping with name, id, min and max',
    ]);
  });

  it('refuses the one-pool shorthand beside a pools file', () => {
    expect(
      problems(`pools: [{name: a, id: ${WEB}, min: 1, max: 2}]`, {
        EXOSCALE_INSTANCEPOOL_ID: WORKER,
        POOL_MIN_SIZE: '2',
      }),
    ).toEqual([
      "EXOSCALE_INSTANCEPOOL_ID is the one-pool shorthand: with POOLS_FILE, give each pool's values in the file",
      "POOL_MIN_SIZE is the one-pool shorthand: with POOLS_FILE, give each pool's values in the file",
    ]);
  });

  it.each([
    ['not YAML', 'pools: [a, b', /POOLS_FILE \/etc\/autoscaler\/pools.yaml is not valid YAML/],
    ['a list at the top', '- a', /must be a mapping with a "pools" list/],
    ['no pools', 'pools: []', /must have a non-empty "pools" list/],
    ['a duplicated key', `pools: [{name: a, name: b, id: ${WEB}, min: 1, max: 2}]`, /not valid YAML/],
  ])('refuses a file that is %s', (_what, yaml, message) => {
    expect(problems(yaml).join('\n')).toMatch(message);
  });

  it('says when the file cannot be read, naming the setting', () => {
    expect(() =>
      loadFleetConfig(BASE, () => {
        throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
      }),
    ).toThrow('POOLS_FILE /etc/autoscaler/pools.yaml cannot be read (ENOENT)');
  });

  it("checks the settings between each other with every pool's own values, not the defaults", () => {
    const fleet = load(
      [
        'pools:',
        `  - {name: a, id: ${WEB}, min: 1, max: 50, settings: {WARMUP_SECONDS: 60, SCALE_IN_UTILIZATION: 0.9}}`,
      ].join('\n'),
      {
        HEALTH_GRACE_SECONDS: '100',
        TARGET_UTILIZATION: '0.8',
        SCHEDULES: '[{name: big, start: "0 8 * * *", duration: 1h, min: 20}]',
      },
    );
    expect(fleet.pools[0].settings.healthSettings.graceSeconds).toBe(100);
    expect(
      problems(`pools: [{name: a, id: ${WEB}, min: 1, max: 5}]`, { HEALTH_GRACE_SECONDS: '100' }),
    ).toEqual([
      'pools[0] (a): HEALTH_GRACE_SECONDS (100) must not be below WARMUP_SECONDS (180): a member still warming up would be judged',
    ]);
  });

  it("lists the environment's problems with the file's, each once", () => {
    expect(
      problems(`pools: [{name: a, id: ${WEB}, min: 1, max: 5}, {name: b, id: ${WORKER}, min: 9, max: 5}]`, {
        LISTEN_PORT: '0',
      }),
    ).toEqual(['LISTEN_PORT must be between 1 and 65535', 'pools[1] (b): min (9) must not exceed max (5)']);
  });

  it('refuses a UUID as a name, an empty override, and lower-cases ids', () => {
    expect(
      problems(
        [
          'pools:',
          `  - {name: ${WORKER}, id: ${WEB}, min: 1, max: 2}`,
          `  - {name: b, id: ${WORKER}, min: 1, max: 2, settings: {TARGET_PORT: ""}}`,
        ].join('\n'),
      ),
    ).toEqual([
      'pools[0] (7a1c8b46-2c4d-4e6f-9a01-23456789abcd): name must not be a UUID (a pool is found by its name or its id)',
      'pools[1] (b): settings.TARGET_PORT must not be empty (leave it out for the default)',
    ]);
    expect(load(`pools: [{name: a, id: " ${WEB.toUpperCase()}", min: 1, max: 2}]`).pools[0].id).toBe(WEB);
  });

  it('takes YAML anchors from x- fields and merge keys', () => {
    const fleet = load(
      [
        'x-defaults: &defaults {zone: de-fra-1, min: 1, max: 4, settings: {SCALING_POLICY: step}}',
        'pools:',
        `  - {<<: *defaults, name: a, id: ${WEB}}`,
        `  - {<<: *defaults, name: b, id: ${WORKER}, max: 6}`,
      ].join('\n'),
    );
    expect(
      fleet.pools.map((p) => [p.name, p.zone, p.settings.POOL_MAX_SIZE, p.settings.SCALING_POLICY]),
    ).toEqual([
      ['a', 'de-fra-1', 4, 'step'],
      ['b', 'de-fra-1', 6, 'step'],
    ]);
  });

  it('says a directory cannot be read', () => {
    expect(() =>
      loadFleetConfig(BASE, () => {
        throw Object.assign(new Error('EISDIR: illegal operation on a directory'), { code: 'EISDIR' });
      }),
    ).toThrow('POOLS_FILE /etc/autoscaler/pools.yaml cannot be read (EISDIR)');
  });

  it('takes a discovery mapping, with or without pools of its own', () => {
    const only = load('discovery: {zones: [at-vie-1, de-fra-1, at-vie-1]}');
    expect(only.pools).toEqual([]);
    expect(only.discovery).toEqual({ zones: ['at-vie-1', 'de-fra-1'], intervalSeconds: 60 });
    const both = load(
      `discovery: {zones: [at-vie-1], intervalSeconds: 30}\npools: [{name: a, id: ${WEB}, min: 1, max: 2}]`,
    );
    expect(both.pools).toHaveLength(1);
    expect(both.discovery!.intervalSeconds).toBe(30);
    expect(problems('discovery: {zones: [mars], intervalSeconds: 5, label: x}')).toEqual([
      'discovery: unknown field "label" (fields: zones, intervalSeconds)',
      'discovery.zones must be a non-empty list of Exoscale zone names such as at-vie-1',
      'discovery.intervalSeconds must be a whole number between 10 and 3600',
      'POOLS_FILE /etc/autoscaler/pools.yaml must have a non-empty "pools" list (or a "discovery" mapping)',
    ]);
  });
});
