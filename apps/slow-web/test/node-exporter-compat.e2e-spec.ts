import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { ClientRequest, get } from 'node:http';

import { SlowWeb } from '../src/slow-web';

// slow-web's /metrics against the real node exporter (Debian's prometheus-node-exporter): same family, same HELP and
// TYPE, same label names and CPU modes, so the cloud's PromQL runs unchanged on the local members.
const EXPORTER_PORT = 19101;

interface Family {
  help?: string;
  type?: string;
  series: { labels: Record<string, string>; value: number }[];
}

function parse(text: string, name: string): Family {
  const family: Family = { series: [] };
  for (const line of text.split('\n')) {
    if (line.startsWith(`# HELP ${name} `)) family.help = line;
    else if (line.startsWith(`# TYPE ${name} `)) family.type = line;
    else if (line.startsWith(`${name}{`)) {
      const m = /^[^{]+\{([^}]*)\} (\S+)$/.exec(line)!;
      const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
      family.series.push({ labels, value: Number(m[2]) });
    } else if (line.startsWith(`${name} `)) {
      family.series.push({ labels: {}, value: Number(line.slice(name.length + 1)) });
    }
  }
  return family;
}

async function scrape(url: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    try {
      const res = await fetch(url);
      if (res.ok) return await res.text();
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer`);
}

describe('slow-web metrics vs the real node exporter (e2e)', () => {
  let exporter: ChildProcess;
  let member: SlowWeb;

  beforeAll(async () => {
    if (spawnSync('sh', ['-c', 'command -v prometheus-node-exporter']).status !== 0) {
      throw new Error('prometheus-node-exporter is missing: bash scripts/setup.sh installs it');
    }
    exporter = spawn(
      'prometheus-node-exporter',
      [
        `--web.listen-address=127.0.0.1:${EXPORTER_PORT}`,
        '--collector.disable-defaults',
        '--collector.cpu',
        '--collector.netstat',
      ],
      {
        stdio: 'ignore',
      },
    );
    member = new SlowWeb({ host: '127.0.0.1', port: 18280, metricsPort: 18290, loadSeconds: 0.3 });
    await member.listen();
  });

  afterAll(async () => {
    exporter.kill('SIGTERM');
    await member.close();
  });

  it('exports node_cpu_seconds_total exactly as node_exporter does', async () => {
    const real = parse(await scrape(`http://127.0.0.1:${EXPORTER_PORT}/metrics`), 'node_cpu_seconds_total');
    const ours = parse(await scrape('http://127.0.0.1:18290/metrics'), 'node_cpu_seconds_total');
    expect(ours.help).toBe(real.help);
    expect(ours.type).toBe(real.type);
    const labelNames = (f: Family) => [
      ...new Set(f.series.map((s) => Object.keys(s.labels).sort().join(','))),
    ];
    expect(labelNames(ours)).toEqual(labelNames(real));
    const modes = (f: Family) =>
      f.series
        .filter((s) => s.labels.cpu === '0')
        .map((s) => s.labels.mode)
        .sort();
    expect(modes(ours)).toEqual(modes(real));
  });

  it('counts busy time in user mode while a /load runs, and only then', async () => {
    const user = async () =>
      parse(await scrape('http://127.0.0.1:18290/metrics'), 'node_cpu_seconds_total').series.find(
        (s) => s.labels.mode === 'user',
      )!.value;
    const before = await user();
    await new Promise((r) => setTimeout(r, 300));
    expect(await user()).toBe(before);
    const res = await fetch('http://127.0.0.1:18280/load');
    expect(await res.text()).toBe('Load generation done.');
    const after = await user();
    expect(after - before).toBeGreaterThanOrEqual(0.29);
    expect(after - before).toBeLessThan(0.5);
  });

  // The autoscaling rules take a pool's requests in flight from node_netstat_Tcp_CurrEstab less the scrape's own
  // connection (monitoring/prometheus/rules): the member counts its established connections as the kernel does.
  it('exports node_netstat_Tcp_CurrEstab as node_exporter does: the loads in flight and the scrape', async () => {
    const name = 'node_netstat_Tcp_CurrEstab';
    const real = parse(await scrape(`http://127.0.0.1:${EXPORTER_PORT}/metrics`), name);
    const busy = new SlowWeb({ host: '127.0.0.1', port: 18281, metricsPort: 18291, loadSeconds: 60 });
    await busy.listen();
    const loads: ClientRequest[] = [];
    try {
      // Each request on its own connection (agent: false), closed when it ends, as the load balancer passes them.
      const once = (path: string) =>
        new Promise<string>((resolve, reject) => {
          const req = get({ host: '127.0.0.1', port: 18291, path, agent: false }, (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve(body));
          });
          req.on('error', reject);
        });
      const idle = parse(await once('/metrics'), name);
      expect(idle.help).toBe(real.help);
      expect(idle.type).toBe(real.type);
      expect(idle.series).toEqual([{ labels: {}, value: 1 }]);
      for (let i = 0; i < 3; i++) {
        const req = get({ host: '127.0.0.1', port: 18281, path: '/load', agent: false });
        req.on('error', () => undefined);
        loads.push(req);
      }
      // Until the member has all three (controlled by its own count, not a sleep).
      for (let i = 0; i < 200 && busy.cpu.activeLoads < 3; i++) await new Promise((r) => setTimeout(r, 20));
      expect(busy.cpu.activeLoads).toBe(3);
      expect(parse(await once('/metrics'), name).series).toEqual([{ labels: {}, value: 4 }]);
    } finally {
      for (const req of loads) req.destroy();
      await busy.close();
    }
  });
});
