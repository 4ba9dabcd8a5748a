import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

export interface Supervised {
  name: string;
  child: ChildProcess;
}

/**
 * Starts the stack's processes, each in its own process group with its output in `<logDir>/<name>.log`, and stops
 * them all: SIGTERM to the group, SIGKILL after 10 s, then SIGKILL to whatever is left in the group (the pool's
 * members run in the emulator's group).
 */
export class Supervisor {
  readonly children: Supervised[] = [];
  private stopped = false;

  constructor(
    private readonly cwd: string,
    private readonly logDir: string,
  ) {}

  start(name: string, command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
    const out = createWriteStream(join(this.logDir, `${name}.log`), { flags: 'w' });
    const child = spawn(command, args, {
      cwd: this.cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    this.children.push({ name, child });
    return child;
  }

  /** Resolves with the first child that exits while the stack is meant to run. */
  firstExit(): Promise<{ name: string; code: number | null; signal: NodeJS.Signals | null }> {
    return new Promise((resolve) => {
      for (const { name, child } of this.children)
        child.once('exit', (code, signal) => {
          if (!this.stopped) resolve({ name, code, signal });
        });
    });
  }

  async stopAll(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const { child } of [...this.children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
      const pid = child.pid;
      const exited = new Promise((r) => child.once('exit', r));
      if (!signalGroup(pid, 'SIGTERM')) continue;
      const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
      signalGroup(pid, 'SIGKILL');
    }
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}
