import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

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
