import { renderChart } from '@app/charts';

import type { SimResult } from './main';

/** One simulation run as an SVG: load and sizes over time, the utilisation with the rule thresholds, scale calls. */
export function renderSimulationChart(result: SimResult): string {
  const { timeline, metrics, settings } = result;
  const pct = (y: number) => `${Math.round(y * 100)}%`;
  return renderChart({
    title: `${result.trace} trace, ${result.policy} policy`,
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
