import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { FileSdWriteError, FileSdWriter } from './file-sd-writer';
import { TargetGroup } from './target-group';

function groups(count: number, port = 9100): TargetGroup[] {
  return Array.from({ length: count }, (_, i) => ({
    targets: [`10.0.${Math.floor(i / 250)}.${(i % 250) + 1}:${port}`],
    labels: { instance_id: `id-${i}`, pool_id: 'p', zone: 'at-vie-1' },
  }));
}

describe('FileSdWriter', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'file-sd-'));
  });

  it('creates the directory and writes the rendered content', async () => {
    const path = join(dir, 'nested', 'sd', 'config.json');
    const result = await new FileSdWriter(path).write(groups(2));
    expect(result.written).toBe(true);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual([
      { targets: ['10.0.0.1:9100'], labels: { instance_id: 'id-0', pool_id: 'p', zone: 'at-vie-1' } },
      { targets: ['10.0.0.2:9100'], labels: { instance_id: 'id-1', pool_id: 'p', zone: 'at-vie-1' } },
    ]);
    expect(await readdir(join(dir, 'nested', 'sd'))).toEqual(['config.json']);
  });

  it('does not rewrite unchanged content, also across writer instances', async () => {
    const path = join(dir, 'config.json');
    expect((await new FileSdWriter(path).write(groups(3))).written).toBe(true);
    const before = await stat(path);
    await new Promise((r) => setTimeout(r, 20));
    const writer = new FileSdWriter(path);
    expect((await writer.write([...groups(3)].reverse())).written).toBe(false);
    expect((await writer.write(groups(3))).written).toBe(false);
    expect((await stat(path)).mtimeMs).toBe(before.mtimeMs);
    expect((await writer.write(groups(4))).written).toBe(true);
  });

  it('rewrites a file someone else changed', async () => {
    const path = join(dir, 'config.json');
    const writer = new FileSdWriter(path);
    await writer.write(groups(1));
    await writeFile(path, 'garbage');
    // The in-memory copy says "unchanged"; a fresh writer (a restart) compares with the file itself.
    expect((await new FileSdWriter(path).write(groups(1))).written).toBe(true);
    expect(JSON.parse(await readFile(path, 'utf8'))).toHaveLength(1);
  });

  it('never lets a concurrent reader see a partial file', async () => {
    const path = join(dir, 'config.json');
    const writer = new FileSdWriter(path);
    await writer.write(groups(1));
    const expected = new Set<string>();
    let stop = false;
    let reads = 0;
    const reader = (async () => {
      while (!stop) {
        const text = await readFile(path, 'utf8');
        expect(() => JSON.parse(text)).not.toThrow();
        reads++;
      }
    })();
    for (let i = 0; i < 200; i++) {
      const result = await writer.write(groups(1 + (i % 2 === 0 ? 400 : 3), 9100 + i));
      expected.add(result.content);
    }
    stop = true;
    await reader;
    expect(reads).toBeGreaterThan(10);
    expect(await readdir(dir)).toEqual(['config.json']);
  });

  it('gives a clear error when the directory cannot be created or written', async () => {
    const blocker = join(dir, 'not-a-directory');
    await writeFile(blocker, 'x');
    const error = await new FileSdWriter(join(blocker, 'config.json'))
      .write(groups(1))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileSdWriteError);
    expect((error as Error).message).toMatch(
      /^cannot write service discovery file .*not-a-directory\/config.json: E(EXIST|NOTDIR)/,
    );
  });

  it('refuses invalid groups without touching the file', async () => {
    const path = join(dir, 'config.json');
    const writer = new FileSdWriter(path);
    await writer.write(groups(1));
    await expect(writer.write([{ targets: ['nope'], labels: {} }])).rejects.toThrow(/not host:port/);
    expect(JSON.parse(await readFile(path, 'utf8'))).toHaveLength(1);
  });
});
