import { request } from 'node:http';
import { createServer, Server, Socket, connect } from 'node:net';

import { EmulatedZone } from './zone';

export interface LoadBalancerOptions {
  poolId: string;
  listenHost: string;
  listenPort: number;
  targetPort: number;
  healthcheck: { port: number; uri: string; intervalMs: number; timeoutMs: number };
}

/**
 * The NLB: a TCP round-robin proxy to the pool's members that only routes to members whose HTTP health check
 * passed, like an Exoscale NLB service with an `http` health check. A new member is unhealthy until it passes.
 */
export class LocalLoadBalancer {
  readonly health = new Map<string, 'success' | 'failure'>();
  private server?: Server;
  private timer?: NodeJS.Timeout;
  private cursor = 0;
  private readonly sockets = new Set<Socket>();
  /** Proxied connections per member, so that a member that fails its check loses them at once. */
  private readonly connections = new Map<string, Set<Socket>>();
  /** Connections routed to each member, for tests and the status page. */
  readonly routed = new Map<string, number>();

  constructor(
    private readonly zone: EmulatedZone,
    private readonly options: LoadBalancerOptions,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((client) => this.route(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.options.listenPort, this.options.listenHost, () => resolve());
    });
    await this.checkAll();
    this.timer = setInterval(() => void this.checkAll(), this.options.healthcheck.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const socket of this.sockets) socket.destroy();
    if (this.server) await new Promise((resolve) => this.server!.close(resolve));
  }

  healthOf(ip: string): 'success' | 'failure' {
    return this.health.get(ip) ?? 'failure';
  }

  healthyMembers(): string[] {
    return this.zone
      .members(this.options.poolId)
      .filter((m) => m.state === 'running' && this.health.get(m.publicIp) === 'success')
      .map((m) => m.publicIp)
      .sort(compareIp);
  }

  private async checkAll(): Promise<void> {
    const members = this.zone
      .members(this.options.poolId)
      .filter((m) => m.state === 'running' || m.state === 'starting');
    const ips = new Set(members.map((m) => m.publicIp));
    for (const ip of this.health.keys()) if (!ips.has(ip)) this.health.delete(ip);
    await Promise.all(
      members.map(async (m) => {
        const ok = m.state === 'running' && (await this.probe(m.publicIp));
        this.health.set(m.publicIp, ok ? 'success' : 'failure');
        if (!ok) this.dropConnections(m.publicIp);
      }),
    );
  }

  private dropConnections(ip: string): void {
    for (const socket of this.connections.get(ip) ?? []) socket.destroy();
    this.connections.delete(ip);
  }

  private probe(ip: string): Promise<boolean> {
    const { port, uri, timeoutMs } = this.options.healthcheck;
    return new Promise((resolve) => {
      const req = request(
        { host: ip, port, path: uri, method: 'GET', timeout: timeoutMs, agent: false },
        (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        },
      );
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
      req.end();
    });
  }

  private route(client: Socket, tried = new Set<string>()): void {
    this.sockets.add(client);
    client.once('close', () => this.sockets.delete(client));
    const candidates = this.healthyMembers().filter((ip) => !tried.has(ip));
    if (candidates.length === 0) {
      client.destroy();
      return;
    }
    const ip = candidates[this.cursor++ % candidates.length];
    tried.add(ip);
    client.pause();
    const upstream = connect({ host: ip, port: this.options.targetPort });
    const onConnectError = () => {
      // Nothing was sent yet: mark the member down and try the next healthy one, as a retrying NLB would.
      this.health.set(ip, 'failure');
      client.removeListener('close', onClientClose);
      this.route(client, tried);
    };
    const onClientClose = () => upstream.destroy();
    upstream.once('error', onConnectError);
    client.once('close', onClientClose);
    upstream.once('connect', () => {
      upstream.removeListener('error', onConnectError);
      this.routed.set(ip, (this.routed.get(ip) ?? 0) + 1);
      const open = this.connections.get(ip) ?? new Set<Socket>();
      this.connections.set(ip, open.add(client));
      client.once('close', () => open.delete(client));
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }
}

function compareIp(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}
