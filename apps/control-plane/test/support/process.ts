import { ChildProcess, spawn } from 'node:child_process';
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

/** Starts the compiled control plane with exactly `env` (and PATH): nothing else leaks in from the test runner. */
export function runControlPlane(env: Record<string, string>): Running {
  let output = '';
  const child = spawn(process.execPath, [MAIN], {
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

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}
