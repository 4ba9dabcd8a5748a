import { renderChart } from '@app/charts';

import type { SimResult } from './main';
import type { Timeline } from './model';

/** One simulation run as an SVG: load and sizes over time, the utilisation with the rule thresholds, scale calls. */
export function renderSimulationChart(result: SimResult): string {
  const { metrics, settings } = result;
  // A multi-day run has hundreds of thousands of seconds: chart one sample a minute (the largest of that minute's
  // values for sizes and load, so no spike or lack vanishes) beyond 6 hours.
  const dt = result.timeline.clients.length > 6 * 3600 ? 60 : 1;
  const timeline = dt === 1 ? result.timeline : downsample(result.timeline, dt);
  const pct = (y: number) => `${Math.round(y * 100)}%`;
  return renderChart({
    title: `${result.trace} trace, ${result.policy} policy${result.prediction ? `, prediction ${result.prediction}` : ''}`,
    dt,
    ...(dt > 1 ? { xLabel: 'seconds (one sample a minute)' } : {}),
    subtitle:
      `under-provisioned ${metrics.underProvisionedPct} % of the time, cost ${metrics.costRatio}x the oracle, ` +
      `${metrics.scaleCalls} scale calls, peak ${metrics.peakSize}, boot ${settings.boot} s, noise ${settings.noise}`,
    panels: [
      {
        title: 'members and load',
        height: 260,
        yMin: 0,
        series: [
          { name: 'clients (load)', color: '#9e9e9e', values: timeline.clients, dash: '2 2' },
          { name: 'demand (oracle)', color: '#2e7d32', values: timeline.demand, step: true, dash: '6 3' },
          { name: 'requested size', color: '#1565c0', values: timeline.requested, step: true },
          { name: 'serving members', color: '#ef6c00', values: timeline.serving, step: true },
          ...(timeline.forecast
            ? [
                {
                  name: `forecast size (${result.prediction})`,
                  color: '#ad1457',
                  values: timeline.forecast,
                  step: true,
                  dash: '3 3',
                },
              ]
            : []),
        ],
      },
      {
        title: 'pool-average CPU utilisation',
        height: 140,
        yMin: 0,
        yMax: 1,
        format: pct,
        series: [{ name: 'utilisation', color: '#6a1b9a', values: timeline.utilisation }],
        guides: settings.rules.map((r) => ({
          y: r.threshold,
          label: `${r.name} ${r.op} ${pct(r.threshold)}`,
          color: r.direction === 'up' ? '#c62828' : '#00838f',
        })),
      },
    ],
    markers: timeline.calls.map((c) => ({
      t: c.t,
      label: `t=${c.t} s: ${c.from} -> ${c.to} (${c.code})`,
      color: c.to > c.from ? '#c62828' : '#00838f',
    })),
  });
}

/** Every `dt` seconds, the largest value of the interval (serving: the smallest, so a lack shows). */
function downsample(tl: Timeline, dt: number): Timeline {
  const pick = (values: (number | null)[], f: (a: number, b: number) => number) => {
    const out: (number | null)[] = [];
    for (let i = 0; i < values.length; i += dt) {
      let v: number | null = null;
      for (let j = i; j < Math.min(values.length, i + dt); j++) {
        const x = values[j];
        if (x !== null) v = v === null ? x : f(v, x);
      }
      out.push(v);
    }
    return out;
  };
  return {
    ...tl,
    clients: pick(tl.clients, Math.max) as number[],
    demand: pick(tl.demand, Math.max) as number[],
    requested: pick(tl.requested, Math.max) as number[],
    serving: pick(tl.serving, Math.min) as number[],
    utilisation: pick(tl.utilisation, Math.max),
    ...(tl.forecast ? { forecast: pick(tl.forecast, Math.max) } : {}),
  };
}
