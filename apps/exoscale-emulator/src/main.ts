import { resolve } from 'node:path';

import { adminHandler } from './admin';
import { EmulatorApiServer } from './api-server';
import { Fleet } from './fleet';
import { EmulatorOptionError, parseEmulatorOptions } from './options';
import { ProcessRuntime } from './process-runtime';
import { VirtualMembers } from './virtual-members';
import { EmulatedZone } from './zone';

/**
 * A local stand-in for one Exoscale zone: the API v2 subset on --api-port (signature-checked with the key and
 * secret from EXOSCALE_KEY/EXOSCALE_SECRET, never from argv), --pools instance pools (default 1) whose members are
 * slow-web processes on 127.0.1.N, each behind its own NLB (--nlb-port, then the next ports, or --nlb-ports), and
 * optionally virtual pools whose members are API objects only (--virtual, --virtual-pools; POST /_emulator/pools).
 */
async function main(): Promise<void> {
  let options;
  try {
    options = parseEmulatorOptions(process.argv.slice(2), resolve(__dirname, '../slow-web/main.js'));
  } catch (error) {
    if (error instanceof EmulatorOptionError) fail(error.message);
    throw error;
  }
  const apiKey = process.env.EXOSCALE_KEY;
  const apiSecret = process.env.EXOSCALE_SECRET;
  if (!apiKey || !apiSecret)
    fail('EXOSCALE_KEY and EXOSCALE_SECRET must be set: the API accepts requests signed with them');

  // The runtime, the zone and the fleet refer to each other; the callbacks only run once all three exist.
  const runtime = new ProcessRuntime({
    slowWebMain: options.slowWeb,
    appPort: 8080,
    metricsPort: 9100,
    loadSeconds: options.loadSeconds,
    onCrash: (id) => {
      process.stdout.write(`member ${id} crashed; the pool replaces it\n`);
      zone.memberDied(id);
    },
  });
  const zone = new EmulatedZone(options.zone, runtime, {
    bootDelayMs: options.bootDelayMs,
    stopDelayMs: 200,
  });
  const fleet = new Fleet(zone, new VirtualMembers(), {
    firstPoolId: options.firstPoolId,
    healthIntervalMs: options.healthIntervalMs,
    targetPort: 8080,
  });
  zone.healthOf = (ip) => fleet.healthOf(ip);
  for (const spec of options.pools) await fleet.addPool(spec);
  const api: EmulatorApiServer = new EmulatorApiServer({
    zone,
    credentials: { [apiKey]: apiSecret },
    admin: adminHandler({ fleet, runtime, api: () => api }),
  });
  const endpoint = await api.listen(options.apiPort);
  await fleet.startLoadBalancers();
  const pools = fleet.list();
  const first = pools[0];
  // The first pool's fields as before (poolId, loadBalancerId, nlb), then every pool (`pools`). One line, however
  // long: read up to its newline.
  process.stdout.write(
    `${JSON.stringify({
      msg: 'emulator ready',
      endpoint,
      poolId: first.id,
      ...(first.loadBalancerId ? { loadBalancerId: first.loadBalancerId, nlb: first.nlb } : {}),
      pools,
    })}\n`,
  );

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await fleet.stopLoadBalancers();
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
