/** Load traces: clients over time, piecewise. The four public traces of the elasticity reference, or a CSV file. */

export interface Trace {
  name: string;
  /** What the trace is, in a few words (a suite trace's family parameters). */
  description?: string;
  /** Seconds the trace lasts. */
  duration: number;
  clientsAt(t: number): number;
}

export const PUBLIC_TRACES: Record<'step' | 'ramp' | 'spike' | 'diurnal', Trace> = {
  step: { name: 'step', duration: 3600, clientsAt: (t) => (t >= 300 && t < 2100 ? 8 : 0) },
  ramp: {
    name: 'ramp',
    duration: 3600,
    clientsAt: (t) => {
      if (t < 300) return 0;
      if (t < 1500) return (10 * (t - 300)) / 1200;
      if (t < 2400) return 10;
      if (t < 3000) return 10 - (10 * (t - 2400)) / 600;
      return 0;
    },
  },
  spike: {
    name: 'spike',
    duration: 3600,
    clientsAt: (t) => (t < 300 ? 0 : t >= 1200 && t < 1380 ? 15 : 3),
  },
  diurnal: {
    name: 'diurnal',
    duration: 3600,
    clientsAt: (t) => Math.max(0, 6 + 5 * Math.sin((2 * Math.PI * t) / 3600)),
  },
};

export class TraceError extends Error {}

/**
 * A CSV trace: one `seconds,clients` row per change (piecewise constant), sorted by time; a header line is allowed.
 * Its duration is the last change plus 600 s unless the caller gives one.
 */
export function parseTraceCsv(name: string, text: string): Trace {
  const rows: { t: number; clients: number }[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const cells = line.split(',').map((c) => c.trim());
    const numeric = cells.length === 2 && cells.every((c) => c !== '' && Number.isFinite(Number(c)));
    if (!numeric) {
      if (rows.length === 0 && index === lines.findIndex((l) => l.trim() !== '')) return; // the header
      throw new TraceError(`${name}:${index + 1}: expected "seconds,clients", got ${JSON.stringify(line)}`);
    }
    const [t, clients] = cells.map(Number);
    if (t < 0) throw new TraceError(`${name}:${index + 1}: seconds must not be negative`);
    if (clients < 0) throw new TraceError(`${name}:${index + 1}: clients must not be negative`);
    if (rows.length > 0 && t <= rows[rows.length - 1].t)
      throw new TraceError(`${name}:${index + 1}: rows must be sorted by time, strictly increasing`);
    rows.push({ t, clients });
  });
  if (rows.length === 0) throw new TraceError(`${name}: no rows`);
  return {
    name,
    duration: Math.ceil(rows[rows.length - 1].t) + 600,
    clientsAt: (t) => {
      let clients = 0;
      for (const row of rows) {
        if (row.t > t) break;
        clients = row.clients;
      }
      return clients;
    },
  };
}

/** The oracle's size: the smallest n with clients / n < threshold, the minimum when idle; within the bounds. */
export function demandFor(clients: number, bounds: { min: number; max: number }, threshold = 0.8): number {
  const needed = clients > 0 ? Math.floor(clients / threshold + 1e-9) + 1 : bounds.min;
  return Math.min(bounds.max, Math.max(bounds.min, needed));
}

/**
 * The trace with its load read once per whole second of its duration (a multi-day trace's load function may be
 * costly, and the frontier reads it 200 times per second of the trace); other times are read from the trace.
 */
export function cachedTrace(trace: Trace): Trace {
  const values = new Float64Array(Math.max(0, Math.ceil(trace.duration)));
  for (let t = 0; t < values.length; t++) values[t] = trace.clientsAt(t);
  return {
    ...trace,
    clientsAt: (t) => (Number.isInteger(t) && t >= 0 && t < values.length ? values[t] : trace.clientsAt(t)),
  };
}
