import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { parseSchedules } from '@app/scaling-policy';

import { MAX_REPLICAS, REPLICA_PORTS } from './timings';

export interface StackOptions {
  fast: boolean;
  min: number;
  max: number;
  /** Initial pool size. */
  size: number;
  policy: 'target' | 'step';
  /** Seconds a new member takes to boot (default: 20, or 2 with --fast). */
  boot?: number;
  /** SCHEDULES for the control plane (YAML or JSON), checked here with the same rules. */
  schedule?: string;
  /**
   * Several emulated pools (1..4), each behind its own NLB, managed by one control plane through a pools file
   * (POOLS_FILE); unset: one pool and the control plane's environment shorthand, as before.
   */
  pools?: number;
  /**
   * Control planes (1..2). 2: PostgreSQL in `<dir>/pg` and two replicas sharing it (one leader); unset or 1: one
   * control plane on the file store, as before.
   */
  replicas?: number;
  dir: string;
}

/** At most this many pools with --pools: their NLBs take ports 8000..8003. */
export const MAX_POOLS = 4;

export class OptionError extends Error {}

export const USAGE = `usage: npm start -- [--fast] [--min N] [--max N] [--size N] [--policy target|step] [--boot SECONDS] [--schedule YAML] [--pools N] [--replicas N] [--dir DIR]

  --fast            compress every timing (tick 5 s, scrape 1 s, alerts after 5 s, boot 2 s, one /load = 1 s of CPU)
  --min N           smallest pool size the control plane keeps (default 1)
  --max N           largest pool size (default 5)
  --size N          initial pool size, within --min..--max (default 2)
  --policy NAME     scaling policy: target (default, sizes from the utilisation) or step (one member per signal)
  --boot SECONDS    how long a new member takes to boot (default 20, 2 with --fast); the warm-up follows it
  --schedule YAML   scheduled capacity, passed as SCHEDULES (docs/architecture.md §4), e.g.
                    '[{name: soon, start: "* * * * *", duration: 10m, min: 3}]' (every minute: active at once)
  --pools N         N pools (1..${MAX_POOLS}) named pool-1..pool-N, pool-K behind its own NLB on port 8000+K-1, one
                    control plane given a pools file (<dir>/pools.yml); --min/--max/--size/--schedule apply to each
  --replicas N      control planes (1..${MAX_REPLICAS}; default 1: the file store, no database). 2: PostgreSQL on
                    127.0.0.1:${REPLICA_PORTS.postgres} (its cluster in <dir>/pg, kept between runs), replicas cp-1 on :8090
                    and cp-2 on :${REPLICA_PORTS.controlPlane2} sharing it with one leader, Alertmanager posting to both;
                    a replica that loses its lease (exit 75) is started again, one killed once its lease ran out
  --dir DIR         where generated configs, state, data and logs go (default .local/)
  --help            this text`;

function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    throw new OptionError(
      `--${name} must be a whole number between ${min} and ${max}, got ${JSON.stringify(raw)}`,
    );
  return n;
}

/** Parses and validates the launcher's options; a bad one throws an OptionError naming it. */
export function parseOptions(argv: string[], root: string): StackOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        fast: { type: 'boolean', default: false },
        min: { type: 'string' },
        max: { type: 'string' },
        size: { type: 'string' },
        policy: { type: 'string' },
        boot: { type: 'string' },
        schedule: { type: 'string' },
        pools: { type: 'string' },
        replicas: { type: 'string' },
        dir: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new OptionError((error as Error).message);
  }
  if (values.help) return 'help';
  const str = (k: string) => values[k] as string | undefined;
  const min = integer('min', str('min'), 1, 1, 100);
  const max = integer('max', str('max'), 5, 1, 100);
  if (min > max) throw new OptionError(`--min (${min}) must not exceed --max (${max})`);
  const size = integer('size', str('size'), Math.min(Math.max(2, min), max), 1, 100);
  if (size < min || size > max)
    throw new OptionError(`--size (${size}) must be within --min..--max (${min}..${max})`);
  const policy = str('policy') ?? 'target';
  if (policy !== 'target' && policy !== 'step')
    throw new OptionError(`--policy must be target or step, got ${JSON.stringify(policy)}`);
  const boot = str('boot') === undefined ? undefined : integer('boot', str('boot'), 0, 0, 600);
  const schedule = str('schedule');
  if (schedule !== undefined) {
    const { windows, problems } = parseSchedules(schedule, '--schedule', {
      minSize: min,
      maxSize: max,
      minName: '--min',
      maxName: '--max',
    });
    if (problems.length > 0) throw new OptionError(problems.join('; '));
    if (windows.length === 0) throw new OptionError('--schedule must list at least one window');
  }
  const pools = str('pools') === undefined ? undefined : integer('pools', str('pools'), 1, 1, MAX_POOLS);
  const replicas =
    str('replicas') === undefined ? undefined : integer('replicas', str('replicas'), 1, 1, MAX_REPLICAS);
  const dir = str('dir');
  if (dir !== undefined && dir.trim() === '') throw new OptionError('--dir must not be empty');
  return {
    fast: values.fast as boolean,
    min,
    max,
    size,
    policy,
    ...(boot !== undefined ? { boot } : {}),
    ...(schedule !== undefined ? { schedule } : {}),
    ...(pools !== undefined ? { pools } : {}),
    ...(replicas !== undefined ? { replicas } : {}),
    dir: resolve(dir ?? resolve(root, '.local')),
  };
}
