/**
 * A self-contained SVG time-series chart (no script, no external asset): stacked panels sharing one time axis,
 * step or line series, horizontal guides, and markers with tooltips. Used by the simulator's --chart.
 */

export interface ChartSeries {
  name: string;
  color: string;
  /** One value per sample (null: no value); sample i is at time `t0 + i * dt`. */
  values: (number | null)[];
  step?: boolean;
  dash?: string;
  width?: number;
}

export interface ChartPanel {
  title: string;
  height: number;
  series: ChartSeries[];
  yMin?: number;
  yMax?: number;
  /** Formats the axis labels (default: the number). */
  format?: (y: number) => string;
  guides?: { y: number; label: string; color: string }[];
}

export interface ChartMarker {
  t: number;
  label: string;
  color: string;
}

export interface ChartSpec {
  title: string;
  subtitle?: string;
  width?: number;
  t0?: number;
  dt?: number;
  panels: ChartPanel[];
  markers?: ChartMarker[];
  /** The label of the time axis (default "seconds"). */
  xLabel?: string;
}

export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

const fmt = (x: number) => (Math.round(x * 10) / 10).toString();

function niceTicks(min: number, max: number, count: number): number[] {
  const span = max - min || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + 1e-9; v += step)
    ticks.push(Math.round(v * 1e6) / 1e6);
  return ticks;
}

export function renderChart(spec: ChartSpec): string {
  const width = spec.width ?? 1000;
  const t0 = spec.t0 ?? 0;
  const dt = spec.dt ?? 1;
  const samples = Math.max(1, ...spec.panels.flatMap((p) => p.series.map((s) => s.values.length)));
  const left = 56;
  const right = 190;
  const plotW = width - left - right;
  const top = spec.subtitle ? 66 : 50;
  const gap = 34;
  const axisH = 28;
  const height = top + spec.panels.reduce((h, p) => h + p.height + gap, 0) + axisH - gap + 8;
  const tEnd = t0 + (samples - 1) * dt;
  const x = (t: number) => left + ((t - t0) / Math.max(dt, tEnd - t0)) * plotW;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="20" font-size="15" font-weight="bold">${escapeXml(spec.title)}</text>`,
  ];
  if (spec.subtitle) parts.push(`<text x="${left}" y="38" fill="#555">${escapeXml(spec.subtitle)}</text>`);

  let y0 = top;
  for (const panel of spec.panels) {
    const values = panel.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
    const yMin = panel.yMin ?? Math.min(0, ...values);
    const yMax = panel.yMax ?? Math.max(1, ...values) * 1.08;
    const y = (v: number) => y0 + panel.height - ((v - yMin) / (yMax - yMin || 1)) * panel.height;
    const format = panel.format ?? fmt;
    parts.push(
      `<text x="${left}" y="${y0 - 6}" font-weight="bold">${escapeXml(panel.title)}</text>`,
      `<rect x="${left}" y="${y0}" width="${plotW}" height="${panel.height}" fill="none" stroke="#ccc"/>`,
    );
    for (const tick of niceTicks(yMin, yMax, 4)) {
      parts.push(
        `<line x1="${left}" x2="${left + plotW}" y1="${y(tick)}" y2="${y(tick)}" stroke="#eee"/>`,
        `<text x="${left - 6}" y="${y(tick) + 4}" text-anchor="end" fill="#555">${escapeXml(format(tick))}</text>`,
      );
    }
    for (const g of panel.guides ?? []) {
      parts.push(
        `<line x1="${left}" x2="${left + plotW}" y1="${y(g.y)}" y2="${y(g.y)}" stroke="${g.color}" stroke-dasharray="4 3"/>`,
        `<text x="${left + plotW + 4}" y="${y(g.y) + 4}" fill="${g.color}">${escapeXml(g.label)}</text>`,
      );
    }
    panel.series.forEach((s, i) => {
      const path: string[] = [];
      let pen = false;
      let prev: number | null = null;
      s.values.forEach((v, idx) => {
        if (v === null) {
          pen = false;
          prev = null;
          return;
        }
        const px = x(t0 + idx * dt).toFixed(1);
        const py = y(v).toFixed(1);
        if (!pen) path.push(`M${px},${py}`);
        else if (s.step && prev !== null && prev !== v) path.push(`H${px}V${py}`);
        else if (!s.step) path.push(`L${px},${py}`);
        pen = true;
        prev = v;
      });
      if (pen) path.push(`H${x(t0 + (s.values.length - 1) * dt).toFixed(1)}`);
      parts.push(
        `<path d="${path.join('')}" fill="none" stroke="${s.color}" stroke-width="${s.width ?? 1.6}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}><title>${escapeXml(s.name)}</title></path>`,
        `<line x1="${left + plotW + 8}" x2="${left + plotW + 26}" y1="${y0 + 10 + i * 16}" y2="${y0 + 10 + i * 16}" stroke="${s.color}" stroke-width="2.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
        `<text x="${left + plotW + 30}" y="${y0 + 14 + i * 16}">${escapeXml(s.name)}</text>`,
      );
    });
    for (const m of spec.markers ?? []) {
      parts.push(
        `<line x1="${x(m.t).toFixed(1)}" x2="${x(m.t).toFixed(1)}" y1="${y0}" y2="${y0 + panel.height}" stroke="${m.color}" stroke-opacity="0.35"><title>${escapeXml(m.label)}</title></line>`,
      );
    }
    y0 += panel.height + gap;
  }
  const axisY = y0 - gap;
  for (const tick of niceTicks(t0, tEnd, 10)) {
    parts.push(
      `<line x1="${x(tick)}" x2="${x(tick)}" y1="${axisY}" y2="${axisY + 4}" stroke="#555"/>`,
      `<text x="${x(tick)}" y="${axisY + 16}" text-anchor="middle" fill="#555">${tick}</text>`,
    );
  }
  parts.push(
    `<text x="${left + plotW}" y="${axisY + 16}" text-anchor="end" fill="#555" dy="10">${escapeXml(spec.xLabel ?? 'seconds')}</text>`,
  );
  for (const m of spec.markers ?? []) {
    parts.push(
      `<circle cx="${x(m.t).toFixed(1)}" cy="${top}" r="3.5" fill="${m.color}"><title>${escapeXml(m.label)}</title></circle>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}
