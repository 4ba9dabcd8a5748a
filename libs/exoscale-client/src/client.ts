import axios, { AxiosInstance, AxiosResponse, isAxiosError } from 'axios';

import { apiMessageFromBody, clockSkewOf, ExoscaleApiError, isRetryableStatus } from './errors';
import { backoffDelayMs, DEFAULT_RETRY_POLICY, parseRetryAfterMs, RetryPolicy } from './retry';
import { SIGNATURE_LIFETIME_SECONDS, signRequest } from './signing';
import {
  Instance,
  InstancePool,
  listOf,
  LoadBalancer,
  MalformedResponseError,
  Operation,
  toInstance,
  toInstancePool,
  toLoadBalancer,
  toQuota,
  Quota,
  toOperation,
} from './types';

export interface ExoscaleClientOptions {
  apiKey: string;
  apiSecret: string;
  zone: string;
  /** Defaults to `https://api-<zone>.exoscale.com/v2`. */
  endpoint?: string;
  /** Per-attempt timeout. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Called after every HTTP attempt, for metrics. */
  onRequest?: (event: ApiRequestEvent) => void;
  /**
   * At most this many HTTP requests of this client in flight at once (default: unbounded); the others queue in
   * order. A zone's client is shared by every pool of the zone, so this bounds the calls one control plane makes
   * to one zone's endpoint.
   */
  maxConcurrentRequests?: number;
  /** The User-Agent of each request, read when it is sent (e.g. `exoscale-autoscaler epoch/7`); default as shown. */
  userAgent?: () => string;
  /** Receives one line per retried attempt. Lines never hold credentials. */
  logger?: { warn(message: string): void };
  /** Injected for tests; defaults to a timer. */
  sleep?: (ms: number) => Promise<void>;
}

export interface ApiRequestEvent {
  operation: string;
  method: string;
  /** HTTP status as a string, or `network` / `timeout`. */
  status: string;
  durationMs: number;
  attempt: number;
}

export interface WaitOptions {
  /** Give up after this long (default 10 minutes). */
  timeoutMs?: number;
  /** Poll interval (default 3 s, as egoscale), reached after quick polls from 250 ms; grows linearly after 30 s. */
  pollIntervalMs?: number;
  /** Upper bound of the poll interval (default 60 s). */
  maxPollIntervalMs?: number;
  signal?: AbortSignal;
}

interface Call extends CallOptions {
  operation: string;
  method: 'GET' | 'PUT';
  /** Path below the endpoint, already percent-encoded where needed. */
  path: string;
  query?: Record<string, string>;
  body?: unknown;
}

/** Per-call limits of a state-changing call (a fenced scale call must end within the lease it was fenced under). */
export interface CallOptions {
  /** This call's HTTP timeout (default: the client's). */
  timeoutMs?: number;
  /** Attempts for this call (default: the retry policy's). */
  maxAttempts?: number;
}

/** A counting semaphore: at most `limit` tasks run at once, the rest wait in arrival order. */
class Semaphore {
  private running = 0;
  private peak = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  get stats(): { inFlight: number; peak: number; queued: number } {
    return { inFlight: this.running, peak: this.peak, queued: this.waiting.length };
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    this.peak = Math.max(this.peak, this.running);
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so the count never dips and lets a newcomer jump the queue.
      if (next) next();
      else this.running--;
    }
  }
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function segment(id: string, what: string): string {
  if (typeof id !== 'string' || id.trim() === '') throw new TypeError(`${what} must be a non-empty string`);
  return encodeURIComponent(id);
}

/** Typed client for the parts of the Exoscale API v2 an instance-pool autoscaler needs. */
export class ExoscaleClient {
  readonly endpoint: string;
  readonly zone: string;
  private readonly http: AxiosInstance;
  private readonly basePath: string;
  private readonly retryPolicy: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly slots: Semaphore | null;

  constructor(private readonly options: ExoscaleClientOptions) {
    if (!options.apiKey || !options.apiSecret) throw new TypeError('apiKey and apiSecret are required');
    if (!options.zone) throw new TypeError('zone is required');
    this.zone = options.zone;
    this.endpoint = (options.endpoint ?? `https://api-${options.zone}.exoscale.com/v2`).replace(/\/+$/, '');
    this.basePath = new URL(this.endpoint).pathname.replace(/\/+$/, '');
    this.retryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.sleep = options.sleep ?? defaultSleep;
    const limit = options.maxConcurrentRequests;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
      throw new TypeError('maxConcurrentRequests must be a positive integer');
    this.slots = limit === undefined ? null : new Semaphore(limit);
    this.http = axios.create({
      timeout: options.timeoutMs ?? 15_000,
      maxRedirects: 0,
      proxy: false,
      responseType: 'text',
      // Bodies are serialised once by request() so that the signed bytes are the sent bytes.
      transformRequest: [(data: unknown) => data],
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
    });
  }

  /** Requests in flight now and at most so far (with maxConcurrentRequests, never above it). */
  get concurrency(): { inFlight: number; peak: number; queued: number } {
    return this.slots?.stats ?? { inFlight: 0, peak: 0, queued: 0 };
  }

  async getInstancePool(id: string): Promise<InstancePool> {
    const body = await this.request({
      operation: 'get-instance-pool',
      method: 'GET',
      path: `/instance-pool/${segment(id, 'instance pool id')}`,
    });
    return this.map('get-instance-pool', () => toInstancePool(body));
  }

  async listInstancePools(): Promise<InstancePool[]> {
    const body = await this.request({
      operation: 'list-instance-pools',
      method: 'GET',
      path: '/instance-pool',
    });
    return this.map('list-instance-pools', () => listOf(body, 'instance-pools', toInstancePool));
  }

  /** Sets the pool's size (absolute, so a retried call never applies a step twice). */
  async scaleInstancePool(id: string, size: number, options: CallOptions = {}): Promise<Operation> {
    if (!Number.isInteger(size) || size < 0) throw new TypeError('size must be a non-negative integer');
    const body = await this.request({
      ...options,
      operation: 'scale-instance-pool',
      method: 'PUT',
      path: `/instance-pool/${segment(id, 'instance pool id')}:scale`,
      body: { size },
    });
    return this.map('scale-instance-pool', () => toOperation(body));
  }

  async evictInstancePoolMembers(
    id: string,
    instanceIds: string[],
    options: CallOptions = {},
  ): Promise<Operation> {
    if (instanceIds.length === 0) throw new TypeError('instanceIds must not be empty');
    const body = await this.request({
      ...options,
      operation: 'evict-instance-pool-members',
      method: 'PUT',
      path: `/instance-pool/${segment(id, 'instance pool id')}:evict`,
      body: { instances: instanceIds },
    });
    return this.map('evict-instance-pool-members', () => toOperation(body));
  }

  async listInstances(filter: { managerId?: string } = {}): Promise<Instance[]> {
    const query: Record<string, string> = {};
    if (filter.managerId) {
      query['manager-id'] = filter.managerId;
      query['manager-type'] = 'instance-pool';
    }
    const body = await this.request({ operation: 'list-instances', method: 'GET', path: '/instance', query });
    return this.map('list-instances', () => listOf(body, 'instances', toInstance));
  }

  async getInstance(id: string): Promise<Instance> {
    const body = await this.request({
      operation: 'get-instance',
      method: 'GET',
      path: `/instance/${segment(id, 'instance id')}`,
    });
    return this.map('get-instance', () => toInstance(body));
  }

  async getOperation(id: string): Promise<Operation> {
    const body = await this.request({
      operation: 'get-operation',
      method: 'GET',
      path: `/operation/${segment(id, 'operation id')}`,
    });
    return this.map('get-operation', () => toOperation(body));
  }

  /** Polls an async operation until it leaves `pending`; `failure` and `timeout` are thrown as ExoscaleApiError. */
  async waitForOperation(operationOrId: Operation | string, options: WaitOptions = {}): Promise<Operation> {
    const id = typeof operationOrId === 'string' ? operationOrId : operationOrId.id;
    const timeoutMs = options.timeoutMs ?? 10 * 60_000;
    const first = options.pollIntervalMs ?? 3000;
    const max = options.maxPollIntervalMs ?? 60_000;
    const started = Date.now();
    let quick = Math.min(first, 250);
    let operation = typeof operationOrId === 'string' ? await this.getOperation(id) : operationOrId;
    while (operation.state === 'pending') {
      const elapsed = Date.now() - started;
      if (elapsed >= timeoutMs) {
        throw new ExoscaleApiError(
          'wait-for-operation',
          null,
          `operation ${id} still pending after ${timeoutMs} ms`,
          true,
          1,
          id,
        );
      }
      if (options.signal?.aborted) {
        throw new ExoscaleApiError(
          'wait-for-operation',
          null,
          `waiting for operation ${id} was aborted`,
          true,
          1,
          id,
        );
      }
      // Quick first polls (most operations end within a second or two), then egoscale's schedule: a fixed
      // interval for 30 s, then growing linearly (about 20x over the next 15 minutes).
      const regular =
        elapsed < 30_000 ? first : Math.min(max, first + (((elapsed - 30_000) * 57) / 870_000) * (first / 3));
      const interval = Math.min(regular, quick);
      quick *= 2;
      await this.sleep(Math.min(interval, Math.max(1, timeoutMs - elapsed)));
      operation = await this.getOperation(id);
    }
    if (operation.state !== 'success') {
      const detail = [operation.reason, operation.message].filter(Boolean).join(': ');
      throw new ExoscaleApiError(
        'wait-for-operation',
        null,
        `operation ${id} ended in state ${operation.state}${detail ? ` (${detail})` : ''}`,
        false,
        1,
        id,
      );
    }
    return operation;
  }

  /** `get-quota`: the organisation's quota of one resource (e.g. `instance`), shared by every pool and VM. */
  async getQuota(entity: string): Promise<Quota> {
    const body = await this.request({
      operation: 'get-quota',
      method: 'GET',
      path: `/quota/${segment(entity, 'quota entity')}`,
    });
    return this.map('get-quota', () => toQuota(body));
  }

  async listLoadBalancers(): Promise<LoadBalancer[]> {
    const body = await this.request({
      operation: 'list-load-balancers',
      method: 'GET',
      path: '/load-balancer',
    });
    return this.map('list-load-balancers', () => listOf(body, 'load-balancers', toLoadBalancer));
  }

  async getLoadBalancer(id: string): Promise<LoadBalancer> {
    const body = await this.request({
      operation: 'get-load-balancer',
      method: 'GET',
      path: `/load-balancer/${segment(id, 'load balancer id')}`,
    });
    return this.map('get-load-balancer', () => toLoadBalancer(body));
  }

  private map<T>(operation: string, mapper: () => T): T {
    try {
      return mapper();
    } catch (error) {
      if (error instanceof MalformedResponseError) {
        throw new ExoscaleApiError(operation, 200, `malformed response: ${error.message}`, false);
      }
      throw error;
    }
  }

  private async request(call: Call): Promise<unknown> {
    const path = `${this.basePath}${call.path}`;
    const query = call.query ?? {};
    const keys = Object.keys(query).sort();
    const queryString = keys.map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(query[k])}`).join('&');
    const url = `${new URL(this.endpoint).origin}${path}${queryString ? `?${queryString}` : ''}`;
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    const maxAttempts = call.maxAttempts ?? this.retryPolicy.maxAttempts;

    for (let attempt = 1; ; attempt++) {
      const expires = Math.floor(Date.now() / 1000) + SIGNATURE_LIFETIME_SECONDS;
      const headers: Record<string, string> = {
        Authorization: signRequest({ method: call.method, path, query, body }, this.options, expires),
        Accept: 'application/json',
        'User-Agent': this.options.userAgent?.() ?? 'exoscale-autoscaler',
      };
      if (body !== undefined) headers['Content-Type'] = 'application/json';

      const started = Date.now();
      let response: AxiosResponse<string> | undefined;
      let failure: { status: string; message: string } | undefined;
      try {
        const send = () =>
          this.http.request<string>({
            method: call.method,
            url,
            data: body,
            headers,
            ...(call.timeoutMs !== undefined ? { timeout: call.timeoutMs } : {}),
          });
        response = await (this.slots ? this.slots.run(send) : send());
      } catch (error) {
        failure = describeTransportError(error);
      }
      this.options.onRequest?.({
        operation: call.operation,
        method: call.method,
        status: response ? String(response.status) : failure!.status,
        durationMs: Date.now() - started,
        attempt,
      });

      let error: ExoscaleApiError;
      let retryAfterMs: number | undefined;
      if (response) {
        const parsed = parseBody(response.data);
        if (response.status >= 200 && response.status < 300) {
          if (parsed.json === undefined) {
            throw new ExoscaleApiError(
              call.operation,
              response.status,
              'response body is not JSON',
              false,
              attempt,
            );
          }
          return parsed.json;
        }
        const apiMessage = this.redact(apiMessageFromBody(parsed.json ?? parsed.text));
        error = new ExoscaleApiError(
          call.operation,
          response.status,
          apiMessage,
          isRetryableStatus(response.status),
          attempt,
          undefined,
          // A refusal caused by this host's clock says so, rather than leaving the key to be blamed.
          clockSkewOf(
            response.status,
            apiMessage,
            headerValue(response.headers.date),
            Date.now(),
            SIGNATURE_LIFETIME_SECONDS,
          ),
        );
        retryAfterMs = parseRetryAfterMs(headerValue(response.headers['retry-after']));
      } else {
        error = new ExoscaleApiError(call.operation, null, this.redact(failure!.message), true, attempt);
      }

      if (!error.retryable || attempt >= maxAttempts) throw error;
      const delay = Math.min(
        this.retryPolicy.maxDelayMs,
        retryAfterMs ?? backoffDelayMs(attempt, this.retryPolicy),
      );
      this.options.logger?.warn(
        `${call.operation}: attempt ${attempt}/${maxAttempts} failed (${error.status ?? 'no response'}: ${error.apiMessage}); retrying in ${delay} ms`,
      );
      await this.sleep(delay);
    }
  }

  /** Defence in depth: an API message that echoes a credential never leaves the client with it. */
  private redact(message: string): string {
    return message.split(this.options.apiSecret).join('[redacted]');
  }
}

function parseBody(text: string | undefined): { json?: unknown; text: string } {
  const raw = typeof text === 'string' ? text : '';
  if (raw.trim() === '') return { text: raw };
  try {
    return { json: JSON.parse(raw), text: raw };
  } catch {
    return { text: raw };
  }
}

function headerValue(value: unknown): string | undefined {
  if (Array.isArray(value)) return value[0];
  return typeof value === 'string'
    ? value
    : value === undefined || value === null
      ? undefined
      : String(value);
}

function describeTransportError(error: unknown): { status: string; message: string } {
  if (isAxiosError(error)) {
    if (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT') {
      return { status: 'timeout', message: `request timed out (${error.code})` };
    }
    // Only the code and the message: an AxiosError also carries the request config and its signed headers.
    return { status: 'network', message: `network error (${error.code ?? 'unknown'}): ${error.message}` };
  }
  return { status: 'network', message: error instanceof Error ? error.message : String(error) };
}
