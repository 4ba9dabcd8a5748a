import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { SlowWeb } from '../../slow-web/src/slow-web';

// The built CLI against a real slow-web member (in this process), as `npm run load` runs it.
const MAIN = resolve(__dirname, '../../../dist/apps/load-test/main.js');
const PORT = 18180;
const METRICS_PORT = 18190;

/** Runs the CLI without blocking this process, which serves the member it loads. */
function runCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (status) => res({ status, stdout, stderr }));
  });
}

describe('load-test CLI (e2e, built)', () => {
  let member: SlowWeb;

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
    member = new SlowWeb({ host: '127.0.0.1', port: PORT, metricsPort: METRICS_PORT, loadSeconds: 0.2 });
    await member.listen();
  });
  afterAll(() => member.close());

  it('follows a step profile and reports counts, latency and a per-second timeline as JSON', async () => {
    const started = Date.now();
    const result = await runCli(['--url', `http://127.0.0.1:${PORT}/load`, '--steps', '4x2,1x2', '--json']);
    expect(result.status).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.profile).toBe('steps 4x2s, 1x2s');
    expect(summary.errors).toEqual({});
    // 4 clients for 2 s then 1 for 2 s, each request 0.2 s: about 40 + 10 requests.
    expect(summary.ok).toBeGreaterThan(25);
    expect(summary.ok).toBeLessThan(60);
    expect(summary.requests).toBe(summary.ok);
    expect(summary.latencyMs.p50).toBeGreaterThanOrEqual(200);
    expect(summary.latencyMs.p99).toBeGreaterThanOrEqual(summary.latencyMs.p50);
    expect(summary.timeline.length).toBeGreaterThanOrEqual(3);
    expect(summary.timeline[0].clients).toBe(4);
    expect(summary.timeline[summary.timeline.length - 1].clients).toBeLessThanOrEqual(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4000);
  });

  it('counts failures by kind instead of stopping', async () => {
    const result = await runCli([
      '--url',
      `http://127.0.0.1:${PORT}/nope`,
      '--clients',
      '2',
      '--duration',
      '1',
      '--json',
    ]);
    expect(result.status).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.ok).toBe(0);
    expect(summary.errors['http 404']).toBeGreaterThan(0);
  });

  it.each([
    [[], /--url is required/],
    [['--url', 'not a url'], /is not a URL/],
    [['--url', `http://127.0.0.1:${PORT}/load`, '--steps', '4*2'], /--steps: "4\*2" is not CLIENTSxSECONDS/],
    [['--url', `http://127.0.0.1:${PORT}/load`, '--steps', '1x1', '--ramp', '1-2'], /not both/],
    [['--url', `http://127.0.0.1:${PORT}/load`, '--clients', 'many'], /--clients must be a whole number/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--url', `http://127.0.0.1:${PORT}/load`, '--pool', 'web'], /--pool needs --control-plane/],
    [
      ['--url', `http://127.0.0.1:${PORT}/load`, '--control-plane', 'http://127.0.0.1:1', '--pool', 'Web!'],
      /--pool "Web!" is not a pool name/,
    ],
  ])('rejects bad arguments %j with exit 2 and a message', async (args, message) => {
    const result = await runCli(args as string[]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('usage: npm run load');
  });

  it('writes a self-contained HTML report with --report, keeping --json output clean', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'report-')), 'run.html');
    const result = await runCli([
      '--url',
      `http://127.0.0.1:${PORT}/load`,
      '--steps',
      '2x2',
      '--json',
      '--report',
      file,
    ]);
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout).requests).toBeGreaterThan(0);
    expect(result.stderr).toContain(`report: ${file}`);
    const html = readFileSync(file, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg');
    expect(html).toContain('requests/s');
    expect(html).toContain('p99');
    // Self-contained: no script and no external asset.
    expect(html).not.toMatch(/<script|src=|href="http|@import|url\(/);
  });

  it('follows one of several pools with --pool: its size, history and decisions by name', async () => {
    const asked: string[] = [];
    const controlPlane = createServer((req, res) => {
      asked.push(req.url!);
      res.setHeader('Content-Type', 'application/json');
      if (req.url === '/pools/worker') return res.end(JSON.stringify({ name: 'worker', size: 3 }));
      if (req.url === '/pool/history?pool=worker') return res.end('[]');
      if (req.url === '/pools/worker/events') return res.end('[]');
      res.statusCode = 404;
      res.end('{}');
    });
    await new Promise<void>((r) => controlPlane.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(controlPlane.address() as AddressInfo).port}`;
    try {
      const file = join(mkdtempSync(join(tmpdir(), 'report-')), 'pool.html');
      const result = await runCli([
        '--url',
        `http://127.0.0.1:${PORT}/load`,
        '--steps',
        '1x2',
        '--control-plane',
        base,
        '--pool',
        'worker',
        '--json',
        '--report',
        file,
      ]);
      expect(result.status).toBe(0);
      expect(JSON.parse(result.stdout).poolSize).toEqual({ start: 3, max: 3, end: 3 });
      expect(result.stderr).not.toContain('no control-plane view');
      expect(new Set(asked)).toEqual(
        new Set(['/pools/worker', '/pool/history?pool=worker', '/pools/worker/events']),
      );
    } finally {
      await new Promise((r) => controlPlane.close(r));
    }
  });
});
