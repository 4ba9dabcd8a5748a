import { EventEmitter } from 'node:events';

import { Pool } from 'pg';

import { FencedError } from './errors';
import { inTransaction } from './fence';

/**
 * A pool whose one client can lose its connection at a chosen statement, as pg reports it: the server's error as
 * the client's 'error' event, then pg's own plain "Connection terminated unexpectedly" for every later statement.
 * (The real server, 25P03 included, is exercised in test/postgres.spec.ts; the point here is when it dies.)
 */
function poolDyingAt(statement: string) {
  const client = Object.assign(new EventEmitter(), {
    dead: false,
    released: null as unknown,
    query: async (sql: string) => {
      if (client.dead) throw new Error('Connection terminated unexpectedly');
      if (sql === statement) {
        client.dead = true;
        const server = Object.assign(new Error('terminating connection due to administrator command'), {
          code: '57P01',
        });
        client.emit('error', server);
        throw new Error('Connection terminated unexpectedly');
      }
      return { rows: [] };
    },
    release: (broken: unknown) => (client.released = broken),
  });
  const pool = Object.create(Pool.prototype) as Pool;
  (pool as unknown as { connect: () => Promise<unknown> }).connect = async () => client;
  return { pool, client };
}

describe('inTransaction', () => {
  it("reports the server's reason when the connection is ended under it, not pg's generic error", async () => {
    const { pool, client } = poolDyingAt('UPDATE');
    await expect(inTransaction(pool, (tx) => tx.query('UPDATE'))).rejects.toMatchObject({ code: '57P01' });
    expect(client.released).toBeInstanceOf(Error);
  });

  it("keeps the caller's own error (a fence refusal) when the connection dies during the rollback", async () => {
    const { pool } = poolDyingAt('ROLLBACK');
    const refused = new FencedError('epoch', 'taken again');
    await expect(
      inTransaction(pool, async () => {
        throw refused;
      }),
    ).rejects.toBe(refused);
  });
});
