import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { parse as parseHcl } from '@cdktf/hcl2json';
import { parse as parseYaml } from 'yaml';

import { loadSettings } from '../../apps/control-plane/src/config/settings';
import { run } from '../../monitoring/test/support';

// Static checks of the Terraform configuration: parsed with HashiCorp's HCL parser (via @cdktf/hcl2json), since
// no Terraform binary or cloud account is available here.

const DIR = resolve(__dirname, '..');
type Block = Record<string, unknown>;
type Hcl = {
  variable?: Record<string, Block[]>;
  resource?: Record<string, Record<string, Block[]>>;
  data?: Record<string, Record<string, Block[]>>;
  output?: Record<string, Block[]>;
  locals?: Block[];
  terraform?: Block[];
  provider?: Record<string, Block[]>;
  check?: Record<string, Block[]>;
  moved?: Block[];
};

const files = readdirSync(DIR).filter((f) => f.endsWith('.tf'));
let config: Hcl;

function merge(into: Hcl, from: Hcl): Hcl {
  for (const [kind, value] of Object.entries(from)) {
    const key = kind as keyof Hcl;
    if (Array.isArray(value))
      (into[key] as Block[] | undefined) = [...((into[key] as Block[]) ?? []), ...value];
    else if (kind === 'resource' || kind === 'data') {
      const target = ((into[key] as Record<string, Record<string, Block[]>>) ??= {});
      for (const [type, named] of Object.entries(value as Record<string, Record<string, Block[]>>))
        target[type] = { ...target[type], ...named };
    } else
      (into[key] as Record<string, Block[]>) = {
        ...((into[key] as Record<string, Block[]>) ?? {}),
        ...(value as Record<string, Block[]>),
      };
  }
  return into;
}

const resource = (type: string, name: string): Block => {
  const block = config.resource?.[type]?.[name]?.[0];
  if (!block) throw new Error(`resource ${type}.${name} is missing`);
  return block;
};
const locals = (): Block => Object.assign({}, ...(config.locals ?? []));
/** The single block of a name (hcl2json gives each as a list). */
const one = (blocks: Block[] | undefined): Block => {
  expect(blocks).toHaveLength(1);
  return blocks![0];
};
const POOL = '6f0b7a35-4f5e-4a53-9d3e-000000000001';
/** The database template variables with one control-plane replica (control-plane-replicas.tf): all empty. */
const NO_DATABASE = {
  replica_id: '',
  database_service: '',
  database_zone: '',
  database_user: '',
  database_password: '',
  database_script: '',
};
/** The pools file as monitoring.tf passes it (base64 of yamlencode's output). */
const POOLS_FILE_SAMPLE = Buffer.from(
  'pools:\n- id: 6f0b7a35-4f5e-4a53-9d3e-000000000001\n  max: 5\n  min: 1\n  name: default\n  zone: at-vie-1\n',
).toString('base64');

/**
 * Renders a .tftpl with Terraform's own templatefile() (`terraform console` needs no provider), so that directives
 * such as %{ if } and their ~ whitespace stripping behave exactly as in a plan; without a terraform binary, plain
 * ${name} interpolations only ($${ is a literal ${).
 */
function render(template: string, vars: Record<string, string | number>): string {
  const used = new Set([...template.matchAll(/(?<!\$)\$\{(\w+)\}/g)].map((m) => m[1]));
  const missing = [...used].filter((name) => !(name in vars));
  if (missing.length > 0)
    throw new Error(`template uses variables that are not passed: ${missing.join(', ')}`);
  if (!spawnSync('terraform', ['version']).error) {
    const dir = mkdtempSync(join(tmpdir(), 'tftpl-'));
    writeFileSync(join(dir, 'template.tftpl'), template);
    writeFileSync(join(dir, 'vars.json'), JSON.stringify(vars));
    const result = spawnSync('terraform', ['console', '-no-color'], {
      cwd: dir,
      input: 'jsonencode(templatefile("template.tftpl", jsondecode(file("vars.json"))))\n',
      encoding: 'utf8',
      env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', NO_COLOR: '1' },
    });
    if (result.status !== 0) throw new Error(`templatefile failed: ${result.stdout}${result.stderr}`);
    return JSON.parse(JSON.parse(result.stdout.trim()) as string) as string;
  }
  if (template.includes('%{')) throw new Error('this template has directives: rendering it needs terraform');
  const unknown = new Set<string>();
  const out = template.replace(/(\$?)\$\{([^}]+)\}/g, (whole, escape: string, name: string) => {
    if (escape) return whole.slice(1);
    if (!(name.trim() in vars)) unknown.add(name.trim());
    return String(vars[name.trim()]);
  });
  if (unknown.size > 0)
    throw new Error(`template uses variables that are not passed: ${[...unknown].join(', ')}`);
  return out;
}

beforeAll(async () => {
  config = {};
  for (const file of files)
    merge(config, (await parseHcl(file, readFileSync(join(DIR, file), 'utf8'))) as Hcl);
});

describe('terraform/ layout', () => {
  it('follows the HashiCorp file layout', () => {
    expect(files).toEqual(
      expect.arrayContaining(['versions.tf', 'providers.tf', 'variables.tf', 'outputs.tf']),
    );
    expect(readdirSync(join(DIR, 'templates')).every((f) => f.endsWith('.tftpl'))).toBe(true);
  });

  it('pins Terraform and the exoscale provider', () => {
    const terraform = config.terraform![0] as {
      required_version: string;
      required_providers: Record<string, { source: string; version: string }>[];
    };
    expect(terraform.required_version).toMatch(/>= 1\.\d+/);
    expect(terraform.required_providers[0].exoscale).toEqual({
      source: 'exoscale/exoscale',
      version: '~> 0.70',
    });
    expect(config.provider!.exoscale[0]).toEqual({
      key: '${var.exoscale_key}',
      secret: '${var.exoscale_secret}',
    });
  });
});

describe('variables', () => {
  it('needs only exoscale_key and exoscale_secret, both sensitive', () => {
    const variables = config.variable!;
    const required = Object.entries(variables)
      .filter(([, [v]]) => !('default' in v))
      .map(([name]) => name);
    expect(required.sort()).toEqual(['exoscale_key', 'exoscale_secret']);
    for (const name of required) expect(variables[name][0].sensitive).toBe(true);
  });

  it('types and describes every variable, and validates the others', () => {
    for (const [name, [v]] of Object.entries(config.variable!)) {
      expect([name, typeof v.type]).toEqual([name, 'string']);
      expect([name, typeof v.description]).toEqual([name, 'string']);
    }
    const validated = [
      'zone',
      'name_prefix',
      'pool_instance_type',
      'monitor_instance_type',
      'pool_initial_size',
      'pool_min_size',
      'pool_max_size',
      'admin_cidrs',
      'ssh_cidrs',
      'repository_url',
      'repository_ref',
      'scaling_policy',
      'pools',
    ];
    for (const name of validated)
      expect([name, Array.isArray(config.variable![name][0].validation)]).toEqual([name, true]);
  });
});

describe('resources', () => {
  const REMOVED = [
    'exoscale_compute',
    'exoscale_network',
    'exoscale_nic',
    'exoscale_ssh_keypair',
    'exoscale_security_group_rules',
    'exoscale_compute_template',
    'exoscale_iam_access_key',
  ];

  it('uses current resource types only (none removed in provider 0.54, no legacy IAM keys)', () => {
    const types = [...Object.keys(config.resource!), ...Object.keys(config.data!)];
    for (const type of types) expect(REMOVED).not.toContain(type);
    expect(Object.keys(config.resource!).sort()).toEqual([
      'exoscale_compute_instance',
      'exoscale_dbaas',
      'exoscale_iam_api_key',
      'exoscale_iam_role',
      'exoscale_instance_pool',
      'exoscale_nlb',
      'exoscale_nlb_service',
      'exoscale_security_group',
      'exoscale_security_group_rule',
      'exoscale_ssh_key',
      'random_password',
    ]);
  });

  it('leaves the pool size to the control plane', () => {
    const pool = resource('exoscale_instance_pool', 'app');
    expect((pool.lifecycle as { ignore_changes: string[] }[])[0].ignore_changes).toContain('${size}');
    expect(pool.instance_type).toBe('${each.value.instance_type}');
    expect(pool).not.toHaveProperty('service_offering');
    expect(pool.security_group_ids).toEqual(['${exoscale_security_group.pool.id}']);
  });

  it('builds an instance pool and a service on the one NLB per pool, and moves the single pool of before', () => {
    const pool = resource('exoscale_instance_pool', 'app');
    const service = resource('exoscale_nlb_service', 'http');
    expect(pool.for_each).toBe('${local.pools}');
    expect(service.for_each).toBe('${local.pools}');
    expect(pool).toMatchObject({
      name: '${local.pool_resource_names[each.key]}-pool',
      instance_prefix: '${local.pool_resource_names[each.key]}-app',
      size: '${each.value.size}',
    });
    expect(Object.keys(config.resource!.exoscale_nlb)).toEqual(['app']);
    expect(resource('exoscale_nlb', 'app')).not.toHaveProperty('for_each');
    // An existing single-pool state moves to the pool "default" (same names, same port): nothing is replaced.
    expect(config.moved).toEqual(
      expect.arrayContaining([
        { from: '${exoscale_instance_pool.app}', to: '${exoscale_instance_pool.app["default"]}' },
        { from: '${exoscale_nlb_service.http}', to: '${exoscale_nlb_service.http["default"]}' },
      ]),
    );
  });

  it("balances each pool's port (80 for the single pool) to 8080 with an HTTP health check on /health", () => {
    const service = resource('exoscale_nlb_service', 'http');
    expect(service).toMatchObject({
      port: '${each.value.port}',
      target_port: 8080,
      protocol: 'tcp',
      nlb_id: '${exoscale_nlb.app.id}',
      instance_pool_id: '${exoscale_instance_pool.app[each.key].id}',
    });
    expect((service.healthcheck as Block[])[0]).toMatchObject({ mode: 'http', port: 8080, uri: '/health' });
  });

  it('opens the node exporter to the monitor only and the admin ports to admin_cidrs only', () => {
    const exporter = resource('exoscale_security_group_rule', 'pool_node_exporter');
    expect(exporter).toMatchObject({
      start_port: 9100,
      end_port: 9100,
      user_security_group_id: '${exoscale_security_group.monitor.id}',
    });
    expect(exporter).not.toHaveProperty('cidr');
    const admin = resource('exoscale_security_group_rule', 'monitor_admin');
    expect(admin).toMatchObject({ for_each: '${local.admin_rules}', cidr: '${each.value.cidr}' });
    const rules = Object.values(config.resource!.exoscale_security_group_rule).map(([r]) => r);
    const worldOpen = rules.filter((r) => r.cidr === '0.0.0.0/0').map((r) => r.start_port);
    expect(worldOpen).toEqual([8080]);
    const ssh = resource('exoscale_security_group_rule', 'ssh');
    expect(ssh.for_each).toBe('${local.ssh_rules}');
  });

  it('gives the control plane a key limited to exactly the operations it calls', () => {
    // Both IAM resources exist only when asked for (the default): a key restricted to compute+sos cannot make them.
    for (const type of ['exoscale_iam_role', 'exoscale_iam_api_key'])
      expect(resource(type, 'control_plane').count).toBe('${var.create_control_plane_key ? 1 : 0}');
    expect(config.variable!.create_control_plane_key[0]).toMatchObject({ type: '${bool}', default: true });
    expect(resource('exoscale_iam_api_key', 'control_plane').role_id).toBe(
      '${exoscale_iam_role.control_plane[0].id}',
    );
    const role = resource('exoscale_iam_role', 'control_plane') as {
      policy: { default_service_strategy: string; services: string };
    };
    expect(role.policy.default_service_strategy).toBe('deny');
    // compute always; dbaas (the database look-up of control_plane_replicas = 2) only with two replicas.
    expect(role.policy.services).toMatch(/^\$\{merge\(\s*\{\s*compute = \{\s*type\s+= "rules"/);
    expect(role.policy.services).toMatch(
      /local\.ha \? \{\s*dbaas = \{[\s\S]*local\.database_operations[\s\S]*\} : \{\},\s*\)\}$/,
    );
    const operations = (locals().control_plane_operations as string[]).slice().sort();

    // What the control plane calls: client methods used in apps/control-plane/src, mapped to API operation ids.
    const client = readFileSync(resolve(DIR, '../libs/exoscale-client/src/client.ts'), 'utf8');
    const operationOf = new Map<string, string>();
    for (const m of client.matchAll(
      /async (\w+)\([^)]*\)[^{]*\{(?:(?!async )[\s\S])*?operation: '([a-z-]+)'/g,
    ))
      operationOf.set(m[1], m[2]);
    const sources = readdirSync(resolve(DIR, '../apps/control-plane/src'), {
      recursive: true,
      encoding: 'utf8',
    })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
      .map((f) => readFileSync(resolve(DIR, '../apps/control-plane/src', f), 'utf8'))
      .join('\n');
    const called = new Set<string>();
    for (const m of sources.matchAll(/this\.exoscale\.(\w+)\(/g)) {
      if (m[1] === 'waitForOperation') called.add('get-operation');
      else called.add(operationOf.get(m[1]) ?? `unknown method ${m[1]}`);
    }
    expect(operations).toEqual([...called].sort());
  });

  it('scopes the key (when asked) to every pool', () => {
    expect(locals().pool_ids).toBe(
      `\${join(", ", [for name in sort(keys(local.pools)) : "'\${exoscale_instance_pool.app[name].id}'"])}`,
    );
    expect(locals().pool_scope).toContain('parameters.id in [${local.pool_ids}]');
  });

  it('hands the monitor the control plane key, and the admin key only when create_control_plane_key is false', () => {
    const vars = locals().monitor_template_vars as Record<string, string>;
    expect(vars.exoscale_key).toBe(
      '${var.create_control_plane_key ? exoscale_iam_api_key.control_plane[0].key : var.exoscale_key}',
    );
    expect(vars.exoscale_secret).toBe(
      '${var.create_control_plane_key ? exoscale_iam_api_key.control_plane[0].secret : var.exoscale_secret}',
    );
    const all = files.map((f) => readFileSync(join(DIR, f), 'utf8')).join('\n');
    const uses = all.split('\n').filter((l) => /var\.exoscale_(key|secret)/.test(l));
    // The provider, and the two template variables above: nowhere else.
    expect(uses.map((l) => l.trim().split(/\s*=\s*/)[0])).toEqual([
      'exoscale_key',
      'exoscale_secret',
      'key',
      'secret',
    ]);
    expect(one(config.output!.control_plane_api_key).value).toBe(
      '${one(exoscale_iam_api_key.control_plane[*].key)}',
    );
  });

  it('passes the scaling policy to the control plane (target by default, step for the course)', () => {
    const policy = one(config.variable!.scaling_policy);
    expect(policy).toMatchObject({ type: '${string}', default: 'target' });
    expect(JSON.stringify(policy.validation)).toContain(
      'contains([\\"target\\", \\"step\\"], var.scaling_policy)',
    );
    expect((locals().monitor_template_vars as Record<string, string>).scaling_policy).toBe(
      '${var.scaling_policy}',
    );
    const template = readFileSync(join(DIR, 'templates/monitor-cloud-init.yaml.tftpl'), 'utf8');
    expect(template).toMatch(/^ {6}SCALING_POLICY=\$\{scaling_policy\}$/m);
    // The compose file hands the setting to the control plane (its default is the app's own).
    const compose = readFileSync(resolve(DIR, '../docker-compose.monitor.yml'), 'utf8');
    expect(compose).toContain('SCALING_POLICY: ${SCALING_POLICY:-target}');
  });

  it('accepts every Exoscale zone name, as the control plane does, and nothing else', () => {
    const zone = one(config.variable!.zone);
    const condition = one(zone.validation as Block[]).condition as string;
    const pattern = /can\(regex\("(.+)", var\.zone\)\)/.exec(condition)?.[1];
    expect(pattern).toBeDefined();
    const terraformAccepts = (name: string) => new RegExp(pattern!.replace(/\\\\/g, '\\')).test(name);
    const appAccepts = (name: string) => {
      try {
        loadSettings({
          EXOSCALE_KEY: 'k',
          EXOSCALE_SECRET: 's',
          EXOSCALE_INSTANCEPOOL_ID: POOL,
          EXOSCALE_ZONE: name,
        });
        return true;
      } catch (error) {
        expect((error as Error).message).toMatch(/EXOSCALE_ZONE must be an Exoscale zone name/);
        return false;
      }
    };
    // The zones of Exoscale's API (the ZoneName enum of its OpenAPI document) and hr-zag-1.
    for (const name of [
      'at-vie-1',
      'at-vie-2',
      'bg-sof-1',
      'ch-dk-2',
      'ch-gva-2',
      'de-fra-1',
      'de-muc-1',
      'hr-zag-1',
    ])
      expect({ name, terraform: terraformAccepts(name), app: appAccepts(name) }).toEqual({
        name,
        terraform: true,
        app: true,
      });
    // (An empty EXOSCALE_ZONE counts as unset: the default at-vie-1.)
    for (const name of ['at-vie', 'AT-VIE-1', 'vie-1', 'at_vie_1', 'at-vie-1 ', 'https://api-at-vie-1'])
      expect({ name, terraform: terraformAccepts(name), app: appAccepts(name) }).toEqual({
        name,
        terraform: false,
        app: false,
      });
  });

  it('outputs the URLs, the pool id and the secrets (sensitive)', () => {
    const outputs = config.output!;
    expect(Object.keys(outputs).sort()).toEqual([
      'api_token',
      'control_plane_api_key',
      'control_plane_health_url',
      'control_plane_url',
      'control_plane_urls',
      'database_host',
      'deployed_source',
      'grafana_admin_password',
      'grafana_url',
      'instance_pool_id',
      'load_balancer_url',
      'load_url',
      'monitor_ip',
      'pools',
      'prometheus_url',
      'webhook_password',
    ]);
    for (const secret of ['api_token', 'grafana_admin_password', 'webhook_password'])
      expect(outputs[secret][0].sensitive).toBe(true);
    // The single-pool outputs are the primary pool's ("default", as before); every pool is in `pools`.
    expect(outputs.load_url[0].value).toBe('${local.pool_urls[local.primary_pool]}load');
    expect(outputs.load_balancer_url[0].value).toBe('${local.pool_urls[local.primary_pool]}');
    expect(outputs.instance_pool_id[0].value).toBe('${exoscale_instance_pool.app[local.primary_pool].id}');
    expect(String(outputs.pools[0].value)).toMatch(/^\$\{\{\s*for name, pool in local.pools : name => \{/);
    expect(outputs.control_plane_url[0].value).toMatch(/:8090\/$/);
    expect(outputs.control_plane_health_url[0].value).toMatch(/:8090\/health$/);
    for (const [name, [block]] of Object.entries(outputs))
      expect({
        name,
        description: typeof block.description === 'string' && block.description.length > 10,
      }).toEqual({
        name,
        description: true,
      });
  });

  it('is formatted (terraform fmt -check -recursive, when a terraform binary is present)', () => {
    if (spawnSync('terraform', ['version']).error) {
      // No binary on this machine: the HCL was still parsed above by HashiCorp's parser.
      console.warn('terraform is not installed: the formatting check needs it');
      expect(Object.keys(config.output ?? {}).length).toBeGreaterThan(0);
      return;
    }
    const result = run('terraform', ['fmt', '-check', '-recursive', DIR]);
    expect(
      result.output.replace(/There are some problems with the CLI configuration:[\s\S]*?╵\n/g, '').trim(),
    ).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('pools: the pools variable, evaluated by Terraform itself (when a terraform binary is present)', () => {
  // variables.tf and pools.tf use no provider, so `terraform init` needs no download and `terraform console`
  // evaluates local.pools, the validations and (with the instance pool ids stubbed) the pools file of monitoring.tf.
  const hasTerraform = !spawnSync('terraform', ['version']).error;
  let dir: string;
  const tf = (args: string[], input?: string) => {
    const result = spawnSync('terraform', args, {
      cwd: dir,
      input,
      encoding: 'utf8',
      env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', TF_IN_AUTOMATION: '1', NO_COLOR: '1' },
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  };
  /** local.pools, the names, the primary pool and the pools file for these -var arguments; or the error. */
  const evaluate = (vars: string[]) => {
    const result = tf(
      ['console', '-no-color', '-var', 'exoscale_key=k', '-var', 'exoscale_secret=s', ...vars],
      'jsonencode([local.pools, local.pool_resource_names, local.nlb_service_names, local.primary_pool, local.pools_file])\n',
    );
    if (result.status !== 0) return { error: result.output.replace(/\s+/g, ' ') };
    const [pools, names, services, primary, file] = JSON.parse(JSON.parse(result.output.trim())) as [
      Record<string, Record<string, unknown>>,
      Record<string, string>,
      Record<string, string>,
      string,
      string,
    ];
    return { pools, names, services, primary, file: parseYaml(file) as { pools: Record<string, unknown>[] } };
  };

  beforeAll(() => {
    if (!hasTerraform) return;
    dir = mkdtempSync(join(tmpdir(), 'pools-'));
    for (const file of ['variables.tf', 'pools.tf']) copyFileSync(join(DIR, file), join(dir, file));
    const poolsFile = (locals().pools_file as string)
      .replace('exoscale_instance_pool.app[name].id', '"id-${name}"')
      .replace(/^\$\{([\s\S]*)\}$/, '$1');
    expect(poolsFile).toContain('"id-${name}"');
    writeFileSync(join(dir, 'probe.tf'), `locals {\n  pools_file = ${poolsFile}\n}\n`);
    const init = tf(['init', '-backend=false', '-input=false', '-no-color']);
    expect(init.status).toBe(0);
  });
  const skip = () => {
    if (hasTerraform) return false;
    console.warn('terraform is not installed: the pools evaluation needs it');
    return true;
  };

  it('is by default the single pool of the pool_* variables, named default, with the names of before', () => {
    if (skip()) return;
    const result = evaluate([]);
    expect(result).toMatchObject({
      pools: {
        default: { min: 1, max: 15, size: 2, instance_type: 'standard.micro', port: 80, settings: {} },
      },
      names: { default: 'autoscaling' },
      services: { default: 'http' },
      primary: 'default',
      file: { pools: [{ name: 'default', id: 'id-default', zone: 'at-vie-1', min: 1, max: 15 }] },
    });
    // Today's tfvars keep working: the pool_* variables still size it.
    expect(
      evaluate([
        '-var',
        'pool_min_size=2',
        '-var',
        'pool_max_size=5',
        '-var',
        'pool_instance_type=standard.small',
      ]),
    ).toMatchObject({ pools: { default: { min: 2, max: 5, instance_type: 'standard.small' } } });
  });

  it('builds two pools from tfvars, each with its own port, names, bounds and settings in the pools file', () => {
    if (skip()) return;
    const result = evaluate([
      '-var',
      'zone=ch-dk-2',
      '-var',
      'pools={web = {min = 1, max = 10, instance_type = "standard.small"}, api = {min = 2, max = 5, port = 8081, settings = {TARGET_UTILIZATION = 0.5}}}',
    ]);
    expect(result).toEqual({
      pools: {
        web: { min: 1, max: 10, size: 1, instance_type: 'standard.small', port: 80, settings: {} },
        api: {
          min: 2,
          max: 5,
          size: 2,
          instance_type: 'standard.micro',
          port: 8081,
          settings: { TARGET_UTILIZATION: '0.5' },
        },
      },
      names: { web: 'autoscaling-web', api: 'autoscaling-api' },
      services: { web: 'http-web', api: 'http-api' },
      // The single-pool outputs follow the pool on port 80.
      primary: 'web',
      file: {
        pools: [
          {
            name: 'api',
            id: 'id-api',
            zone: 'ch-dk-2',
            min: 2,
            max: 5,
            settings: { TARGET_UTILIZATION: '0.5' },
          },
          { name: 'web', id: 'id-web', zone: 'ch-dk-2', min: 1, max: 10 },
        ],
      },
    });
  });

  it.each([
    ['a bad name', '{Web_1 = {min = 1, max = 2}}', /Each pool name must be 1-32 characters/],
    ['min above max', '{web = {min = 3, max = 2}}', /1 <= min <= max <= 50/],
    ['a size above max', '{web = {min = 1, max = 2, size = 3}}', /size \(at creation\)/],
    [
      'two pools on port 80',
      '{web = {min = 1, max = 2}, api = {min = 1, max = 2}}',
      /its own load balancer port/,
    ],
    ['no pool', '{}', /1 to 10 pools/],
    [
      'a setting that is not an env name',
      '{web = {min = 1, max = 2, settings = {target = "1"}}}',
      /environment names/,
    ],
  ])('rejects %s', (_, pools, message) => {
    if (skip()) return;
    const result = evaluate(['-var', `pools=${pools}`]);
    expect(result.error).toMatch(message);
  });
});

describe('cloud-init templates', () => {
  const samples: Record<string, Record<string, string | number>> = {
    'pool-cloud-init.yaml.tftpl': {},
    'monitor-cloud-init.yaml.tftpl': {
      repository_url: 'https://github.com/example/exoscale-autoscaler.git',
      repository_ref: 'main',
      exoscale_key: 'EXO0123456789abcdef01234567',
      exoscale_secret: 'x'.repeat(43),
      zone: 'at-vie-1',
      pools_file: POOLS_FILE_SAMPLE,
      scaling_policy: 'target',
      grafana_password: 'g'.repeat(24),
      webhook_password: 'w'.repeat(32),
      webhook_hmac: 'h'.repeat(48),
      api_token: 't'.repeat(40),
      ...NO_DATABASE,
    },
  };

  it.each(Object.keys(samples))('%s gets exactly the variables Terraform passes', (name) => {
    const passed = name.startsWith('pool') ? locals().pool_template_vars : locals().monitor_template_vars;
    const template = readFileSync(join(DIR, 'templates', name), 'utf8');
    const used = new Set([...template.matchAll(/(?<!\$)\$\{(\w+)\}/g)].map((m) => m[1]));
    expect([...used].sort()).toEqual(Object.keys(passed as Block).sort());
  });

  it.each(Object.keys(samples))(
    '%s renders to valid cloud-config under the 32 KiB user-data limit',
    (name) => {
      const passed = (name.startsWith('pool') ? locals().pool_template_vars : {}) as Record<string, string>;
      const rendered = render(readFileSync(join(DIR, 'templates', name), 'utf8'), {
        ...passed,
        ...samples[name],
      });
      expect(rendered.startsWith('#cloud-config\n')).toBe(true);
      expect(Buffer.from(rendered).toString('base64').length).toBeLessThan(32768);
      const file = join(mkdtempSync(join(tmpdir(), 'cloud-init-')), name.replace('.tftpl', ''));
      writeFileSync(file, rendered);
      const result = run('cloud-init', ['schema', '--config-file', file]);
      expect(result.output).toMatch(/Valid (cloud-config|schema)/);
      expect(result.status).toBe(0);
      const parsed = parseYaml(rendered) as { runcmd: string[] };
      expect(parsed.runcmd.length).toBeGreaterThan(0);
    },
  );

  it('starts the app on 8080 and the node exporter on 9100 on every member', () => {
    const pool = render(
      readFileSync(join(DIR, 'templates/pool-cloud-init.yaml.tftpl'), 'utf8'),
      locals().pool_template_vars as Record<string, string>,
    );
    // On the host's network: the exporter's node_netstat_Tcp_CurrEstab counts the app's connections (requests in
    // flight, READING_SERIES.inFlight); the image listens on 8080 there.
    expect(pool).toMatch(/--name app --restart always --net host quay\.io\/janoszen\/http-load-generator:1\.0\.1/);
    expect(pool).not.toMatch(/-p 8080:8080/);
    expect(pool).toMatch(/--net host --pid host .*node-exporter:v\d+\.\d+\.\d+ --path\.rootfs=\/host/);
    // The exporter before the app: a member is measured by the time it serves (two scrapes make a rate).
    const runcmd = (parseYaml(pool) as { runcmd: string[] }).runcmd;
    const exporter = runcmd.findIndex((c) => c.includes('--name node-exporter'));
    const app = runcmd.findIndex((c) => c.includes('--name app'));
    expect(exporter).toBeGreaterThanOrEqual(0);
    expect(exporter).toBeLessThan(app);
  });

  it('writes the monitor settings root-only and starts the compose stack', () => {
    const rendered = render(
      readFileSync(join(DIR, 'templates/monitor-cloud-init.yaml.tftpl'), 'utf8'),
      samples['monitor-cloud-init.yaml.tftpl'],
    );
    const parsed = parseYaml(rendered) as {
      write_files: { path: string; permissions: string; content: string }[];
      runcmd: string[];
    };
    const settings = parsed.write_files.find((f) => f.path === '/etc/autoscaler/monitor.env')!;
    expect(settings.permissions).toBe('0600');
    for (const key of [
      'SCALING_POLICY',
      'EXOSCALE_KEY',
      'EXOSCALE_SECRET',
      'POOLS_FILE',
      'WEBHOOK_PASSWORD',
      'API_TOKEN',
      'GRAFANA_ADMIN_PASSWORD',
    ]) {
      expect(settings.content).toMatch(new RegExp(`^${key}=.+$`, 'm'));
    }
    // The pools come from the pools file only (the env shorthand's variables are not written).
    expect(settings.content).not.toMatch(/^(EXOSCALE_INSTANCEPOOL_ID|POOL_MIN_SIZE|POOL_MAX_SIZE)=/m);
    const poolsPath = /^POOLS_FILE=(.+)$/m.exec(settings.content)![1];
    const pools = parsed.write_files.find((f) => f.path === poolsPath) as unknown as {
      encoding: string;
      content: string;
      permissions: string;
    };
    expect(pools).toMatchObject({ encoding: 'b64', permissions: '0644' });
    expect(parseYaml(Buffer.from(pools.content, 'base64').toString('utf8'))).toEqual({
      pools: [{ name: 'default', id: POOL, zone: 'at-vie-1', min: 1, max: 5 }],
    });
    // The control plane's container sees it at the same path (its directory mounted read-only).
    const compose = readFileSync(resolve(DIR, '../docker-compose.monitor.yml'), 'utf8');
    const composed = parseYaml(compose) as {
      services: Record<string, { environment: Record<string, string>; volumes: string[] }>;
    };
    const controlPlane = composed.services['control-plane'];
    expect(controlPlane.environment.POOLS_FILE).toBe('${POOLS_FILE:?set in the env file}');
    // The one-pool shorthand is refused beside a pools file: the compose file does not pass it.
    for (const key of ['EXOSCALE_INSTANCEPOOL_ID', 'POOL_MIN_SIZE', 'POOL_MAX_SIZE', 'POOL_NAME'])
      expect(controlPlane.environment).not.toHaveProperty(key);
    const dir = poolsPath.slice(0, poolsPath.lastIndexOf('/'));
    expect(controlPlane.volumes).toContain(`${dir}:${dir}:ro`);
    const unit = parsed.write_files.find((f) => f.path.endsWith('autoscaler-monitor.service'))!;
    expect(unit.content).toContain(
      'docker compose -f docker-compose.monitor.yml --env-file /etc/autoscaler/monitor.env up -d --build',
    );
  });
});

describe('deployment from a clone: the git source script', () => {
  const SCRIPT = join(DIR, 'scripts', 'git-source.sh');
  const git = (cwd: string, ...args: string[]) => {
    const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  /** A checkout with terraform/scripts/git-source.sh in it, cloned from a local "origin" and pushed. */
  function checkout(): { dir: string; head: string } {
    const root = mkdtempSync(join(tmpdir(), 'git-source-'));
    const origin = join(root, 'origin.git');
    git(root, 'init', '--quiet', '--bare', '-b', 'main', origin);
    const dir = join(root, 'work');
    git(root, 'clone', '--quiet', origin, dir);
    git(dir, 'config', 'user.email', 'test@example.com');
    git(dir, 'config', 'user.name', 'test');
    mkdirSync(join(dir, 'terraform', 'scripts'), { recursive: true });
    copyFileSync(SCRIPT, join(dir, 'terraform', 'scripts', 'git-source.sh'));
    git(dir, 'add', '.');
    git(dir, 'commit', '--quiet', '-m', 'init');
    git(dir, 'push', '--quiet', 'origin', 'HEAD:main');
    return { dir, head: git(dir, 'rev-parse', 'HEAD') };
  }
  const source = (dir: string, query = { repository_url: '', repository_ref: '' }) =>
    spawnSync('bash', [join(dir, 'terraform', 'scripts', 'git-source.sh')], {
      input: JSON.stringify(query),
      encoding: 'utf8',
    });

  it('is the external data source behind the monitor template variables', () => {
    const data = config.data!.external.git_source[0] as { program: string[]; query: Record<string, string> };
    expect(data.program).toEqual(['bash', '${path.module}/scripts/git-source.sh']);
    expect(data.query).toEqual({
      repository_url: '${var.repository_url}',
      repository_ref: '${var.repository_ref}',
    });
    const vars = locals().monitor_template_vars as Record<string, string>;
    expect(vars.repository_url).toBe('${data.external.git_source.result.url}');
    expect(vars.repository_ref).toBe('${data.external.git_source.result.ref}');
    for (const name of ['repository_url', 'repository_ref'])
      expect(config.variable![name][0].default).toBe('');
  });

  it('derives the https origin and the pushed HEAD; an ssh origin becomes https', () => {
    const { dir, head } = checkout();
    git(dir, 'remote', 'set-url', 'origin', 'https://example.com/team/autoscaler.git');
    const https = source(dir);
    expect(https.stderr).toBe('');
    expect(JSON.parse(https.stdout)).toEqual({ url: 'https://example.com/team/autoscaler.git', ref: head });
    git(dir, 'remote', 'set-url', 'origin', 'git@github.com:team/autoscaler.git');
    expect(JSON.parse(source(dir).stdout)).toEqual({
      url: 'https://github.com/team/autoscaler.git',
      ref: head,
    });
  });

  it('stops the plan with a clear message when HEAD is not pushed', () => {
    const { dir } = checkout();
    git(dir, 'remote', 'set-url', 'origin', 'https://example.com/team/autoscaler.git');
    git(dir, 'commit', '--quiet', '--allow-empty', '-m', 'local only');
    const result = source(dir);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /HEAD \([0-9a-f]{40}\) is not on any branch of origin: push it \(git push\)/,
    );
  });

  it('takes the variables as they are when set, and refuses what the VM could not clone', () => {
    const { dir } = checkout();
    const set = source(dir, { repository_url: 'https://example.com/fork.git', repository_ref: 'v1.2.0' });
    expect(JSON.parse(set.stdout)).toEqual({ url: 'https://example.com/fork.git', ref: 'v1.2.0' });
    git(dir, 'remote', 'set-url', 'origin', '/some/local/path.git');
    expect(source(dir).stderr).toMatch(/is not an https or ssh Git URL the VM can clone: set repository_url/);
  });

  it('renders the monitor cloud-init with the derived values into valid cloud-config', () => {
    const { dir, head } = checkout();
    git(dir, 'remote', 'set-url', 'origin', 'https://example.com/team/autoscaler.git');
    const derived = JSON.parse(source(dir).stdout) as { url: string; ref: string };
    const rendered = render(readFileSync(join(DIR, 'templates', 'monitor-cloud-init.yaml.tftpl'), 'utf8'), {
      repository_url: derived.url,
      repository_ref: derived.ref,
      exoscale_key: 'EXO0123456789abcdef01234567',
      exoscale_secret: 'x'.repeat(43),
      zone: 'at-vie-1',
      pools_file: POOLS_FILE_SAMPLE,
      scaling_policy: 'step',
      grafana_password: 'g'.repeat(24),
      webhook_password: 'w'.repeat(32),
      webhook_hmac: 'h'.repeat(48),
      api_token: 't'.repeat(40),
      ...NO_DATABASE,
    });
    expect(rendered).toContain(`git clone --quiet https://example.com/team/autoscaler.git /opt/autoscaler`);
    expect(rendered).toContain(`checkout --quiet ${head}`);
    const file = join(mkdtempSync(join(tmpdir(), 'cloud-init-')), 'monitor.yaml');
    writeFileSync(file, rendered);
    expect(run('cloud-init', ['schema', '--config-file', file]).status).toBe(0);
  });
});

describe('the repository root: the course hand-in module', () => {
  // The course's grader runs `terraform init/apply/destroy` in the repository root with only -var exoscale_key and
  // -var exoscale_secret, and a key restricted to the compute and sos services.
  const ROOT = resolve(DIR, '..');
  const rootFiles = readdirSync(ROOT).filter((f) => f.endsWith('.tf'));
  let root: Hcl & { module?: Record<string, Block[]> };

  beforeAll(async () => {
    root = {};
    for (const file of rootFiles)
      merge(root, (await parseHcl(file, readFileSync(join(ROOT, file), 'utf8'))) as Hcl);
  });
  const call = () => one(root.module?.autoscaler);

  it('has exactly the two required variables, both sensitive; every other one has a default', () => {
    expect(rootFiles.sort()).toEqual(['main.tf', 'outputs.tf', 'variables.tf']);
    const variables = root.variable!;
    const required = Object.entries(variables)
      .filter(([, [v]]) => !('default' in v))
      .map(([name]) => name);
    expect(required.sort()).toEqual(['exoscale_key', 'exoscale_secret']);
    for (const name of required) expect(one(variables[name]).sensitive).toBe(true);
    for (const [name, blocks] of Object.entries(variables))
      expect([name, typeof one(blocks).type, typeof one(blocks).description]).toEqual([
        name,
        'string',
        'string',
      ]);
  });

  it('calls ./terraform with inputs that are all its variables, and every variable it requires', () => {
    const { source, ...inputs } = call();
    expect(source).toBe('./terraform');
    // A module with its own provider block cannot take count, for_each or depends_on.
    for (const meta of ['count', 'for_each', 'depends_on', 'providers'])
      expect(inputs).not.toHaveProperty(meta);
    const moduleVariables = config.variable!;
    for (const name of Object.keys(inputs)) expect([name, name in moduleVariables]).toEqual([name, true]);
    const moduleRequired = Object.entries(moduleVariables)
      .filter(([, [v]]) => !('default' in v))
      .map(([name]) => name);
    for (const name of moduleRequired) expect(inputs).toHaveProperty(name, `\${var.${name}}`);
    // Every root variable reaches the module under its own name (none is declared and left unused).
    for (const name of Object.keys(root.variable!)) expect(inputs).toHaveProperty(name, `\${var.${name}}`);
  });

  it('takes the pools as ./terraform does (same type, null by default: its single pool)', () => {
    expect(one(root.variable!.pools)).toMatchObject({
      type: one(config.variable!.pools).type,
      default: null,
    });
    expect(one(config.variable!.pools).default).toBeNull();
  });

  it("defaults to what the grader needs: no IAM resources, the course's one-step policy", () => {
    const variables = root.variable!;
    expect(one(variables.create_control_plane_key)).toMatchObject({ type: '${bool}', default: false });
    expect(one(variables.scaling_policy)).toMatchObject({ type: '${string}', default: 'step' });
    // The root's defaults pass the module's own validations.
    expect(JSON.stringify(one(config.variable!.scaling_policy).validation)).toContain('\\"step\\"');
    expect(one(variables.zone).default).toBe(one(config.variable!.zone).default);
  });

  it('keeps its state in the repository root (the grader reads ./terraform.tfstate) and configures no provider', () => {
    const terraform = one(root.terraform) as { required_version?: string; backend?: unknown };
    expect(terraform.required_version).toBe(
      (config.terraform![0] as { required_version: string }).required_version,
    );
    expect(terraform).not.toHaveProperty('backend');
    expect((config.terraform![0] as Block).backend).toBeUndefined();
    expect(root.provider).toBeUndefined();
    expect(root.resource).toBeUndefined();
    expect(root.data).toBeUndefined();
  });

  it('resolves every file of ./terraform from the module, so both folders apply the same files', () => {
    const all = files.map((f) => readFileSync(join(DIR, f), 'utf8')).join('\n');
    const paths = [...all.matchAll(/\b(?:templatefile|file|filebase64)\(\s*"([^"]+)"/g)].map((m) => m[1]);
    const program = (config.data!.external.git_source[0] as { program: string[] }).program[1];
    expect(paths.length).toBeGreaterThan(0);
    for (const path of [...paths, program]) {
      expect(path).toMatch(/^\$\{path\.module\}\//);
      expect(readdirSync(join(DIR, path.replace('${path.module}/', ''), '..'))).toContain(
        path.split('/').pop(),
      );
    }
    expect(all).not.toMatch(/path\.(cwd|root)/);
  });

  it('re-exports every output of ./terraform, sensitive where it is', () => {
    const outputs = root.output!;
    expect(Object.keys(outputs).sort()).toEqual(Object.keys(config.output!).sort());
    for (const [name, blocks] of Object.entries(outputs)) {
      const output = one(blocks);
      expect([name, output.value]).toEqual([name, `\${module.autoscaler.${name}}`]);
      expect([name, output.sensitive ?? false]).toEqual([name, one(config.output![name]).sensitive ?? false]);
      expect([name, output.description]).toEqual([name, one(config.output![name]).description]);
    }
  });

  it("git-ignores the root's .terraform/, state and tfvars, not its .tf files", () => {
    const ignored = (path: string) =>
      spawnSync('git', ['check-ignore', '-q', '--no-index', path], { cwd: ROOT }).status === 0;
    for (const path of [
      '.terraform/providers/x',
      'terraform.tfstate',
      'terraform.tfstate.backup',
      '.terraform.tfstate.lock.info',
      'terraform.tfvars',
      'terraform/.terraform/providers/x',
      'terraform/terraform.tfstate',
    ])
      expect([path, ignored(path)]).toEqual([path, true]);
    for (const path of ['main.tf', 'variables.tf', 'outputs.tf', '.terraform.lock.hcl'])
      expect([path, ignored(path)]).toEqual([path, false]);
  });

  it('is formatted (terraform fmt -check, when a terraform binary is present)', () => {
    if (spawnSync('terraform', ['version']).error) {
      console.warn('terraform is not installed: the formatting check needs it');
      return;
    }
    // Not recursive: ./terraform has its own check above, and nothing else in the repository is Terraform.
    const result = run('terraform', ['fmt', '-check', '-list=true', ...rootFiles]);
    expect(
      result.output.replace(/There are some problems with the CLI configuration:[\s\S]*?╵\n/g, '').trim(),
    ).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('control_plane_replicas: a second replica and a DBaaS PostgreSQL', () => {
  const hasTerraform = !spawnSync('terraform', ['version']).error;
  const SCRIPT = join(DIR, 'scripts', 'database-url.sh');
  const template = (name: string) => readFileSync(join(DIR, 'templates', name), 'utf8');
  const BASE = {
    repository_url: 'https://github.com/example/exoscale-autoscaler.git',
    repository_ref: 'main',
    exoscale_key: 'EXO0123456789abcdef01234567',
    exoscale_secret: 'x'.repeat(43),
    zone: 'at-vie-1',
    pools_file: POOLS_FILE_SAMPLE,
    scaling_policy: 'target',
    webhook_password: 'w'.repeat(32),
    webhook_hmac: 'h'.repeat(48),
    api_token: 't'.repeat(40),
  };
  const database = (replicaId: string) => ({
    replica_id: replicaId,
    database_service: 'autoscaling-state',
    database_zone: 'at-vie-1',
    database_user: 'autoscaler',
    database_password: 'p'.repeat(32),
    database_script: readFileSync(SCRIPT).toString('base64'),
  });
  const schemaValid = (rendered: string) => {
    const file = join(mkdtempSync(join(tmpdir(), 'cloud-init-')), 'user-data.yaml');
    writeFileSync(file, rendered);
    return run('cloud-init', ['schema', '--config-file', file]).status;
  };

  it('declares 1 or 2 replicas (1 by default), the second zone and the plan, in both folders', () => {
    expect(one(config.variable!.control_plane_replicas)).toMatchObject({ type: '${number}', default: 1 });
    expect(JSON.stringify(one(config.variable!.control_plane_replicas).validation)).toContain(
      'contains([1, 2], var.control_plane_replicas)',
    );
    expect(one(config.variable!.control_plane_second_zone)).toMatchObject({ default: '' });
    expect(one(config.variable!.database_plan)).toMatchObject({ default: 'hobbyist-2' });
    expect(locals().ha).toBe('${var.control_plane_replicas == 2}');
    expect(locals().control_plane_second_zone).toBe(
      '${var.control_plane_second_zone == "" ? var.zone : var.control_plane_second_zone}',
    );
  });

  it('builds the database, the second VM, its template and its Prometheus rule only with 2 replicas', () => {
    for (const [type, name] of [
      ['exoscale_dbaas', 'state'],
      ['exoscale_compute_instance', 'control_plane_replica'],
      ['exoscale_security_group_rule', 'monitor_prometheus_replica'],
      ['random_password', 'database_admin'],
    ])
      expect([type, name, resource(type, name).count]).toEqual([type, name, '${local.ha ? 1 : 0}']);
    for (const [type, name] of [
      ['exoscale_database_uri', 'state'],
      ['exoscale_template', 'control_plane_replica'],
    ])
      expect([type, name, config.data![type][name][0].count]).toEqual([type, name, '${local.ha ? 1 : 0}']);
    // The resources of one replica keep their addresses: none of them gained a count or for_each.
    expect(resource('exoscale_compute_instance', 'monitor')).not.toHaveProperty('count');
    expect(resource('exoscale_security_group', 'monitor')).not.toHaveProperty('count');
  });

  it('is a PostgreSQL whose IP filter is exactly the two control-plane VMs, a /32 each', () => {
    const db = resource('exoscale_dbaas', 'state') as Block & { pg: Block };
    expect(db).toMatchObject({
      type: 'pg',
      zone: '${var.zone}',
      plan: '${var.database_plan}',
      termination_protection: false,
    });
    expect(db.pg).toMatchObject({
      version: '16',
      admin_username: '${local.database_user}',
      admin_password: '${random_password.database_admin[0].result}',
    });
    const filter = String(db.pg.ip_filter).replace(/\s+/g, ' ');
    expect(filter).toBe(
      '${[ for ip in [ exoscale_compute_instance.monitor.public_ip_address, exoscale_compute_instance.control_plane_replica[0].public_ip_address, ] : "${ip}/32" ]}',
    );
    expect(JSON.stringify(db)).not.toContain('0.0.0.0/0');
    const uri = config.data!.exoscale_database_uri.state[0];
    expect(uri).toMatchObject({ type: 'pg', name: '${exoscale_dbaas.state[0].name}' });
  });

  it("runs the second VM in the second zone, behind the monitoring VM's security group (same 8090 rules)", () => {
    const vm = resource('exoscale_compute_instance', 'control_plane_replica');
    expect(vm).toMatchObject({
      zone: '${local.control_plane_second_zone}',
      template_id: '${data.exoscale_template.control_plane_replica[0].id}',
      security_group_ids: ['${exoscale_security_group.monitor.id}'],
    });
    expect(config.data!.exoscale_template.control_plane_replica[0].zone).toBe(
      '${local.control_plane_second_zone}',
    );
    const rule = resource('exoscale_security_group_rule', 'monitor_prometheus_replica');
    expect(rule).toMatchObject({
      start_port: 9090,
      cidr: '${exoscale_compute_instance.control_plane_replica[0].public_ip_address}/32',
    });
    // Every variable the replica's template uses is passed (the merge in user_data plus the database variables).
    const passed = new Set([
      ...[...String(vm.user_data).matchAll(/^\s*(\w+)\s*=/gm)].map((m) => m[1]),
      ...Object.keys(NO_DATABASE),
    ]);
    const used = [...template('control-plane-cloud-init.yaml.tftpl').matchAll(/(?<!\$)\$\{(\w+)\}/g)].map(
      (m) => m[1],
    );
    for (const name of used) expect([name, passed.has(name)]).toEqual([name, true]);
  });

  it('outputs every replica URL and the database host, never its URL or password', () => {
    expect(String(one(config.output!.control_plane_urls).value)).toContain(
      'for vm in exoscale_compute_instance.control_plane_replica',
    );
    expect(one(config.output!.database_host).value).toBe('${one(data.exoscale_database_uri.state[*].host)}');
    for (const [name, [output]] of Object.entries(config.output!))
      if (!output.sensitive)
        expect(`${name}: ${String(output.value)}`).not.toMatch(/\.(uri|password)\b|database_admin/);
  });

  it("renders the monitoring VM's user-data exactly as before with one replica", () => {
    const monitor = template('monitor-cloud-init.yaml.tftpl');
    const withoutBlock = monitor.replace(/^%\{ if replica_id != "" ~\}\n[\s\S]*?^%\{ endif ~\}\n/m, '');
    expect(withoutBlock).not.toContain('database');
    const vars = { ...BASE, grafana_password: 'g'.repeat(24) };
    expect(render(monitor, { ...vars, ...NO_DATABASE })).toBe(render(withoutBlock, vars));
  });

  it('with 2 replicas: both VMs resolve DATABASE_URL before compose starts; the replica runs only the control plane', () => {
    if (!hasTerraform) return;
    const monitor = render(template('monitor-cloud-init.yaml.tftpl'), {
      ...BASE,
      grafana_password: 'g'.repeat(24),
      ...database('autoscaling-monitor'),
    });
    const replica = render(template('control-plane-cloud-init.yaml.tftpl'), {
      ...BASE,
      prometheus_url: 'http://192.0.2.10:9090',
      ...database('autoscaling-control-plane-2'),
    });
    for (const [name, rendered] of [
      ['monitor', monitor],
      ['replica', replica],
    ]) {
      expect([name, schemaValid(rendered)]).toEqual([name, 0]);
      expect(Buffer.from(rendered).toString('base64').length).toBeLessThan(32768);
      const files = (
        parseYaml(rendered) as { write_files: { path: string; content: string; permissions: string }[] }
      ).write_files;
      const conf = files.find((f) => f.path === '/etc/autoscaler/database.conf')!;
      expect(conf.permissions).toBe('0600');
      expect(conf.content).toMatch(/^REPLICA_ID=autoscaling-(monitor|control-plane-2)$/m);
      const script = files.find((f) => f.path === '/usr/local/bin/autoscaler-database-url')!;
      expect(Buffer.from(script.content, 'base64').toString('utf8')).toBe(readFileSync(SCRIPT, 'utf8'));
      expect(rendered).toContain('ExecStartPre=/usr/local/bin/autoscaler-database-url');
    }
    expect(replica).toContain('up -d --build --no-deps control-plane');
    expect(replica).toMatch(/^ {6}PROMETHEUS_URL=http:\/\/192\.0\.2\.10:9090$/m);
    expect(replica).not.toMatch(/GRAFANA_ADMIN_PASSWORD=g/);
  });

  it('hands DATABASE_URL, REPLICA_ID and PROMETHEUS_URL through compose (empty: the file store), restarting on exit', () => {
    const compose = parseYaml(readFileSync(resolve(DIR, '../docker-compose.monitor.yml'), 'utf8')) as {
      services: Record<string, { environment: Record<string, string>; volumes: string[]; restart: string }>;
    };
    const controlPlane = compose.services['control-plane'];
    expect(controlPlane.environment).toMatchObject({
      DATABASE_URL: '${DATABASE_URL:-}',
      REPLICA_ID: '${REPLICA_ID:-}',
      PROMETHEUS_URL: '${PROMETHEUS_URL:-http://prometheus:9090}',
    });
    expect(controlPlane.volumes).toContain('/etc/autoscaler/database:/etc/autoscaler/database:ro');
    expect(['always', 'unless-stopped']).toContain(controlPlane.restart);
    // The settings take an empty DATABASE_URL as unset (one replica: the file store).
    const settings = readFileSync(resolve(DIR, '../apps/control-plane/src/config/settings.ts'), 'utf8');
    expect(settings).toMatch(
      /@Transform\(blankToUndefined\)\s*@Matches\([^)]*\)[^;]*DATABASE_URL\?: string;/,
    );
  });

  it("signs its API calls exactly as the control plane's client does (EXO2-HMAC-SHA256)", async () => {
    const { signatureMessage, computeSignature } = await import('../../libs/exoscale-client/src/signing');
    for (const path of ['/v2/dbaas-postgres/autoscaling-state', '/v2/dbaas-ca-certificate']) {
      const result = spawnSync('bash', ['-c', `source "${SCRIPT}"; sign GET "${path}" 1900000000`], {
        encoding: 'utf8',
        env: { ...process.env, EXOSCALE_SECRET: 's3cr3t/+=' },
      });
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe(
        computeSignature(signatureMessage({ method: 'GET', path }, 1900000000), 's3cr3t/+='),
      );
    }
  });

  it('waits for the service, then writes DATABASE_URL (verify-full, the service CA) and REPLICA_ID into the env file', () => {
    const etc = mkdtempSync(join(tmpdir(), 'etc-'));
    writeFileSync(
      join(etc, 'monitor.env'),
      'EXOSCALE_KEY=EXOk\nEXOSCALE_SECRET=s\nDATABASE_URL=old\nAPI_TOKEN=t\n',
    );
    writeFileSync(
      join(etc, 'database.conf'),
      'REPLICA_ID=autoscaling-monitor\nDATABASE_SERVICE=autoscaling-state\nDATABASE_ZONE=at-vie-1\nDATABASE_USER=autoscaler\nDATABASE_PASSWORD=pw\n',
    );
    // The API stubbed: the service is "rebuilding" twice, then running; then the CA.
    const stub = `
      api_get() {
        case "$1" in
          /v2/dbaas-postgres/autoscaling-state)
            echo x >>"$ETC_DIR/calls"
            if [ "$(wc -l <"$ETC_DIR/calls")" -lt 3 ]; then echo '{"state":"rebuilding"}'; else
              echo '{"state":"running","uri-params":{"host":"pg.example","port":21699,"dbname":"defaultdb","user":"autoscaler"}}'; fi ;;
          /v2/dbaas-ca-certificate) echo '{"certificate":"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n"}' ;;
          *) return 22 ;;
        esac
      }`;
    const result = spawnSync('bash', ['-c', `source "${SCRIPT}"; ${stub}; main`], {
      encoding: 'utf8',
      env: { ...process.env, ETC_DIR: etc, RETRY_SECONDS: '0', ATTEMPTS: '5' },
    });
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/not running yet \(attempt 2\)/);
    expect(readFileSync(join(etc, 'monitor.env'), 'utf8')).toBe(
      'EXOSCALE_KEY=EXOk\nEXOSCALE_SECRET=s\nAPI_TOKEN=t\n' +
        'DATABASE_URL=postgres://autoscaler:pw@pg.example:21699/defaultdb?sslmode=verify-full&sslrootcert=/etc/autoscaler/database/ca.pem\n' +
        'REPLICA_ID=autoscaling-monitor\n',
    );
    expect(readFileSync(join(etc, 'database', 'ca.pem'), 'utf8')).toMatch(
      /^-----BEGIN CERTIFICATE-----\nMIIB\n/,
    );
  });

  describe('the variables, evaluated by Terraform (when a terraform binary is present)', () => {
    let dir: string;
    const evaluate = (vars: string[]) => {
      const result = spawnSync(
        'terraform',
        ['console', '-no-color', '-var', 'exoscale_key=k', '-var', 'exoscale_secret=s', ...vars],
        {
          cwd: dir,
          input: 'jsonencode([var.control_plane_replicas, var.control_plane_second_zone])\n',
          encoding: 'utf8',
          env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', NO_COLOR: '1' },
        },
      );
      // A failed validation is printed as an error, but console still exits 0.
      return result.status === 0 && !/Error:/.test(result.stdout + result.stderr)
        ? { value: JSON.parse(JSON.parse(result.stdout.trim()) as string) as unknown }
        : { error: `${result.stdout}${result.stderr}`.replace(/\s+/g, ' ') };
    };
    beforeAll(() => {
      if (!hasTerraform) return;
      dir = mkdtempSync(join(tmpdir(), 'replicas-'));
      copyFileSync(join(DIR, 'variables.tf'), join(dir, 'variables.tf'));
    });

    it('accepts 1 (the default) and 2, a zone or nothing as the second zone', () => {
      if (!hasTerraform) return;
      expect(evaluate([])).toEqual({ value: [1, ''] });
      expect(
        evaluate(['-var', 'control_plane_replicas=2', '-var', 'control_plane_second_zone=at-vie-2']),
      ).toEqual({
        value: [2, 'at-vie-2'],
      });
    });

    it.each([['0'], ['3'], ['1.5']])('rejects control_plane_replicas = %s', (value) => {
      if (!hasTerraform) return;
      expect(evaluate(['-var', `control_plane_replicas=${value}`]).error).toMatch(
        /control_plane_replicas must be 1 or 2/,
      );
    });

    it('rejects a second zone that is not a zone name', () => {
      if (!hasTerraform) return;
      expect(evaluate(['-var', 'control_plane_second_zone=vienna']).error).toMatch(
        /must be empty or an Exoscale zone name/,
      );
    });
  });
});
