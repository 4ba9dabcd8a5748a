import { Settings } from '../config/settings';

interface InstantVector {
  status: string;
  data?: { resultType: string; result: { value: [number, string] }[] };
  error?: string;
}

/** The control plane's one seam to Prometheus (PROMETHEUS_URL): instant queries answered as one number. */
export class PrometheusQuery {
  constructor(private readonly settings: Settings) {}

  get enabled(): boolean {
    return Boolean(this.settings.PROMETHEUS_URL);
  }

  /**
   * The first sample of an instant query; null when the answer is empty or not a finite number.
   * @throws Error naming the query and the HTTP status when Prometheus refuses it or cannot be reached (5 s)
   */
  async scalar(query: string): Promise<number | null> {
    const url = new URL('api/v1/query', this.settings.PROMETHEUS_URL!.replace(/\/?$/, '/'));
    url.searchParams.set('query', query);
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    const body = (await response.json().catch(() => null)) as InstantVector | null;
    if (!response.ok || body?.status !== 'success')
      throw new Error(
        `query ${query} failed: HTTP ${response.status}${body?.error ? ` (${body.error})` : ''}`,
      );
    const sample = body.data?.result?.[0]?.value?.[1];
    const value = sample === undefined ? NaN : Number(sample);
    return Number.isFinite(value) ? value : null;
  }
}
