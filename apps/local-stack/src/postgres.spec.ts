import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client } from 'pg';

import {
  databaseUrl,
  initdbArgs,
  LocalPostgres,
  postgresBinaries,
  postgresLayout,
  serverOptions,
  unreachableParents,
} from './postgres';

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

describe('the local stack PostgreSQL (layout)', () => {
  it('lives in <dir>/pg on 127.0.0.1:5433 with the autoscaler role and database', () => {
    const layout = postgresLayout('/work/.local');
    expect(layout).toEqual({
      home: '/work/.local/pg',
      dataDir: '/work/.local/pg/data',
      logFile: '/work/.local/pg/server.log',
      port: 5433,
      database: 'autoscaler',
      role: 'autoscaler',
    });
    expect(databaseUrl(layout, 'a/b:c@d')).toBe(
      'postgres://autoscaler:a%2Fb%3Ac%40d@127.0.0.1:5433/autoscaler',
    );
    expect(initdbArgs(layout)).toEqual(
      expect.arrayContaining([
        '-D',
        '/work/.local/pg/data',
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
      ]),
    );
  });

  it('listens on loopback only, its socket in <dir>/pg, quoted for the shell pg_ctl hands it to', () => {
    expect(serverOptions(postgresLayout("/tmp/it's here"))).toBe(
      "-p 5433 -k '/tmp/it'\\''s here/pg' -c listen_addresses='127.0.0.1' -c unix_socket_permissions=0700",
    );
  });

  it('names the parent directories others cannot search', () => {
    const top = mkdtempSync(join(tmpdir(), 'local-pg-perm-'));
    mkdirSync(join(top, 'a/b'), { recursive: true });
    chmodSync(top, 0o755);
    chmodSync(join(top, 'a'), 0o700);
    expect(unreachableParents(join(top, 'a/b/pg'))).toEqual([join(top, 'a')]);
    chmodSync(join(top, 'a'), 0o711);
    expect(unreachableParents(join(top, 'a/b/pg'))).toEqual([]);
    rmSync(top, { recursive: true, force: true });
  });
});

// Real PostgreSQL from Debian's package (scripts/setup.sh installs it), as `npm start -- --replicas 2` runs it.
describe('the local stack PostgreSQL (real server)', () => {
  let dir: string;
  beforeAll(() => {
    if (!postgresBinaries())
      throw new Error("PostgreSQL's server is not installed: run bash scripts/setup.sh");
    dir = mkdtempSync(join(tmpdir(), 'local-pg-'));
    // mkdtemp makes it 0700; the stack's --dir is a normal directory the postgres user can search (as root).
    chmodSync(dir, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('initialises once, serves the role over loopback TCP with a fresh password each start, stops cleanly', async () => {
    const layout = postgresLayout(dir, await freePort());
    const logs: string[] = [];
    const first = await LocalPostgres.start(layout, (l) => logs.push(l));
    try {
      expect(logs.join('\n')).toMatch(/initialising PostgreSQL/);
      expect(existsSync(join(layout.home, `.s.PGSQL.${layout.port}`))).toBe(true);
      const client = new Client({ connectionString: first.url });
      await client.connect();
      const { rows } = await client.query<{ db: string; usr: string; addr: string }>(
        'SELECT current_database() AS db, current_user AS usr, host(inet_server_addr()) AS addr',
      );
      expect(rows).toEqual([{ db: 'autoscaler', usr: 'autoscaler', addr: '127.0.0.1' }]);
      await client.query('CREATE TABLE leftover (id int)');
      await client.end();
      // No password, no entry over TCP.
      const wrong = new Client({ connectionString: first.url.replace(/:[^:@/]+@/, ':wrong@') });
      await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
    } finally {
      await first.stop();
    }
    expect(existsSync(join(layout.dataDir, 'postmaster.pid'))).toBe(false);
    expect(readFileSync(layout.logFile, 'utf8')).toMatch(/database system is shut down/);

    const again: string[] = [];
    const second = await LocalPostgres.start(layout, (l) => again.push(l));
    try {
      expect(again).toEqual([]); // the cluster is reused, not initialised again
      expect(second.url).not.toBe(first.url); // a new password
      await expect(new Client({ connectionString: first.url }).connect()).rejects.toThrow(/password/);
      const client = new Client({ connectionString: second.url });
      await client.connect();
      // The database is new every start, as the file store's state directory is.
      const { rows } = await client.query("SELECT to_regclass('leftover') AS t");
      expect(rows).toEqual([{ t: null }]);
      await client.end();
    } finally {
      await second.stop();
    }
  });
});
