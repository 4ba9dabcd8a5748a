import { EmulatorApiServer } from '../../../exoscale-emulator/src/api-server';
import { EmulatedZone, ZoneTimings } from '../../../exoscale-emulator/src/zone';

export const TEST_KEY = 'EXOe2e000000000000000000000';
export const TEST_SECRET = 'e2e-secret-must-never-appear-anywhere';

export interface FakeExoscale {
  zone: EmulatedZone;
  api: EmulatorApiServer;
  endpoint: string;
  poolId: string;
  close(): Promise<void>;
}

/** A wire-faithful stand-in for the Exoscale API (signature-checked), with one pool. */
export async function startFakeExoscale(
  options: {
    size?: number;
    timings?: ZoneTimings;
    port?: number;
    /** The fake API server's clock ahead of this host's (ms; negative: behind); also `api.clockOffsetMs`. */
    clockOffsetMs?: number;
  } = {},
): Promise<FakeExoscale> {
  const zone = new EmulatedZone(
    'at-vie-1',
    undefined,
    options.timings ?? { bootDelayMs: 50, stopDelayMs: 20 },
  );
  const api = new EmulatorApiServer({
    zone,
    credentials: { [TEST_KEY]: TEST_SECRET },
    clockOffsetMs: options.clockOffsetMs,
  });
  const endpoint = await api.listen(options.port ?? 0);
  const pool = await zone.createPool({ name: 'web', size: options.size ?? 1 });
  zone.createLoadBalancer({ name: 'lb', poolId: pool.id, port: 80, targetPort: 8080 });
  return {
    zone,
    api,
    endpoint,
    poolId: pool.id,
    close: async () => {
      await zone.shutdown();
      await api.close();
    },
  };
}
