import { ChildProcess, spawn } from 'node:child_process';

import { EmulatedInstance, MemberRuntime } from './zone';

export interface ProcessRuntimeOptions {
  /** Path of the built slow-web entry point. */
  slowWebMain: string;
  appPort: number;
  metricsPort: number;
  loadSeconds: number;
  /** Called when a member's process exits without being asked to (a crash). */
  onCrash: (instanceId: string) => void;
}

/** Pool members as local processes: one slow-web per member, bound to the member's loopback address. */
export class ProcessRuntime implements MemberRuntime {
  private readonly children = new Map<string, ChildProcess>();
  private readonly stopping = new Set<string>();

  constructor(private readonly options: ProcessRuntimeOptions) {
    // Children die with the emulator, whatever ends it.
    process.on('exit', () => this.killAll('SIGKILL'));
  }

  pidOf(instanceId: string): number | undefined {
    return this.children.get(instanceId)?.pid;
  }

  signal(instanceId: string, signal: NodeJS.Signals): boolean {
    const child = this.children.get(instanceId);
    return child ? child.kill(signal) : false;
  }

  start(member: EmulatedInstance): Promise<void> {
    const o = this.options;
    const child = spawn(
      process.execPath,
      [
        o.slowWebMain,
        '--host',
        member.publicIp,
        '--port',
        String(o.appPort),
        '--metrics-port',
        String(o.metricsPort),
        '--load-seconds',
        String(o.loadSeconds),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.children.set(member.id, child);
    return new Promise<void>((resolve, reject) => {
      let output = '';
      let started = false;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`member ${member.name} did not start within 15 s: ${output.trim()}`));
      }, 15_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (!started && output.includes('listening')) {
          started = true;
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        this.children.delete(member.id);
        if (!started) {
          reject(new Error(`member ${member.name} exited at start (${code ?? signal}): ${output.trim()}`));
        } else if (!this.stopping.delete(member.id)) {
          this.options.onCrash(member.id);
        }
      });
    });
  }

  async stop(member: EmulatedInstance): Promise<void> {
    const child = this.children.get(member.id);
    if (!child) return;
    this.stopping.add(member.id);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  killAll(signal: NodeJS.Signals): void {
    for (const child of this.children.values()) child.kill(signal);
  }
}
