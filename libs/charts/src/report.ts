import { escapeXml } from './chart';

export interface HtmlReport {
  title: string;
  subtitle?: string;
  /** Key figures, shown as a table. */
  facts: [string, string][];
  /** SVG documents from renderChart(), embedded inline. */
  charts: string[];
  notes?: string[];
}

/** A self-contained HTML report: inline SVG charts and styles, no script, no external asset. */
export function renderHtmlReport(report: HtmlReport): string {
  const rows = report.facts
    .map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td>${escapeXml(v)}</td></tr>`)
    .join('\n');
  const notes = (report.notes ?? []).map((n) => `<p class="note">${escapeXml(n)}</p>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(report.title)}</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 1.5rem 2rem; color: #212121; }
  h1 { font-size: 1.4rem; margin-bottom: .2rem; }
  .sub { color: #616161; margin-bottom: 1rem; }
  table { border-collapse: collapse; margin-bottom: 1.2rem; font-size: .9rem; }
  th, td { text-align: left; padding: .25rem .8rem .25rem 0; border-bottom: 1px solid #eee; vertical-align: top; }
  th { color: #616161; font-weight: 600; }
  .chart svg { max-width: 100%; height: auto; border: 1px solid #e0e0e0; border-radius: 6px; margin-bottom: 1rem; }
  .note { color: #616161; font-size: .85rem; }
</style>
</head>
<body>
<h1>${escapeXml(report.title)}</h1>
${report.subtitle ? `<div class="sub">${escapeXml(report.subtitle)}</div>` : ''}
<table>
${rows}
</table>
${report.charts.map((svg) => `<div class="chart">${svg}</div>`).join('\n')}
${notes}
</body>
</html>
`;
}
