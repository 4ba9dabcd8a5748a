/** A load profile: how many concurrent clients at time t (seconds since start), and for how long. */
export interface LoadProfile {
  description: string;
  durationSeconds: number;
  clientsAt(t: number): number;
  maxClients: number;
}

export class ProfileError extends Error {}

export function constantProfile(clients: number, durationSeconds: number): LoadProfile {
  check(clients >= 0 && Number.isInteger(clients), '--clients must be a whole number >= 0');
  check(durationSeconds > 0, '--duration must be > 0 seconds');
  return {
    description: `${clients} clients for ${durationSeconds} s`,
    durationSeconds,
    clientsAt: () => clients,
    maxClients: clients,
  };
}

/** Steps such as "0x30,8x60,0x30": 0 clients for 30 s, then 8 for 60 s, then 0 for 30 s. */
export function stepProfile(spec: string): LoadProfile {
  const steps = spec.split(',').map((part) => {
    const m = /^\s*(\d+)\s*x\s*(\d+(?:\.\d+)?)\s*$/.exec(part);
    check(m !== null, `--steps: "${part}" is not CLIENTSxSECONDS (e.g. 8x60)`);
    return { clients: Number(m![1]), seconds: Number(m![2]) };
  });
  check(
    steps.every((s) => s.seconds > 0),
    '--steps: every step needs a duration > 0',
  );
  const durationSeconds = steps.reduce((sum, s) => sum + s.seconds, 0);
  return {
    description: `steps ${steps.map((s) => `${s.clients}x${s.seconds}s`).join(', ')}`,
    durationSeconds,
    maxClients: Math.max(...steps.map((s) => s.clients)),
    clientsAt: (t) => {
      let end = 0;
      for (const s of steps) {
        end += s.seconds;
        if (t < end) return s.clients;
      }
      return 0;
    },
  };
}

/** A linear ramp such as "1-20" over the duration. */
export function rampProfile(spec: string, durationSeconds: number): LoadProfile {
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(spec);
  check(m !== null, `--ramp: "${spec}" is not FROM-TO (e.g. 1-20)`);
  check(durationSeconds > 0, '--duration must be > 0 seconds');
  const from = Number(m![1]);
  const to = Number(m![2]);
  return {
    description: `ramp ${from} -> ${to} clients over ${durationSeconds} s`,
    durationSeconds,
    maxClients: Math.max(from, to),
    clientsAt: (t) => Math.round(from + ((to - from) * Math.min(t, durationSeconds)) / durationSeconds),
  };
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new ProfileError(message);
}
