import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const DEFAULT_POOL_ID = '6f0b7a35-4f5e-4a53-9d3e-000000000001';
const NAME = /^[a-z0-9-]{1,63}$/;
const UUID_TAIL = /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-)([0-9a-fA-F]{12})$/;

export interface PoolSpec {
  id: string;
  name: string;
  size: number;
  virtual: boolean;
  /** The local NLB's port (process-backed pools only). */
  nlbPort?: number;
}

export interface EmulatorOptions {
  apiPort: number;
  zone: string;
  bootDelayMs: number;
  loadSeconds: number;
  healthIntervalMs: number;
  slowWeb: string;
  /** The first pool's id: every other pool's id is derived from it (derivePoolId). */
  firstPoolId: string;
  pools: PoolSpec[];
}

export class EmulatorOptionError extends Error {}

/**
 * The id of the pool `offset` places after `first`: the UUID's last group plus `offset` (hex, 12 digits), so
 * `...-000000000001` is followed by `...-000000000002`. Deterministic: a stack or a benchmark knows every id.
 */
export function derivePoolId(first: string, offset: number): string {
  const match = UUID_TAIL.exec(first);
  if (!match)
    throw new EmulatorOptionError(`--pool-id must be a UUID to derive more pools' ids, got ${first}`);
  const tail = (BigInt(`0x${match[2]}`) + BigInt(offset)) % 2n ** 48n;
  return `${match[1]}${tail.toString(16).padStart(12, '0')}`;
}

const list = (raw: string | undefined) =>
  raw === undefined ? undefined : raw.split(',').map((s) => s.trim());

/** Parses and validates the emulator's command line; a bad option throws an EmulatorOptionError naming it. */
export function parseEmulatorOptions(argv: string[], slowWebDefault: string): EmulatorOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'api-port': { type: 'string', default: '8086' },
        'nlb-port': { type: 'string', default: '8000' },
        'nlb-ports': { type: 'string' },
        'pool-id': { type: 'string', default: DEFAULT_POOL_ID },
        pools: { type: 'string', default: '1' },
        'pool-names': { type: 'string' },
        size: { type: 'string', default: '2' },
        virtual: { type: 'boolean', default: false },
        'virtual-pools': { type: 'string', default: '0' },
        'virtual-size': { type: 'string', default: '2' },
        zone: { type: 'string', default: 'at-vie-1' },
        'boot-delay-ms': { type: 'string', default: '10000' },
        'load-seconds': { type: 'string', default: '10' },
        'health-interval-ms': { type: 'string', default: '5000' },
        'slow-web': { type: 'string', default: slowWebDefault },
      },
    }));
  } catch (error) {
    throw new EmulatorOptionError((error as Error).message);
  }
  const str = (name: string) => values[name] as string;
  const number = (name: string, min: number, max = Infinity, raw = str(name)) => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max)
      throw new EmulatorOptionError(
        `--${name} must be a number >= ${min}${max < Infinity ? ` and <= ${max}` : ''}`,
      );
    return n;
  };
  const whole = (name: string, min: number, max: number) => {
    const n = number(name, min, max);
    if (!Number.isInteger(n)) throw new EmulatorOptionError(`--${name} must be a whole number`);
    return n;
  };

  const count = whole('pools', 1, 64);
  const virtual = values.virtual as boolean;
  const size = whole('size', 0, 254);
  const names = list(str('pool-names')) ?? [
    'local-pool',
    ...Array.from({ length: count - 1 }, (_, i) => `local-pool-${i + 2}`),
  ];
  if (names.length !== count)
    throw new EmulatorOptionError(
      `--pool-names must list ${count} name(s) (one per pool), got ${names.length}`,
    );
  for (const name of names)
    if (!NAME.test(name))
      throw new EmulatorOptionError(`--pool-names: ${JSON.stringify(name)} is not a name of [a-z0-9-]`);
  if (new Set(names).size !== names.length) throw new EmulatorOptionError('--pool-names must be unique');
  const firstPort = whole('nlb-port', 1, 65535);
  const ports = (list(str('nlb-ports')) ?? names.map((_, i) => String(firstPort + i))).map((p) =>
    number('nlb-ports', 1, 65535, p),
  );
  if (ports.length !== count)
    throw new EmulatorOptionError(
      `--nlb-ports must list ${count} port(s) (one per pool), got ${ports.length}`,
    );
  if (ports.some((p) => !Number.isInteger(p) || p > 65535))
    throw new EmulatorOptionError('--nlb-ports must list whole numbers');
  if (!virtual && new Set(ports).size !== ports.length)
    throw new EmulatorOptionError('--nlb-ports must be distinct');
  if (!virtual && count * size > 254)
    throw new EmulatorOptionError(`--pools x --size (${count * size}) exceeds the 254 member addresses`);
  const virtualPools = whole('virtual-pools', 0, 100000);
  const virtualSize = whole('virtual-size', 0, 100);
  const firstPoolId = str('pool-id');
  const idAt = (k: number) => (k === 0 ? firstPoolId : derivePoolId(firstPoolId, k));

  const pools: PoolSpec[] = names.map((name, i) => ({
    id: idAt(i),
    name,
    size,
    virtual,
    ...(virtual ? {} : { nlbPort: ports[i] }),
  }));
  for (let i = 0; i < virtualPools; i++)
    pools.push({ id: idAt(count + i), name: `virtual-${i + 1}`, size: virtualSize, virtual: true });

  return {
    apiPort: whole('api-port', 1, 65535),
    zone: str('zone'),
    bootDelayMs: number('boot-delay-ms', 0),
    loadSeconds: number('load-seconds', 0.01),
    healthIntervalMs: number('health-interval-ms', 100),
    slowWeb: resolve(str('slow-web')),
    firstPoolId,
    pools,
  };
}
