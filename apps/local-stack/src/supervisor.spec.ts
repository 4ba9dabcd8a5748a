import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Supervisor } from './supervisor';

const node = process.execPath;
const until = async (ok: () => boolean, timeoutMs = 10000) => {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};
const settled = <T>(p: Promise<T>) =>
  Promise.race([p, new Promise((r) => setTimeout(() => r('pending'), 300))]);

describe('the local stack supervisor', () => {
  let supervisor: Supervisor;
  let logDir: string;
  const notes: string[] = [];
  beforeEach(() => {
    logDir = mkdtempSync(join(tmpdir(), 'local-supervisor-'));
    notes.length = 0;
    supervisor = new Supervisor(logDir, logDir, (l) => notes.push(l), 50);
  });
  afterEach(() => supervisor.stopAll());

  it('starts a process that exits 75 again, its log going on, and keeps running', async () => {
    // Exits 75 on its first run (no marker yet), then stays up.
    const script = `const fs=require('fs');console.log('run');if(!fs.existsSync('marker')){fs.writeFileSync('marker','');process.exit(75)}setInterval(()=>{},1000)`;
    const first = supervisor.start('cp', node, ['-e', script], {}, { restartOn: [75] });
    const exit = supervisor.firstExit();
    await until(() => supervisor.children[0].restarts === 1 && supervisor.current('cp') !== undefined);
    const second = supervisor.current('cp')!;
    expect(second).not.toBe(first);
    await until(() => readFileSync(join(logDir, 'cp.log'), 'utf8') === 'run\nrun\n');
    expect(second.exitCode).toBeNull();
    expect(await settled(exit)).toBe('pending');
    expect(notes).toEqual([
      expect.stringMatching(/^cp exited 75; starting it again in 0.05 s \(restart 1; log: .*cp\.log\)$/),
    ]);
  });

  it('restarts one killed by a signal only when asked to; any other exit is fatal', async () => {
    const forever = ['-e', 'setInterval(() => {}, 1000)'];
    const replica = supervisor.start(
      'replica',
      node,
      forever,
      {},
      { restartOn: [75], restartAfterSignalMs: 200 },
    );
    await new Promise((r) => setTimeout(r, 100));
    replica.kill('SIGKILL');
    await until(() => supervisor.children[0].restarts === 1 && supervisor.current('replica') !== undefined);
    expect(notes[0]).toMatch(/^replica was ended by SIGKILL; starting it again in 0.2 s/);

    supervisor.start('other', node, ['-e', 'process.exit(3)'], {}, { restartOn: [75] });
    await expect(supervisor.firstExit()).resolves.toEqual({ name: 'other', code: 3, signal: null });
    expect(supervisor.children[1].restarts).toBe(0);
  });

  it('a plain process ending by a signal is fatal, as before', async () => {
    const child = supervisor.start('prometheus', node, ['-e', 'setInterval(() => {}, 1000)']);
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGKILL');
    await expect(supervisor.firstExit()).resolves.toEqual({
      name: 'prometheus',
      code: null,
      signal: 'SIGKILL',
    });
  });

  it('stops everything, a pending restart included', async () => {
    supervisor.start('cp', node, ['-e', 'process.exit(75)'], {}, { restartOn: [75] });
    const up = supervisor.start('up', node, ['-e', 'setInterval(() => {}, 1000)']);
    await until(() => supervisor.children[0].restarts >= 1);
    await supervisor.stopAll();
    const restarts = supervisor.children[0].restarts;
    await new Promise((r) => setTimeout(r, 200));
    expect(supervisor.children[0].restarts).toBe(restarts);
    expect(up.signalCode).toBe('SIGTERM');
  });
});
