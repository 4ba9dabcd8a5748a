import { renderChart } from '@app/charts';

import { DecisionEntry } from '../scaling/decision-log.service';
import { HistorySample, SAMPLE_SECONDS } from './status-history.service';

export interface StatusChartInput {
  now: number;
  samples: HistorySample[];
  decisions: DecisionEntry[];
  bounds: { min: number; max: number };
  targetUtilisation: number;
  scaleInUtilisation: number;
}

/**
 * The status page's chart: requested and serving size with the bounds, the utilisation the decisions saw, and every
 * decision that did something as a marker whose tooltip gives its reasons. Seconds on the axis count back from now.
 */
export function renderStatusChart(input: StatusChartInput): string {
  const start = input.samples.length > 0 ? input.samples[0].t : input.now;
  // At least a minute wide, so a fresh control plane's first samples read as lines, not dots.
  const points = Math.max(13, Math.ceil((input.now - start) / SAMPLE_SECONDS) + 1);
  const requested: (number | null)[] = [];
  const serving: (number | null)[] = [];
  const utilisation: (number | null)[] = [];
  let k = 0;
  for (let i = 0; i < points; i++) {
    const t = input.now - (points - 1 - i) * SAMPLE_SECONDS;
    while (k + 1 < input.samples.length && input.samples[k + 1].t <= t + 1e-6) k++;
    const s = input.samples[k];
    const known = s !== undefined && s.t <= t + SAMPLE_SECONDS;
    requested.push(known ? s.requested : null);
    serving.push(known ? s.serving : null);
    utilisation.push(known ? s.utilisation : null);
  }
  const t0 = -(points - 1) * SAMPLE_SECONDS;
  const pct = (y: number) => `${Math.round(y * 100)}%`;
  const markers = input.decisions
    .filter((d) => d.outcome !== 'none' && Date.parse(d.time) / 1000 >= input.now + t0)
    .map((d) => ({
      t: Date.parse(d.time) / 1000 - input.now,
      color: d.outcome === 'error' ? '#b71c1c' : d.direction === 'down' ? '#00838f' : '#c62828',
      label:
        `${d.time} ${d.trigger} ${d.outcome}${d.targetSize !== null ? ` -> ${d.targetSize}` : ''} (${d.code}): ` +
        d.reasons.map((r) => `[${r.code}] ${r.text}`).join('; '),
    }));
  return renderChart({
    title: 'The last hour',
    width: 980,
    t0,
    dt: SAMPLE_SECONDS,
    xLabel: 'seconds (0 = now)',
    panels: [
      {
        title: 'pool size',
        height: 200,
        yMin: 0,
        yMax: input.bounds.max + 1,
        series: [
          { name: 'requested size', color: '#1565c0', values: requested, step: true },
          { name: 'serving members', color: '#ef6c00', values: serving, step: true, dash: '5 3' },
        ],
        guides: [
          { y: input.bounds.max, label: `max ${input.bounds.max}`, color: '#9e9e9e' },
          { y: input.bounds.min, label: `min ${input.bounds.min}`, color: '#9e9e9e' },
        ],
      },
      {
        title: 'pool-average CPU utilisation (as the decisions saw it)',
        height: 120,
        yMin: 0,
        yMax: 1,
        format: pct,
        series: [{ name: 'utilisation', color: '#6a1b9a', values: utilisation }],
        guides: [
          { y: input.targetUtilisation, label: `target ${pct(input.targetUtilisation)}`, color: '#2e7d32' },
          {
            y: input.scaleInUtilisation,
            label: `scale-in limit ${pct(input.scaleInUtilisation)}`,
            color: '#00838f',
          },
        ],
      },
    ],
    markers,
  });
}

/** The overview's chart of one pool: the last 15 minutes of requested and serving size, and the utilisation. */
export function renderPoolSparkline(
  now: number,
  samples: HistorySample[],
  bounds: { min: number; max: number },
): string {
  const points = (15 * 60) / SAMPLE_SECONDS + 1;
  const requested: (number | null)[] = [];
  const serving: (number | null)[] = [];
  const utilisation: (number | null)[] = [];
  let k = 0;
  for (let i = 0; i < points; i++) {
    const t = now - (points - 1 - i) * SAMPLE_SECONDS;
    while (k + 1 < samples.length && samples[k + 1].t <= t + 1e-6) k++;
    const s = samples[k];
    const known = s !== undefined && s.t <= t + SAMPLE_SECONDS && s.t >= t - SAMPLE_SECONDS;
    requested.push(known ? s.requested : null);
    serving.push(known ? s.serving : null);
    utilisation.push(known ? s.utilisation : null);
  }
  return renderChart({
    title: '',
    width: 420,
    // In minutes: a narrow chart has room for -15 .. 0, not for -900 .. 0 seconds.
    t0: -((points - 1) * SAMPLE_SECONDS) / 60,
    dt: SAMPLE_SECONDS / 60,
    xLabel: 'minutes',
    panels: [
      {
        title: 'size',
        height: 50,
        yMin: 0,
        yMax: Math.max(bounds.max, ...requested.map((v) => v ?? 0)),
        series: [
          { name: 'requested', color: '#1565c0', values: requested, step: true },
          { name: 'serving', color: '#2e7d32', values: serving, step: true, dash: '4 2' },
        ],
      },
      {
        title: 'utilisation',
        height: 44,
        yMin: 0,
        yMax: 1,
        format: (y) => `${Math.round(y * 100)}%`,
        series: [{ name: 'utilisation', color: '#ef6c00', values: utilisation }],
      },
    ],
  });
}
