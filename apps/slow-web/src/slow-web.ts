import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';

import { SimulatedCpu } from './simulated-cpu';

/**
 * The pool member: http-load-generator's API (GET /health -> "OK"; GET /load -> 100% CPU for a while, then
 * "Load generation done.") plus a node-exporter-compatible /metrics for its simulated vCPU.
 */
export interface SlowWebOptions {
  host: string;
  port: number;
  metricsPort: number;
  /** How long one /load keeps the CPU busy. */
  loadSeconds: number;
}

export class SlowWeb {
  readonly cpu = new SimulatedCpu();
  healthy = true;
  private readonly requests = new Map<string, number>();
  private servers: Server[] = [];

  constructor(private readonly options: SlowWebOptions) {}

  async listen(): Promise<void> {
    const app = createServer((req, res) => this.handleApp(req, res));
    const exporter = createServer((req, res) => this.handleExporter(req, res));
    this.servers = [app, exporter];
    await Promise.all([
      listen(app, this.options.port, this.options.host),
      listen(exporter, this.options.metricsPort, this.options.host),
    ]);
  }

  async close(): Promise<void> {
    await Promise.all(
      this.servers.map((s) => {
        s.closeAllConnections();
        return new Promise((r) => s.close(r));
      }),
    );
  }

  private count(path: string, status: number): void {
    const key = `${path} ${status}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  private handleApp(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/health') {
      const status = this.healthy ? 200 : 503;
      this.count('/health', status);
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(this.healthy ? 'OK' : 'unhealthy');
      return;
    }
    if (req.method === 'GET' && path === '/load') {
      this.cpu.begin();
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        this.cpu.end();
      };
      const timer = setTimeout(() => {
        finish();
        this.count('/load', 200);
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('Load generation done.');
      }, this.options.loadSeconds * 1000);
      // A client that gives up does not keep the CPU busy (http-load-generator's goroutines would, briefly).
      res.on('close', finish);
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      this.handleExporter(req, res);
      return;
    }
    this.count(path, 404);
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found');
  }

  private handleExporter(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404).end('404 page not found');
      return;
    }
    void this.establishedConnections().then((established) => this.writeMetrics(res, established));
  }

  /**
   * The member's established TCP connections, its app's and its exporter's (this scrape's own included), as the
   * node exporter's `node_netstat_Tcp_CurrEstab` counts a host's: the autoscaling rules take the requests in flight
   * from it.
   */
  private async establishedConnections(): Promise<number> {
    const counts = await Promise.all(
      this.servers.map(
        (server) =>
          new Promise<number>((resolve) => server.getConnections((error, n) => resolve(error ? 0 : n))),
      ),
    );
    return counts.reduce((a, n) => a + n, 0);
  }

  private writeMetrics(res: ServerResponse, established: number): void {
    const c = this.cpu.counters();
    const lines = [
      '# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.',
      '# TYPE node_cpu_seconds_total counter',
      ...(['idle', 'iowait', 'irq', 'nice', 'softirq', 'steal', 'system', 'user'] as const).map((mode) => {
        const value = mode === 'idle' ? c.idle : mode === 'system' ? c.system : mode === 'user' ? c.user : 0;
        return `node_cpu_seconds_total{cpu="0",mode="${mode}"} ${value.toFixed(3)}`;
      }),
      '# HELP node_netstat_Tcp_CurrEstab Statistic TcpCurrEstab.',
      '# TYPE node_netstat_Tcp_CurrEstab untyped',
      `node_netstat_Tcp_CurrEstab ${established}`,
      '# HELP slowweb_active_loads Loads currently keeping the simulated CPU busy.',
      '# TYPE slowweb_active_loads gauge',
      `slowweb_active_loads ${this.cpu.activeLoads}`,
      '# HELP slowweb_http_requests_total Requests served by the member, by path and status.',
      '# TYPE slowweb_http_requests_total counter',
      ...[...this.requests].map(([key, n]) => {
        const [p, status] = key.split(' ');
        return `slowweb_http_requests_total{path="${p}",status="${status}"} ${n}`;
      }),
      '# HELP slowweb_healthy 1 while /health answers OK.',
      '# TYPE slowweb_healthy gauge',
      `slowweb_healthy ${this.healthy ? 1 : 0}`,
      '',
    ];
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(lines.join('\n'));
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}
