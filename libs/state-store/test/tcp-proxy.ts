import { createServer, Server, Socket, connect } from 'node:net';

/**
 * A TCP proxy on loopback between a client and a server, to cut the link under test: `sever()` resets every
 * connection and refuses new ones, `blackhole()` keeps them open but forwards nothing (a silent network), `heal()`
 * passes traffic again (new connections).
 */
export class TcpProxy {
  private mode: 'pass' | 'sever' | 'blackhole' = 'pass';
  private readonly pairs = new Set<[Socket, Socket]>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    return new Promise((resolve, reject) => {
      let proxy: TcpProxy;
      const server = createServer((downstream) => {
        if (proxy.mode !== 'pass') return void downstream.destroy();
        const upstream = connect(targetPort, targetHost);
        const pair: [Socket, Socket] = [downstream, upstream];
        proxy.pairs.add(pair);
        const forward = (from: Socket, to: Socket) =>
          from.on('data', (chunk: Buffer) => {
            if (proxy.mode === 'pass') to.write(chunk);
          });
        forward(downstream, upstream);
        forward(upstream, downstream);
        const close = () => {
          proxy.pairs.delete(pair);
          downstream.destroy();
          upstream.destroy();
        };
        downstream.on('close', close).on('error', close);
        upstream.on('close', close).on('error', close);
      });
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        proxy = new TcpProxy(server, typeof address === 'object' && address ? address.port : 0);
        resolve(proxy);
      });
    });
  }

  /** Live connections through the proxy. */
  get connections(): number {
    return this.pairs.size;
  }

  sever(): void {
    this.mode = 'sever';
    for (const [a, b] of this.pairs) {
      a.resetAndDestroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  blackhole(): void {
    this.mode = 'blackhole';
  }

  /** Passes traffic again; connections that lost bytes in a black hole are reset first. */
  heal(): void {
    if (this.mode === 'blackhole') this.sever();
    this.mode = 'pass';
  }

  close(): Promise<void> {
    this.sever();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
