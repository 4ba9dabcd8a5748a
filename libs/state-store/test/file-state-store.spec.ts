import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { FencedError, FileStateStore, SoleLease, VersionConflictError } from '@app/state-store';

describe('FileStateStore', () => {
  let dir: string;
  let store: FileStateStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'state-store-file-'));
    store = new FileStateStore({ dir: join(dir, 'state') });
    await store.start();
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('saves and loads a document with its version, atomically in <key>.json (no temporary file left)', async () => {
    expect(await store.load('pool-1')).toBeNull();
    const document = { signals: { steps: ['up'] }, n: 1.5, text: 'é ✓', nothing: null };
    expect(await store.save('pool-1', document)).toBe(1);
    expect(await store.load('pool-1')).toEqual({ document, version: 1 });
    expect(await store.save('pool-1', { ...document, n: 2 })).toBe(2);
    expect(await store.load('pool-1')).toEqual({ document: { ...document, n: 2 }, version: 2 });
    expect(await readdir(store.dir)).toEqual(['pool-1.json']);
    await expect(store.save('../escape', {})).rejects.toThrow(/invalid state key/);
  });

  it('refuses a save whose expected version is stale, and a create over an existing document', async () => {
    await store.save('k', { a: 1 }, { expectedVersion: 0 });
    await expect(store.save('k', { a: 2 }, { expectedVersion: 0 })).rejects.toMatchObject({
      name: 'VersionConflictError',
      expected: 0,
      actual: 1,
    });
    const results = await Promise.allSettled(
      [1, 2, 3].map((a) => store.save('k', { a }, { expectedVersion: 1 })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(
      results.filter((r) => r.status === 'rejected' && r.reason instanceof VersionConflictError),
    ).toHaveLength(2);
    expect((await store.load('k'))?.version).toBe(2);
  });

  it("loads a plain JSON file written before the store (today's state.json) as version 1", async () => {
    await writeFile(join(store.dir, 'state.json'), JSON.stringify({ version: 1, signals: {} }));
    expect(await store.load('state')).toEqual({ document: { version: 1, signals: {} }, version: 1 });
    expect(await store.save('state', { upgraded: true }, { expectedVersion: 1 })).toBe(2);
    await writeFile(join(store.dir, 'bad.json'), '{ not json');
    await expect(store.load('bad')).rejects.toMatchObject({ name: 'CorruptDocumentError' });
  });

  it('applies each inbox entry exactly once: a handler that throws leaves entries and document as they were', async () => {
    await store.save('pool-1', { seen: [] as string[] });
    await store.append('pool-1', { direction: 'up' });
    await store.append('pool-1', { direction: 'down' });
    await expect(
      store.consume('pool-1', () => {
        throw new Error('crash between apply and commit');
      }),
    ).rejects.toThrow('crash');
    expect(await store.pending('pool-1')).toHaveLength(2);
    expect(await store.load('pool-1')).toEqual({ document: { seen: [] }, version: 1 });

    const apply = jest.fn(
      (entries: { payload: { direction: string } }[], current: { document: { seen: string[] } } | null) => ({
        seen: [...(current?.document.seen ?? []), ...entries.map((e) => e.payload.direction)],
      }),
    );
    expect(await store.consume('pool-1', apply)).toEqual({ consumed: 2, version: 2 });
    expect(await store.consume('pool-1', apply)).toEqual({ consumed: 0, version: 2 });
    expect(apply).toHaveBeenCalledTimes(1);
    expect((await store.load('pool-1'))?.document).toEqual({ seen: ['up', 'down'] });
    expect(await readdir(join(store.dir, 'pool-1.inbox'))).toEqual([]);
  });

  it('skips entries a crash left behind after the document recorded them as applied', async () => {
    const first = await store.append('k', { n: 1 });
    await store.consume('k', (entries) => ({ applied: entries.map((e) => e.id) }));
    // The crash: the document was renamed into place, the entry's file not yet deleted.
    const file = join(store.dir, 'k.inbox', `${first.padStart(16, '0')}.json`);
    await writeFile(file, JSON.stringify({ appendedAt: new Date().toISOString(), payload: { n: 1 } }));
    const restarted = new FileStateStore({ dir: store.dir });
    expect(await restarted.pending('k')).toEqual([]);
    const second = await restarted.append('k', { n: 2 });
    expect(Number(second)).toBeGreaterThan(Number(first));
    await restarted.consume('k', (entries, current) => ({
      applied: [...((current?.document as { applied: string[] }).applied ?? []), ...entries.map((e) => e.id)],
    }));
    expect((await restarted.load('k'))?.document).toEqual({ applied: [first, second] });
    expect(JSON.parse(await readFile(restarted.pathOf('k'), 'utf8'))).toMatchObject({
      storeFormat: 1,
      version: 2,
      inboxAppliedThrough: Number(second),
    });
  });
});

describe('SoleLease', () => {
  it('is the leader at epoch 1 from start to stop, with a signal aborted at stop', async () => {
    const started = jest.fn();
    const stopped = jest.fn();
    const lease = new SoleLease({ holder: 'me', onStartedLeading: started, onStoppedLeading: stopped });
    expect(() => lease.fenceSpec(5)).toThrow(FencedError);
    await lease.start();
    expect(lease.state()).toEqual({ role: 'leader', holder: 'me', epoch: 1, leaseExpiresAt: null });
    expect(lease.fenceSpec(5)).toEqual({
      name: 'control-plane',
      holder: 'me',
      epoch: 1,
      minRemainingSeconds: 5,
    });
    const signal = lease.signal!;
    expect(started).toHaveBeenCalledWith(1, signal);
    await lease.stop();
    expect(signal.aborted).toBe(true);
    expect(stopped).toHaveBeenCalledWith('stopped', 1);
    expect(lease.isLeader()).toBe(false);
  });
});
