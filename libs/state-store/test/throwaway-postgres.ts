import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { ClientConfig } from 'pg';

const run = promisify(execFile);
const BIN_ROOT = '/usr/lib/postgresql';

/** Debian's server binaries (`/usr/lib/postgresql/<ver>/bin`, newest version), or a message saying how to get them. */
export function postgresBinaries(): string {
  const versions = existsSync(BIN_ROOT)
    ? readdirSync(BIN_ROOT)
        .filter((v) => existsSync(join(BIN_ROOT, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0)
    throw new Error(
      `PostgreSQL server binaries (initdb, pg_ctl) not found under ${BIN_ROOT}/<version>/bin: ` +
        "run `bash scripts/setup.sh` (it installs Debian's postgresql package)",
    );
  return join(BIN_ROOT, versions[0], 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * A throwaway PostgreSQL cluster for tests: initdb into a temporary directory (`trust` authentication, for the
 * test only), started on a free loopback port with its unix socket in that directory; `stop()` removes it all.
 * As root, every server command runs as the `postgres` user (initdb refuses root).
 */
export class ThrowawayPostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
    private readonly asUser: string[],
  ) {}

  static async start(): Promise<ThrowawayPostgres> {
    const bin = postgresBinaries();
    const dir = await mkdtemp(join(tmpdir(), 'state-store-pg-'));
    const asUser: string[] = [];
    if (process.getuid?.() === 0) {
      const { stdout } = await run('id', ['-u', 'postgres']).catch(() => {
        throw new Error('running as root needs the `postgres` user: run `bash scripts/setup.sh`');
      });
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      await chown(dir, Number(stdout.trim()), Number(gid.trim()));
      asUser.push('runuser', '-u', 'postgres', '--');
    }
    const cluster = new ThrowawayPostgres(dir, await freePort(), bin, asUser);
    await cluster.command('initdb', [
      '-D',
      cluster.dataDir,
      '-A',
      'trust',
      '-U',
      'postgres',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    await cluster.pgCtl([
      'start',
      '-w',
      '-t',
      '30',
      '-l',
      join(dir, 'server.log'),
      '-o',
      [
        `-p ${cluster.port}`,
        `-k ${dir}`,
        '-c listen_addresses=127.0.0.1',
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
      ].join(' '),
    ]);
    return cluster;
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** Connection settings for `pg` (TCP on loopback; or through a proxy listening on `port`). */
  config(port = this.port): ClientConfig {
    return { host: '127.0.0.1', port, user: 'postgres', database: 'postgres' };
  }

  /** `pg_ctl restart` (fast shutdown: every connection is terminated), same port and options. */
  async restart(): Promise<void> {
    await this.pgCtl(['restart', '-w', '-t', '30', '-m', 'fast', '-l', join(this.dir, 'server.log')]);
  }

  /** Stops the server (immediately) and removes the directory. */
  async stop(): Promise<void> {
    await this.pgCtl(['stop', '-w', '-m', 'immediate']).catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }

  private pgCtl(args: string[]): Promise<void> {
    return this.command('pg_ctl', ['-D', this.dataDir, ...args]);
  }

  private async command(name: string, args: string[]): Promise<void> {
    const [file, ...rest] = [...this.asUser, join(this.bin, name), ...args];
    try {
      await run(file, rest, { cwd: this.dir, timeout: 60_000 });
    } catch (error) {
      const e = error as Error & { stderr?: string; stdout?: string };
      throw new Error(`${name} ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`);
    }
  }
}
