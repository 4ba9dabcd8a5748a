import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { eventually } from './app';
import { freePort } from './process';

export interface TestPrometheus {
  url: string;
  process: ChildProcess;
}

/**
 * A real Prometheus (Debian's) whose TSDB holds the given samples, backfilled with promtool from OpenMetrics as the
 * recording rules would have written them. Resolves once `readyQuery` has an answer.
 * @param lines OpenMetrics lines (`# TYPE ...`, `series{labels} value unix-seconds`), without the `# EOF`
 */
export async function startBackfilledPrometheus(
  lines: string[],
  readyQuery: string,
): Promise<TestPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'cp-prometheus-'));
  writeFileSync(join(dir, 'history.om'), `${[...lines, '# EOF'].join('\n')}\n`);
  const backfill = spawnSync(
    'promtool',
    ['tsdb', 'create-blocks-from', 'openmetrics', '-q', join(dir, 'history.om'), join(dir, 'data')],
    { encoding: 'utf8' },
  );
  if (backfill.status !== 0) throw new Error(`promtool backfill failed: ${backfill.stderr}`);
  writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 15s\n');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=15d',
    ],
    { stdio: 'ignore' },
  );
  await eventually(
    async () => {
      const body = (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(readyQuery)}`)
        .then((r) => r.json())
        .catch(() => null)) as { data?: { result?: unknown[] } } | null;
      return body?.data?.result?.length ?? 0;
    },
    (n) => n > 0,
    30_000,
  );
  return { url, process: child };
}
