import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { TEST_KEY, TEST_SECRET } from './fake-exoscale';

/** The built artefact, booted as users run it: `node dist/apps/control-plane/main.js` (npm test builds it first). */
export const MAIN = resolve(__dirname, '../../../../dist/apps/control-plane/main.js');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Running {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output: () => string;
  exited: Promise<Exit>;
}

/** Throws a clear message when the build is missing. */
export function assertBuilt(): void {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
}

/**
 * Starts the compiled control plane with exactly `env` (and PATH): nothing else leaks in from the test runner.
 * `prefix` is a command that ends by exec-ing its arguments (node and main.js), so the child is still node itself.
 */
export function runControlPlane(env: Record<string, string>, prefix: string[] = []): Running {
  let output = '';
  const argv = [...prefix, process.execPath, MAIN];
  const child = spawn(argv[0], argv.slice(1), {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<Exit>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  return { child, output: () => output, exited };
}

/** Sends `signal` and waits for the exit; the time from the signal to the exit event, in ms. */
export async function stopAndMeasure(
  running: Running,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<Exit & { ms: number }> {
  const started = process.hrtime.bigint();
  running.child.kill(signal);
  const exit = await running.exited;
  return { ...exit, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

/**
 * A command prefix that runs the process in its own mount namespace with `dir` bind-mounted over `target`, as a
 * container's volume would be: the process uses its default paths, and nothing outside `dir` is touched. Null when
 * this machine does not allow it (it needs root, or user namespaces, and util-linux's unshare).
 */
export function bindMountPrefix(dir: string, target: string): string[] | null {
  const prefix = [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    'mount --bind "$0" "$1" && shift && exec "$@"',
    dir,
    target,
  ];
  const probe = spawnSync(prefix[0], [...prefix.slice(1), 'true'], { stdio: 'ignore' });
  return probe.status === 0 ? prefix : null;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** Waits until the control plane at `base` answers `/health` with 200 (polled, not slept). */
export async function waitHealthy(base: string, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(`${base}/health`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${base}/health did not answer 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The environment of a compiled control plane against a fake API on a free loopback port, with its own SD file and
 * STATE_DIR in fresh temporary folders; `extra` overrides or adds settings.
 */
export async function compiledEnv(
  fake: { poolId: string; endpoint: string },
  extra: Record<string, string> = {},
): Promise<{ env: Record<string, string>; base: string }> {
  const port = await freePort();
  const env = {
    EXOSCALE_KEY: TEST_KEY,
    EXOSCALE_SECRET: TEST_SECRET,
    EXOSCALE_ZONE: 'at-vie-1',
    EXOSCALE_INSTANCEPOOL_ID: fake.poolId,
    EXOSCALE_API_ENDPOINT: fake.endpoint,
    LISTEN_PORT: String(port),
    LISTEN_HOST: '127.0.0.1',
    SD_FILE: join(await mkdtemp(join(tmpdir(), 'cp-sd-')), 'config.json'),
    STATE_DIR: await mkdtemp(join(tmpdir(), 'cp-state-')),
    ...extra,
  };
  return { env, base: `http://127.0.0.1:${port}` };
}

/** SIGKILLs every process of `running` still alive and waits for each; empties the list. */
export async function killAll(running: Running[]): Promise<void> {
  for (const r of running.splice(0)) {
    if (r.child.exitCode === null && r.child.signalCode === null) {
      r.child.kill('SIGKILL');
      await r.exited;
    }
  }
}
