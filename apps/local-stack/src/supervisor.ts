import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

export interface Supervised {
  name: string;
  /** The current process (a restart replaces it). */
  child: ChildProcess;
  /** How many times it was restarted. */
  restarts: number;
  /** Exited with a restart code; started again shortly. */
  restarting: boolean;
}

export interface ProcessExit {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartOptions {
  /**
   * Exit codes after which the process is started again, the same way, after `restartDelayMs` (its log goes on);
   * any other exit stays fatal. The control plane exits 75 (EX_TEMPFAIL) when it loses its lease.
   */
  restartOn?: number[];
  /**
   * Also start it again when a signal ended it (SIGKILL from outside, say), after this many ms (unset: such an end is
   * fatal). A replica killed while it led is restarted only once its lease has run out, so the other one takes over
   * as after the loss of a machine (a replica restarted at once, under the same name, would take its own lease back).
   */
  restartAfterSignalMs?: number;
}

/**
 * Starts the stack's processes, each in its own process group with its output in `<logDir>/<name>.log`, restarts
 * those that exit with a code they were started to be restarted on, and stops them all: SIGTERM to the group,
 * SIGKILL after 10 s, then SIGKILL to whatever is left in the group (the pool's members run in the emulator's group).
 */
export class Supervisor {
  readonly children: Supervised[] = [];
  private stopped = false;
  private readonly pendingRestarts = new Set<NodeJS.Timeout>();
  private resolveFatal!: (exit: ProcessExit) => void;
  private readonly fatal = new Promise<ProcessExit>((resolve) => (this.resolveFatal = resolve));

  constructor(
    private readonly cwd: string,
    private readonly logDir: string,
    private readonly notify: (line: string) => void = () => undefined,
    private readonly restartDelayMs = 1000,
  ) {}

  start(
    name: string,
    command: string,
    args: string[],
    env: Record<string, string> = {},
    options: StartOptions = {},
  ): ChildProcess {
    const entry: Supervised = {
      name,
      child: this.spawn(name, command, args, env, 'w'),
      restarts: 0,
      restarting: false,
    };
    this.children.push(entry);
    const watch = (child: ChildProcess) =>
      child.once('exit', (code, signal) => {
        if (this.stopped) return;
        const delayMs =
          code !== null
            ? (options.restartOn ?? []).includes(code)
              ? this.restartDelayMs
              : undefined
            : options.restartAfterSignalMs;
        if (delayMs === undefined) return this.resolveFatal({ name, code, signal });
        entry.restarts++;
        entry.restarting = true;
        this.notify(
          `${name} ${code !== null ? `exited ${code}` : `was ended by ${signal}`}; starting it again in ` +
            `${delayMs / 1000} s (restart ${entry.restarts}; log: ${join(this.logDir, `${name}.log`)})`,
        );
        const timer = setTimeout(() => {
          this.pendingRestarts.delete(timer);
          if (this.stopped) return;
          entry.child = this.spawn(name, command, args, env, 'a');
          entry.restarting = false;
          watch(entry.child);
        }, delayMs);
        this.pendingRestarts.add(timer);
      });
    watch(entry.child);
    return entry.child;
  }

  /** The current process of `name`; undefined while it waits to be restarted (or if it was never started). */
  current(name: string): ChildProcess | undefined {
    const entry = this.children.find((c) => c.name === name);
    return entry?.restarting ? undefined : entry?.child;
  }

  /** Resolves with the first process that exits for good (not to be restarted) while the stack is meant to run. */
  firstExit(): Promise<ProcessExit> {
    return this.fatal;
  }

  async stopAll(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.pendingRestarts) clearTimeout(timer);
    this.pendingRestarts.clear();
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

  private spawn(
    name: string,
    command: string,
    args: string[],
    env: Record<string, string>,
    flags: 'w' | 'a',
  ): ChildProcess {
    const out = createWriteStream(join(this.logDir, `${name}.log`), { flags });
    const child = spawn(command, args, {
      cwd: this.cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    return child;
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
