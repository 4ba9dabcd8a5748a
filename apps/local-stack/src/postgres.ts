import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

import { Client } from 'pg';

import { StackError } from './readiness';
import { REPLICA_PORTS } from './timings';

const run = promisify(execFile);
const BIN_ROOT = '/usr/lib/postgresql';

/**
 * Where the stack's PostgreSQL lives (`--replicas 2`): the cluster is initialised once in `<dir>/pg/data` and kept
 * between runs; the server listens on 127.0.0.1 only, its unix socket in `<dir>/pg` (mode 0700: only its owner, and
 * root, can reach it, so `trust` there is safe); TCP needs the role's password, new on every start.
 */
export interface PostgresLayout {
  /** `<dir>/pg`: owned by the server's user (`postgres` when the stack runs as root), mode 0700; the socket. */
  home: string;
  dataDir: string;
  logFile: string;
  port: number;
  database: string;
  role: string;
}

export function postgresLayout(dir: string, port: number = REPLICA_PORTS.postgres): PostgresLayout {
  const home = join(dir, 'pg');
  return {
    home,
    dataDir: join(home, 'data'),
    logFile: join(home, 'server.log'),
    port,
    database: 'autoscaler',
    role: 'autoscaler',
  };
}

/** The control planes' DATABASE_URL: TCP on loopback, the stack's role and database. */
export function databaseUrl(layout: PostgresLayout, password: string): string {
  return `postgres://${layout.role}:${encodeURIComponent(password)}@127.0.0.1:${layout.port}/${layout.database}`;
}

/** initdb's arguments: the `postgres` superuser over the socket (trust), everyone else over TCP with a password. */
export function initdbArgs(layout: PostgresLayout): string[] {
  return [
    '-D',
    layout.dataDir,
    '-U',
    'postgres',
    '-E',
    'UTF8',
    '--locale=C',
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
  ];
}

const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** The server's options (pg_ctl -o, read by a shell): the port, the socket directory, loopback TCP only. */
export function serverOptions(layout: PostgresLayout): string {
  return [
    `-p ${layout.port}`,
    `-k ${shellQuote(layout.home)}`,
    "-c listen_addresses='127.0.0.1'",
    '-c unix_socket_permissions=0700',
  ].join(' ');
}

/** Debian's server binaries (`/usr/lib/postgresql/<version>/bin`, the newest version), or null. */
export function postgresBinaries(): { bin: string; version: string } | null {
  const versions = existsSync(BIN_ROOT)
    ? readdirSync(BIN_ROOT)
        .filter((v) => existsSync(join(BIN_ROOT, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  return versions.length > 0 ? { bin: join(BIN_ROOT, versions[0], 'bin'), version: versions[0] } : null;
}

/** The user the server runs as: `postgres` when we are root (initdb refuses root), else ourselves. */
interface ServerUser {
  /** Prefix for every server command: `runuser -u postgres --` as root, nothing otherwise. */
  prefix: string[];
  uid: number;
  gid: number;
}

function serverUser(): ServerUser {
  if (process.getuid?.() !== 0) return { prefix: [], uid: process.getuid!(), gid: process.getgid!() };
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0)
    throw new StackError(
      "running as root needs the `postgres` user, which Debian's postgresql package creates: run `bash scripts/setup.sh`",
    );
  return { prefix: ['runuser', '-u', 'postgres', '--'], uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

/**
 * The stack's PostgreSQL: `start` initialises the cluster on first use (then reuses it), starts the server with
 * pg_ctl, makes sure the role exists (with a fresh password) and creates its database anew, empty; `stop` is
 * `pg_ctl stop -m fast` (connections closed, a clean shutdown checkpoint).
 */
export class LocalPostgres {
  private constructor(
    readonly layout: PostgresLayout,
    readonly url: string,
    private readonly bin: string,
    private readonly user: ServerUser,
  ) {}

  static async start(layout: PostgresLayout, log: (line: string) => void): Promise<LocalPostgres> {
    const binaries = postgresBinaries();
    if (!binaries)
      throw new StackError(
        `PostgreSQL's server binaries (initdb, pg_ctl) are not under ${BIN_ROOT}/<version>/bin; install them with:\n` +
          '  sudo apt-get update && sudo apt-get install -y postgresql',
      );
    const user = serverUser();
    prepareHome(layout, user);
    const password = randomBytes(24).toString('base64url');
    const pg = new LocalPostgres(layout, databaseUrl(layout, password), binaries.bin, user);

    const versionFile = join(layout.dataDir, 'PG_VERSION');
    if (!existsSync(versionFile)) {
      log(`initialising PostgreSQL ${binaries.version} in ${layout.dataDir} ...`);
      await pg.command('initdb', initdbArgs(layout));
    } else {
      const version = readFileSync(versionFile, 'utf8').trim();
      if (version !== binaries.version)
        throw new StackError(
          `${layout.dataDir} holds a PostgreSQL ${version} cluster but the installed server is ${binaries.version}: ` +
            `remove ${layout.home} (the stack's database only) and start again`,
        );
    }
    // A server left running by a launcher that was killed: stop it, so this run's options apply.
    if (await pg.running()) {
      log(`stopping the PostgreSQL server a previous run left in ${layout.dataDir} ...`);
      await pg.pgCtl(['stop', '-w', '-t', '30', '-m', 'fast']);
    }
    await pg.pgCtl(['start', '-w', '-t', '60', '-l', layout.logFile, '-o', serverOptions(layout)]);
    try {
      await pg.provision(password);
    } catch (error) {
      await pg.stop();
      throw new StackError(`PostgreSQL started but could not be set up: ${(error as Error).message}`);
    }
    return pg;
  }

  /** The role (created once, this run's password) and an empty database; as the superuser, over the socket. */
  private async provision(password: string): Promise<void> {
    const { role, database, home, port } = this.layout;
    const client = new Client({ host: home, port, user: 'postgres', database: 'postgres' });
    await client.connect();
    try {
      const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
      const verb = exists.rowCount === 0 ? 'CREATE' : 'ALTER';
      await client.query(
        `${verb} ROLE ${client.escapeIdentifier(role)} LOGIN PASSWORD ${client.escapeLiteral(password)}`,
      );
      // A fresh database every run, as the file store's state directory is: the emulated pool starts anew too, so
      // the last run's scale records, alerts and lease would describe a pool that is gone.
      await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(database)} WITH (FORCE)`);
      await client.query(
        `CREATE DATABASE ${client.escapeIdentifier(database)} OWNER ${client.escapeIdentifier(role)}`,
      );
    } finally {
      await client.end();
    }
  }

  async stop(): Promise<void> {
    if (await this.running()) await this.pgCtl(['stop', '-w', '-t', '30', '-m', 'fast']);
  }

  private async running(): Promise<boolean> {
    return this.pgCtl(['status']).then(
      () => true,
      () => false,
    );
  }

  private pgCtl(args: string[]): Promise<void> {
    return this.command('pg_ctl', ['-D', this.layout.dataDir, ...args]);
  }

  private async command(name: string, args: string[]): Promise<void> {
    const [file, ...rest] = [...this.user.prefix, join(this.bin, name), ...args];
    try {
      await run(file, rest, { cwd: this.layout.home, timeout: 90_000 });
    } catch (error) {
      const e = error as Error & { stderr?: string; stdout?: string };
      throw new StackError(
        `${name} ${args.join(' ')} failed: ${e.message.split('\n')[0]}\n${e.stderr ?? ''}${e.stdout ?? ''}` +
          `(server log: ${this.layout.logFile})`,
      );
    }
  }
}

/**
 * `<dir>/pg` exists, belongs to the server's user and is 0700 (PostgreSQL requires that of its data directory, and
 * the socket lives there); the server's user can reach it through every parent directory.
 */
function prepareHome(layout: PostgresLayout, user: ServerUser): void {
  mkdirSync(layout.home, { recursive: true, mode: 0o700 });
  if (user.prefix.length > 0) {
    const blocked = unreachableParents(layout.home);
    if (blocked.length > 0)
      throw new StackError(
        `the postgres user cannot reach ${layout.home}: ${blocked.join(', ')} ` +
          `${blocked.length === 1 ? 'is' : 'are'} not searchable by others (chmod o+x, or use --dir elsewhere, e.g. under /tmp)`,
      );
    chownTree(layout.home, user.uid, user.gid);
  }
  chmodSync(layout.home, 0o700);
  if (user.prefix.length > 0) {
    const check = spawnSync(user.prefix[0], [
      ...user.prefix.slice(1),
      'test',
      '-r',
      layout.home,
      '-a',
      '-w',
      layout.home,
      '-a',
      '-x',
      layout.home,
    ]);
    if (check.status !== 0)
      throw new StackError(
        `the postgres user cannot use ${layout.home} (read, write, search): check its permissions`,
      );
  }
}

/** Parent directories of `path` that others may not search (a root-only checkout, e.g. under /root). */
export function unreachableParents(path: string): string[] {
  const blocked: string[] = [];
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) blocked.push(dir);
    if (dir === dirname(dir)) break;
  }
  return blocked.reverse();
}

/** Gives `path` (and, when it is not already theirs, everything below) to the server's user. */
function chownTree(path: string, uid: number, gid: number): void {
  const stat = statSync(path);
  if (stat.uid === uid && stat.gid === gid) return;
  chownSync(path, uid, gid);
  if (!stat.isDirectory()) return;
  for (const entry of readdirSync(path)) {
    const child = join(path, entry);
    const s = statSync(child, { throwIfNoEntry: false });
    if (!s) continue;
    if (s.isDirectory()) chownTree(child, uid, gid);
    else if (s.uid !== uid || s.gid !== gid) chownSync(child, uid, gid);
  }
}
