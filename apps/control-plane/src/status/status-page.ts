/**
 * The status page: a static HTML shell and a small script that fills it from the JSON API every few seconds. All
 * data is written with textContent (names and alert labels come from outside); the chart is the server's SVG,
 * whose text is escaped there. No CDN, no build step; the Content-Security-Policy allows only this origin.
 */

export const STATUS_PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Autoscaler status</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 1.2rem 2rem; color: #212121; background: #fafafa; }
  h1 { font-size: 1.4rem; margin: 0 0 .2rem; }
  h2 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
  .sub { color: #616161; margin-bottom: .8rem; }
  .cards { display: flex; flex-wrap: wrap; gap: .6rem; }
  .card { background: #fff; border: 1px solid #e0e0e0; border-radius: 6px; padding: .5rem .8rem; min-width: 7rem; }
  .card .k { color: #757575; font-size: .75rem; text-transform: uppercase; letter-spacing: .04em; }
  .card .v { font-size: 1.25rem; font-weight: 600; }
  table { border-collapse: collapse; background: #fff; width: 100%; font-size: .85rem; }
  th, td { border-bottom: 1px solid #eee; padding: .3rem .5rem; text-align: left; vertical-align: top; }
  th { background: #f5f5f5; font-weight: 600; }
  .ok { color: #2e7d32; } .bad { color: #c62828; font-weight: 600; } .warm { color: #ef6c00; }
  .code { font-family: ui-monospace, monospace; background: #eceff1; border-radius: 3px; padding: 0 .25rem; }
  #chart svg { max-width: 100%; height: auto; border: 1px solid #e0e0e0; border-radius: 6px; }
  nav a { margin-right: 1rem; }
  #error { color: #c62828; }
</style>
</head>
<body>
<h1 id="title">Autoscaler</h1>
<div class="sub"><span id="subtitle">loading ...</span> <span id="error"></span></div>
<nav><a href="/docs">Swagger UI</a><a href="/pool/events">decision log (JSON)</a><a href="/pool">pool (JSON)</a><a href="/metrics">metrics</a><a href="/health">health</a></nav>
<h2>Pool</h2>
<div class="cards" id="cards"></div>
<h2>Members</h2>
<table id="members"><thead><tr><th>name</th><th>IP</th><th>state</th><th>age</th><th>load balancer</th><th>warm-up</th><th>health (judged)</th></tr></thead><tbody></tbody></table>
<h2>Replacements and health guards</h2>
<table id="health"><thead><tr><th>time</th><th>outcome</th><th>code</th><th>reasons</th></tr></thead><tbody></tbody></table>
<h2>Alerts</h2>
<table id="alerts"><thead><tr><th>direction</th><th>alert</th><th>firing since</th><th>last value</th><th>last notified</th><th>expires</th></tr></thead><tbody></tbody></table>
<h2>The last hour</h2>
<div id="chart"></div>
<h2>Last decisions</h2>
<table id="decisions"><thead><tr><th>time</th><th>trigger</th><th>outcome</th><th>code</th><th>size</th><th>reasons</th></tr></thead><tbody></tbody></table>
<script src="/status/app.js"></script>
</body>
</html>
`;

export const STATUS_PAGE_SCRIPT = `'use strict';
(function () {
  const REFRESH_MS = 3000;
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };
  const ago = (iso) => {
    if (!iso) return '-';
    const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
    return s < 120 ? s + ' s' : s < 7200 ? Math.round(s / 60) + ' min' : Math.round(s / 3600) + ' h';
  };
  const clock = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '-');
  const pct = (v) => (v === null || v === undefined ? '-' : Math.round(v * 100) + ' %');
  const rows = (table, list, render) => {
    const body = $(table).tBodies[0];
    body.replaceChildren(...list.map((item) => { const tr = el('tr'); render(item).forEach((c) => tr.append(c)); return tr; }));
    if (list.length === 0) { const tr = el('tr'); const td = el('td', 'none'); td.colSpan = $(table).tHead.rows[0].cells.length; tr.append(td); body.append(tr); }
  };
  const card = (k, v, cls) => { const c = el('div', undefined, 'card'); c.append(el('div', k, 'k'), el('div', v, 'v' + (cls ? ' ' + cls : ''))); return c; };

  // One pool's page: /status/pools/NAME or /?pool=NAME (several pools), else the only pool.
  const prefix = '/status/pools/';
  const path = location.pathname;
  const poolName = path.startsWith(prefix) ? decodeURIComponent(path.slice(prefix.length).split('/')[0]) : new URLSearchParams(location.search).get('pool');
  const q = poolName ? 'pool=' + encodeURIComponent(poolName) : '';
  if (poolName) {
    const back = el('a', 'all pools'); back.href = '/'; document.querySelector('nav').prepend(back);
    document.querySelectorAll('nav a').forEach((a) => { if (a.getAttribute('href').startsWith('/pool')) a.href = a.getAttribute('href') + '?' + q; });
  }

  async function refresh() {
    try {
      const [pool, all, chart, lead] = await Promise.all([
        fetch('/pool' + (q ? '?' + q : '')).then((r) => { if (!r.ok) throw new Error('GET /pool: HTTP ' + r.status); return r.json(); }),
        fetch('/pool/events?limit=200' + (q ? '&' + q : '')).then((r) => r.json()),
        fetch('/status/chart.svg' + (q ? '?' + q : '')).then((r) => r.text()),
        fetch('/leadership').then((r) => (r.ok ? r.json() : null)).catch(() => null),
      ]);
      $('error').textContent = '';
      $('title').textContent = 'Autoscaler: pool ' + (pool.pool && pool.pool !== pool.name ? pool.pool + ' (' + pool.name + ')' : pool.name);
      $('subtitle').textContent = pool.zone + ', pool ' + pool.id + ', refreshed ' + new Date().toLocaleTimeString();
      const p = pool.policy;
      $('cards').replaceChildren(
        card('size', pool.size), card('bounds', pool.bounds.min + ' .. ' + pool.bounds.max),
        card('state', pool.state, pool.state === 'running' ? 'ok' : 'warm'),
        card('policy', p.name), card('target', pct(p.targetUtilization)), card('scale-in limit', pct(p.scaleInUtilization)),
        card('warm-up', p.warmupSeconds + ' s'), card('alert TTL', p.alertTtlSeconds + ' s'),
        card('utilisation source', p.readsPrometheus ? 'Prometheus' : 'notifications'),
        card('next tick', clock(pool.nextTickAt)), card('dry run', pool.dryRun ? 'yes' : 'no', pool.dryRun ? 'warm' : ''),
        card('load balancer', pool.loadBalancer ? pool.loadBalancer.healthy + ' / ' + pool.loadBalancer.total + ' healthy' : '-'),
        ...(lead && lead.leaseExpiresAt ? [
          card('leader', (lead.holder || '-') + ' (epoch ' + lead.epoch + ')' + (lead.role === 'leader' ? ': this replica' : ''), lead.role === 'leader' ? 'ok' : ''),
          card('lease left', Math.max(0, Math.round((Date.parse(lead.leaseExpiresAt) - Date.now()) / 1000)) + ' s'),
        ] : []),
        ...(pool.forecast ? [
          card('forecast (' + pool.forecast.mode + ')', pool.forecast.size === null ? 'no history' : pool.forecast.size + ' members (' + pool.forecast.source + ')', pool.forecast.mode === 'on' ? 'warm' : ''),
        ] : []),
        ...(pool.schedules ? [
          card('scheduled', pool.schedules.active.length === 0 ? 'none active' : pool.schedules.active.map((w) => w.name + (w.min !== undefined ? ' min ' + w.min : '') + (w.max !== undefined ? ' max ' + w.max : '')).join(', '), pool.schedules.active.length > 0 ? 'warm' : ''),
          card('next window', pool.schedules.next ? pool.schedules.next.name + ' at ' + new Date(pool.schedules.next.at).toLocaleString() : '-'),
        ] : []),
      );
      rows('members', pool.members, (m) => [
        el('td', m.name), el('td', m.ip || '-'), el('td', m.state, m.state === 'running' ? 'ok' : 'warm'),
        el('td', ago(m.createdAt)),
        el('td', m.health === undefined ? '-' : m.health === 'success' ? 'healthy' : 'unhealthy', m.health === undefined ? '' : m.health === 'success' ? 'ok' : 'bad'),
        el('td', m.warmingUp ? 'warming up' : 'serving', m.warmingUp ? 'warm' : 'ok'),
        (() => { const td = el('td', m.judgedHealth + ': ' + m.healthReason, m.judgedHealth === 'unhealthy' ? 'bad' : m.judgedHealth === 'healthy' ? 'ok' : 'warm'); return td; })(),
      ]);
      const events = all.slice(0, 20);
      const reasonCells = (d) => {
        const reasons = el('td');
        d.reasons.forEach((r) => { const line = el('div'); line.append(el('span', r.code, 'code'), document.createTextNode(' ' + r.text)); reasons.append(line); });
        return reasons;
      };
      rows('health', all.filter((d) => ['Replace', 'HealthGuard', 'Unhealthy'].includes(d.code)).slice(0, 10), (d) => {
        const code = el('td'); code.append(el('span', d.code, 'code'));
        return [el('td', clock(d.time)), el('td', d.outcome, d.outcome === 'error' ? 'bad' : d.outcome === 'scaled' ? 'ok' : ''), code, reasonCells(d)];
      });
      const firing = pool.alerts.map((a) => a.direction);
      const pending = ['up', 'down'].filter((d) => pool.pending[d] && !firing.includes(d)).map((d) => ({ direction: d, alert: 'pending ' + d + ' step (bare request)', firingSince: null, value: null, lastReceivedAt: null, expiresAt: null }));
      rows('alerts', pool.alerts.concat(pending), (a) => [
        el('td', a.direction, a.direction === 'up' ? 'bad' : 'ok'), el('td', a.alert), el('td', a.firingSince ? clock(a.firingSince) + ' (' + ago(a.firingSince) + ' ago)' : '-'),
        el('td', pct(a.value)), el('td', clock(a.lastReceivedAt)), el('td', clock(a.expiresAt)),
      ]);
      const holder = $('chart');
      const parsed = new DOMParser().parseFromString(chart, 'image/svg+xml').documentElement;
      if (parsed && parsed.nodeName === 'svg') holder.replaceChildren(document.importNode(parsed, true));
      rows('decisions', events, (d) => {
        const code = el('td'); code.append(el('span', d.code, 'code'));
        const reasons = el('td');
        d.reasons.forEach((r) => { const line = el('div'); line.append(el('span', r.code, 'code'), document.createTextNode(' ' + r.text)); reasons.append(line); });
        return [el('td', clock(d.time)), el('td', d.trigger), el('td', d.outcome, d.outcome === 'error' ? 'bad' : d.outcome === 'scaled' ? 'ok' : ''), code,
          el('td', d.pool ? d.pool.size + (d.targetSize !== null && d.targetSize !== d.pool.size ? ' -> ' + d.targetSize : '') : '-'), reasons];
      });
    } catch (error) {
      $('error').textContent = 'cannot refresh: ' + (error && error.message ? error.message : error);
    }
  }
  refresh();
  setInterval(refresh, REFRESH_MS);
})();
`;

/** With several pools, the page at / lists them all; each row links to the pool's own page. */
export const OVERVIEW_PAGE_HTML =
  STATUS_PAGE_HTML.slice(0, STATUS_PAGE_HTML.indexOf('<body>'))
    .replace('<title>Autoscaler status</title>', '<title>Autoscaler: all pools</title>')
    .replace('</style>', '  img.spark { width: 420px; max-width: 100%; height: auto; }\n</style>') +
  `<body>
<h1>Autoscaler: all pools</h1>
<div class="sub"><span id="subtitle">loading ...</span> <span id="error"></span></div>
<nav><a href="/docs">Swagger UI</a><a href="/pools">pools (JSON)</a><a href="/metrics">metrics</a><a href="/health">health</a></nav>
<h2>Pools</h2>
<table id="pools"><thead><tr><th>pool</th><th>zone</th><th>size</th><th>bounds</th><th>running</th><th>state</th><th>utilisation</th><th>signals</th><th>last decision</th><th>last 15 minutes</th></tr></thead><tbody></tbody></table>
<script src="/status/overview.js"></script>
</body>
</html>
`;

export const OVERVIEW_PAGE_SCRIPT = `'use strict';
(function () {
  const REFRESH_MS = 5000;
  /** Charts are drawn for this many pools at most (each is one small request). */
  const CHARTS = 50;
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };
  const pct = (v) => (v === null || v === undefined ? '-' : Math.round(v * 100) + ' %');
  let round = 0;
  async function refresh() {
    try {
      const r = await fetch('/pools');
      if (!r.ok) throw new Error('GET /pools: HTTP ' + r.status);
      const pools = await r.json();
      round++;
      $('error').textContent = '';
      $('subtitle').textContent = pools.length + ' pools, refreshed ' + new Date().toLocaleTimeString();
      const body = $('pools').tBodies[0];
      body.replaceChildren(...pools.map((p, i) => {
        const tr = el('tr');
        const name = el('td'); const a = el('a', p.name); a.href = '/status/pools/' + encodeURIComponent(p.name); name.append(a);
        const signals = [p.pending.up ? 'up pending' : '', p.pending.down ? 'down pending' : '', p.firing ? p.firing + ' firing' : ''].filter(Boolean).join(', ') || '-';
        const last = el('td');
        if (p.lastDecision) { last.append(el('span', p.lastDecision.code, 'code'), document.createTextNode(' ' + p.lastDecision.outcome + (p.lastDecision.targetSize !== null && ['scaled', 'pending', 'dry-run'].includes(p.lastDecision.outcome) ? ' -> ' + p.lastDecision.targetSize : '') + ' at ' + new Date(p.lastDecision.time).toLocaleTimeString())); }
        else last.textContent = '-';
        const chart = el('td');
        if (i < CHARTS) { const img = el('img', undefined, 'spark'); img.alt = 'size of ' + p.name; img.loading = 'lazy'; img.src = '/status/pools/' + encodeURIComponent(p.name) + '/spark.svg?r=' + round; chart.append(img); }
        tr.append(name, el('td', p.zone), el('td', p.size === null ? '-' : p.size), el('td', p.min + ' .. ' + p.max), el('td', p.members),
          el('td', p.state || '-', p.state === 'running' ? 'ok' : 'warm'), el('td', pct(p.utilisation)), el('td', signals, signals === '-' ? '' : 'warm'), last, chart);
        return tr;
      }));
    } catch (error) {
      $('error').textContent = 'cannot refresh: ' + (error && error.message ? error.message : error);
    }
  }
  refresh();
  setInterval(refresh, REFRESH_MS);
})();
`;
