import { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * Polls `probe` until `ok` accepts its value (a probe that throws is "not answering yet"); the error names `what`
 * and the last value. For the stack's tests, whose stack answers at its own pace.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await probe();
      if (ok(last)) return last;
    } catch {
      // not answering yet
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not reached within ${timeoutMs / 1000} s (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Whether nothing listens on the loopback `port`. */
export const portFree = (port: number) =>
  new Promise<boolean>((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });

/**
 * Stops a launcher that is still running as Ctrl-C does (SIGINT: it stops every process it started), and kills it
 * only if it has not exited within `graceMs`: a test file whose last test (the SIGINT one) did not run must not
 * leave members, Prometheus or a control plane on the stack's fixed ports.
 */
export async function stopLauncher(launcher: ChildProcess | undefined, graceMs = 30000): Promise<void> {
  if (!launcher || launcher.exitCode !== null || launcher.signalCode !== null) return;
  const exited = new Promise<void>((r) => launcher.once('exit', () => r()));
  launcher.kill('SIGINT');
  await Promise.race([exited, new Promise((r) => setTimeout(r, graceMs))]);
  if (launcher.exitCode === null && launcher.signalCode === null) launcher.kill('SIGKILL');
}
