import { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export class StackError extends Error {}

/** Polls `probe` until it answers true; fails when the process exits, on interruption, or after the timeout. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  process: ChildProcess | (() => ChildProcess | undefined),
  signal?: AbortSignal,
  timeoutMs = 60000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (signal?.aborted) throw new StackError('interrupted during start-up');
    // A getter follows a supervised process across restarts.
    const child = typeof process === 'function' ? process() : process;
    if (child && (child.exitCode !== null || child.signalCode !== null))
      throw new StackError(`${what} exited during start-up; see its log`);
    try {
      if (await probe()) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new StackError(`${what} did not become ready within ${timeoutMs / 1000} s; see its log`);
}

export const httpOk = (url: string) => async () =>
  (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;

export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
