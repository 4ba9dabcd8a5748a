import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { adminHandler } from './admin';
import { EmulatorApiServer } from './api-server';
import { LocalLoadBalancer } from './load-balancer';
import { ProcessRuntime } from './process-runtime';
import { EmulatedZone } from './zone';

/**
 * A local stand-in for one Exoscale zone: the API v2 subset on --api-port (signature-checked with the key and
 * secret from EXOSCALE_KEY/EXOSCALE_SECRET, never from argv), one instance pool whose members are slow-web
 * processes on 127.0.1.N, and the NLB on --nlb-port.
 */
const DEFAULT_POOL_ID = '6f0b7a35-4f5e-4a53-9d3e-000000000001';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'api-port': { type: 'string', default: '8086' },
      'nlb-port': { type: 'string', default: '8000' },
      'pool-id': { type: 'string', default: DEFAULT_POOL_ID },
      size: { type: 'string', default: '2' },
      zone: { type: 'string', default: 'at-vie-1' },
      'boot-delay-ms': { type: 'string', default: '10000' },
      'load-seconds': { type: 'string', default: '10' },
      'health-interval-ms': { type: 'string', default: '5000' },
      'slow-web': { type: 'string', default: resolve(__dirname, '../slow-web/main.js') },
    },
  });
  const apiKey = process.env.EXOSCALE_KEY;
  const apiSecret = process.env.EXOSCALE_SECRET;
  if (!apiKey || !apiSecret)
    fail('EXOSCALE_KEY and EXOSCALE_SECRET must be set: the API accepts requests signed with them');
  const number = (name: keyof typeof values, min: number) => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < min) fail(`--${name} must be a number >= ${min}`);
    return n;
  };
  const healthIntervalMs = number('health-interval-ms', 100);

  // The runtime, the zone and the NLB refer to each other; the callbacks only run once all three exist.
  const runtime = new ProcessRuntime({
    slowWebMain: values['slow-web']!,
    appPort: 8080,
    metricsPort: 9100,
    loadSeconds: number('load-seconds', 0.01),
    onCrash: (id) => {
      process.stdout.write(`member ${id} crashed; the pool replaces it\n`);
      zone.memberDied(id);
    },
  });
  const zone = new EmulatedZone(values.zone!, runtime, {
    bootDelayMs: number('boot-delay-ms', 0),
    stopDelayMs: 200,
  });
  zone.healthOf = (ip) => nlb.healthOf(ip);
  const pool = await zone.createPool({ id: values['pool-id'], name: 'local-pool', size: number('size', 0) });
  const lb = zone.createLoadBalancer({
    name: 'local-nlb',
    poolId: pool.id,
    port: number('nlb-port', 1),
    targetPort: 8080,
  });
  lb.service.healthcheck.interval = Math.max(1, Math.round(healthIntervalMs / 1000));
  const nlb = new LocalLoadBalancer(zone, {
    poolId: pool.id,
    listenHost: '127.0.0.1',
    listenPort: number('nlb-port', 1),
    targetPort: 8080,
    healthcheck: {
      port: 8080,
      uri: '/health',
      intervalMs: healthIntervalMs,
      timeoutMs: Math.min(2000, healthIntervalMs),
    },
  });
  const api: EmulatorApiServer = new EmulatorApiServer({
    zone,
    credentials: { [apiKey]: apiSecret },
    admin: adminHandler({ zone, runtime, nlb, api: () => api }),
  });
  const endpoint = await api.listen(number('api-port', 1));
  await nlb.start();
  process.stdout.write(
    `${JSON.stringify({ msg: 'emulator ready', endpoint, poolId: pool.id, loadBalancerId: lb.id, nlb: `http://127.0.0.1:${values['nlb-port']}` })}\n`,
  );

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await nlb.stop();
    await zone.shutdown();
    await api.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

function fail(message: string): never {
  process.stderr.write(`exoscale-emulator: ${message}\n`);
  process.exit(1);
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
