import { ChartMarker, renderChart, renderHtmlReport } from '@app/charts';

import { Summary } from './load-runner';

/** What the control plane tells about the run (GET /pool/history and /pool/events), when it was given. */
export interface ControlPlaneView {
  history: { t: number; requested: number | null; serving: number; utilisation: number | null }[];
  events: {
    time: string;
    trigger: string;
    outcome: string;
    code: string;
    direction: string | null;
    targetSize: number | null;
    reasons: { code: string; text: string }[];
  }[];
}

/** The value of a sampled series at each second of the run (the newest sample at or before it). */
function onRunGrid<T extends { t: number }>(
  samples: T[],
  start: number,
  seconds: number,
  pick: (s: T) => number | null,
): (number | null)[] {
  const out: (number | null)[] = [];
  let k = -1;
  for (let i = 0; i < seconds; i++) {
    const t = start + i;
    while (k + 1 < samples.length && samples[k + 1].t <= t) k++;
    out.push(k >= 0 && t - samples[k].t <= 30 ? pick(samples[k]) : null);
  }
  return out;
}

/**
 * A self-contained HTML report of a load-test run: load (clients, requests/s, errors), latency percentiles, and
 * with the control plane's view the requested and serving pool size, the utilisation and every decision.
 */
export function renderRunReport(summary: Summary, view: ControlPlaneView | null): string {
  const start = Date.parse(summary.startedAt) / 1000;
  const seconds = Math.max(2, summary.timeline.length);
  const at = (pick: (s: Summary['timeline'][number]) => number | null) =>
    Array.from({ length: seconds }, (_, i) => {
      const s = summary.timeline[i];
      return s ? pick(s) : null;
    });
  const markers: ChartMarker[] = (view?.events ?? [])
    .filter((e) => e.outcome !== 'none')
    .map((e) => ({
      t: Date.parse(e.time) / 1000 - start,
      color: e.outcome === 'error' ? '#b71c1c' : e.direction === 'down' ? '#00838f' : '#c62828',
      label:
        `t=${Math.round(Date.parse(e.time) / 1000 - start)} s ${e.trigger} ${e.outcome}` +
        `${e.targetSize !== null ? ` -> ${e.targetSize}` : ''} (${e.code}): ` +
        e.reasons.map((r) => `[${r.code}] ${r.text}`).join('; '),
    }))
    .filter((m) => m.t >= 0 && m.t <= seconds);
  const panels = [
    {
      title: 'load',
      height: 170,
      yMin: 0,
      series: [
        { name: 'clients', color: '#9e9e9e', values: at((s) => s.clients), step: true },
        { name: 'requests/s', color: '#1565c0', values: at((s) => s.requestsPerSecond) },
        { name: 'errors/s', color: '#c62828', values: at((s) => s.errors) },
      ],
    },
    {
      title: 'latency (ms)',
      height: 150,
      yMin: 0,
      series: [
        { name: 'p50', color: '#2e7d32', values: at((s) => (s.requestsPerSecond > 0 ? s.p50Ms : null)) },
        { name: 'p95', color: '#ef6c00', values: at((s) => (s.requestsPerSecond > 0 ? s.p95Ms : null)) },
        { name: 'p99', color: '#c62828', values: at((s) => (s.requestsPerSecond > 0 ? s.p99Ms : null)) },
      ],
    },
  ];
  if (view) {
    panels.push(
      {
        title: 'pool size',
        height: 150,
        yMin: 0,
        series: [
          {
            name: 'requested size',
            color: '#1565c0',
            values: onRunGrid(view.history, start, seconds, (s) => s.requested),
            step: true,
          },
          {
            name: 'serving members',
            color: '#ef6c00',
            values: onRunGrid(view.history, start, seconds, (s) => s.serving),
            step: true,
          },
        ],
      },
      {
        title: 'pool-average CPU utilisation (as the decisions saw it)',
        height: 120,
        yMin: 0,
        series: [
          {
            name: 'utilisation',
            color: '#6a1b9a',
            values: onRunGrid(view.history, start, seconds, (s) => s.utilisation),
          },
        ],
      },
    );
  } else {
    panels.push({
      title: 'pool size (as the load test read it)',
      height: 120,
      yMin: 0,
      series: [{ name: 'pool size', color: '#1565c0', values: at((s) => s.poolSize), step: true }],
    });
  }
  const chart = renderChart({
    title: `${summary.profile} against ${summary.url}`,
    width: 1000,
    panels,
    markers,
  });
  const errors = Object.entries(summary.errors);
  return renderHtmlReport({
    title: 'Load test report',
    subtitle: `${summary.profile} against ${summary.url}, started ${summary.startedAt}`,
    facts: [
      ['duration', `${summary.durationSeconds} s`],
      ['requests', `${summary.requests} (${summary.ok} ok, ${summary.requests - summary.ok} failed)`],
      ['throughput', `${summary.requestsPerSecond} req/s`],
      [
        'latency',
        `p50 ${summary.latencyMs.p50} ms, p95 ${summary.latencyMs.p95} ms, p99 ${summary.latencyMs.p99} ms, max ${summary.latencyMs.max} ms`,
      ],
      ['errors', errors.length ? errors.map(([k, n]) => `${k}: ${n}`).join(', ') : 'none'],
      [
        'pool size',
        summary.poolSize.start === null
          ? 'unknown'
          : `start ${summary.poolSize.start}, max ${summary.poolSize.max}, end ${summary.poolSize.end}`,
      ],
      ['scaling decisions', view ? String(markers.length) : 'unknown (no --control-plane)'],
    ],
    charts: [chart],
    notes: view ? ['Markers: every scaling decision that did something; hover for its reasons.'] : [],
  });
}
