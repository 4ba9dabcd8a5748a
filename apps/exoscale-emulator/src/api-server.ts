import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

import { verifySignedRequest } from '@app/exoscale-client';

import { FaultInjector, FaultRule } from './faults';
import {
  EmulatedInstance,
  EmulatedLoadBalancer,
  EmulatedOperation,
  EmulatedPool,
  EmulatedZone,
  ZoneConflictError,
  ZoneNotFoundError,
} from './zone';

/** The API v2 subset served by the emulator: real paths, kebab-case JSON, EXO2-HMAC-SHA256 checked on every call. */

export interface ApiServerOptions {
  zone: EmulatedZone;
  /** API keys the server accepts, with their secrets. */
  credentials: Record<string, string>;
  /** Largest request body accepted (default 1 MiB). */
  maxBodyBytes?: number;
  /**
   * How far the API server's clock is ahead of this host's (ms, negative: behind): signatures are checked against
   * that clock and the `Date` header tells it, as a real API server whose clock differs from its client's.
   */
  clockOffsetMs?: number;
  /** Unsigned control endpoints under `/_emulator/` (loopback only): state, fault injection. */
  admin?: (request: {
    method: string;
    path: string;
    body: unknown;
    query: URLSearchParams;
  }) => { status: number; body: unknown } | Promise<{ status: number; body: unknown }>;
}

/** One API request (admin requests under `/_emulator/` are not recorded), in order of arrival. */
export interface RecordedRequest {
  operation: string;
  method: string;
  path: string;
  /** The answer's status; 0 while the answer is pending (or when the connection was dropped). */
  status: number;
  /** Arrival time (ms since the epoch). */
  at: number;
  /** The request's `User-Agent` header ('' when absent): the control plane's leader sends `... epoch/<n>`. */
  userAgent: string;
}

type Route = {
  method: string;
  pattern: RegExp;
  operation: string;
  handle: (match: RegExpMatchArray, body: unknown, query: URLSearchParams) => unknown;
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const UUID = '([0-9a-fA-F-]{1,64})';

export class EmulatorApiServer {
  readonly faults = new FaultInjector();
  readonly requests: RecordedRequest[] = [];
  /** The server clock's offset from this host's (ms); changeable at run time. */
  clockOffsetMs: number;
  private server?: Server;
  private readonly routes: Route[];

  constructor(private readonly options: ApiServerOptions) {
    this.clockOffsetMs = options.clockOffsetMs ?? 0;
    const zone = options.zone;
    this.routes = [
      {
        method: 'GET',
        pattern: /^\/v2\/zone$/,
        operation: 'list-zones',
        handle: () => ({ zones: [{ name: zone.name, 'api-endpoint': '', 'sos-endpoint': '' }] }),
      },
      {
        method: 'GET',
        pattern: /^\/v2\/instance-pool$/,
        operation: 'list-instance-pools',
        handle: () => ({ 'instance-pools': [...zone.pools.values()].map((p) => this.poolJson(p)) }),
      },
      {
        method: 'GET',
        pattern: new RegExp(`^/v2/instance-pool/${UUID}$`),
        operation: 'get-instance-pool',
        handle: (m) => this.poolJson(this.find(() => zone.getPool(m[1]))),
      },
      {
        method: 'PUT',
        pattern: new RegExp(`^/v2/instance-pool/${UUID}:scale$`),
        operation: 'scale-instance-pool',
        handle: (m, body) => {
          const size = (body as { size?: unknown } | undefined)?.size;
          if (typeof size !== 'number' || !Number.isInteger(size) || size < 0)
            throw new HttpError(400, 'size: must be an integer >= 0');
          return this.operationJson(this.find(() => zone.scale(m[1], size)));
        },
      },
      {
        method: 'PUT',
        pattern: new RegExp(`^/v2/instance-pool/${UUID}:evict$`),
        operation: 'evict-instance-pool-members',
        handle: (m, body) => {
          const ids = (body as { instances?: unknown } | undefined)?.instances;
          if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string')) {
            throw new HttpError(400, 'instances: must be a non-empty array of instance ids');
          }
          return this.operationJson(this.find(() => zone.evict(m[1], ids as string[])));
        },
      },
      {
        method: 'GET',
        pattern: /^\/v2\/instance$/,
        operation: 'list-instances',
        handle: (_m, _b, query) => {
          const managerId = query.get('manager-id');
          const list = managerId
            ? zone.members(managerId)
            : [...zone.instances.values()].filter((i) => i.state !== 'destroyed');
          return { instances: list.map((i) => this.instanceJson(i)) };
        },
      },
      {
        method: 'GET',
        pattern: new RegExp(`^/v2/instance/${UUID}$`),
        operation: 'get-instance',
        handle: (m) => {
          const instance = zone.instances.get(m[1]);
          if (!instance) throw new HttpError(404, `instance ${m[1]} not found`);
          return this.instanceJson(instance);
        },
      },
      {
        method: 'GET',
        pattern: new RegExp(`^/v2/operation/${UUID}$`),
        operation: 'get-operation',
        handle: (m) => {
          const op = zone.operations.get(m[1]);
          if (!op) throw new HttpError(404, `operation ${m[1]} not found`);
          return this.operationJson(op);
        },
      },
      {
        method: 'GET',
        pattern: /^\/v2\/quota\/([a-z-]+)$/,
        operation: 'get-quota',
        handle: (m) => {
          if (m[1] !== 'instance') throw new HttpError(404, `quota ${m[1]} not found`);
          return zone.instanceQuota();
        },
      },
      {
        method: 'GET',
        pattern: /^\/v2\/load-balancer$/,
        operation: 'list-load-balancers',
        handle: () => ({
          'load-balancers': [...zone.loadBalancers.values()].map((lb) => this.loadBalancerJson(lb)),
        }),
      },
      {
        method: 'GET',
        pattern: new RegExp(`^/v2/load-balancer/${UUID}$`),
        operation: 'get-load-balancer',
        handle: (m) => {
          const lb = zone.loadBalancers.get(m[1]);
          if (!lb) throw new HttpError(404, `load balancer ${m[1]} not found`);
          return this.loadBalancerJson(lb);
        },
      },
    ];
  }

  get zone(): EmulatedZone {
    return this.options.zone;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    return `http://${host}:${address.port}/v2`;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  injectFault(rule: FaultRule): void {
    this.faults.add(rule);
  }

  count(operation: string): number {
    return this.requests.filter((r) => r.operation === operation).length;
  }

  private find<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof ZoneNotFoundError) throw new HttpError(404, error.message);
      if (error instanceof ZoneConflictError) throw new HttpError(409, error.message);
      throw error;
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q === -1 ? target : target.slice(0, q);
    const rawQuery = q === -1 ? '' : target.slice(q + 1);
    const method = req.method ?? 'GET';
    const route = this.routes.find((r) => r.method === method && r.pattern.test(path));
    const operation = route?.operation ?? 'unknown';
    // Recorded on arrival, so a request whose answer is still delayed is counted too; admin calls are not API calls.
    const record: RecordedRequest = {
      operation,
      method,
      path,
      status: 0,
      at: Date.now(),
      userAgent: req.headers['user-agent'] ?? '',
    };
    if (!path.startsWith('/_emulator/')) this.requests.push(record);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
      res.writeHead(status, {
        Date: new Date(Date.now() + this.clockOffsetMs).toUTCString(),
        'Content-Type': typeof payload === 'string' ? 'text/plain' : 'application/json',
        ...headers,
      });
      res.end(text);
    };

    let raw: string;
    try {
      raw = await readBody(req, this.options.maxBodyBytes ?? 1024 * 1024);
    } catch {
      return send(413, { message: 'request body too large' });
    }
    if (path.startsWith('/_emulator/') && this.options.admin) {
      let body: unknown;
      try {
        body = raw === '' ? undefined : JSON.parse(raw);
      } catch {
        return send(400, { message: 'request body is not valid JSON' });
      }
      try {
        const answer = await this.options.admin({ method, path, body, query: new URLSearchParams(rawQuery) });
        return send(answer.status, answer.body);
      } catch (error) {
        return send(500, { message: error instanceof Error ? error.message : String(error) });
      }
    }
    if (!route) return send(404, { message: `no such endpoint: ${method} ${path}` });

    if (operation !== 'list-zones') {
      const check = verifySignedRequest(
        { method, path, rawQuery, body: raw, authorization: req.headers.authorization },
        (key) => this.options.credentials[key],
        Math.floor((Date.now() + this.clockOffsetMs) / 1000),
      );
      if (!check.ok) return send(403, { message: check.reason });
    }

    const fault = this.faults.take(operation);
    const serve = (): { status: number; body: unknown } => {
      let body: unknown;
      if (raw !== '') {
        try {
          body = JSON.parse(raw);
        } catch {
          return { status: 400, body: { message: 'request body is not valid JSON' } };
        }
      }
      try {
        return {
          status: 200,
          body: route.handle(path.match(route.pattern)!, body, new URLSearchParams(rawQuery)),
        };
      } catch (error) {
        if (error instanceof HttpError) return { status: error.status, body: { message: error.message } };
        return { status: 500, body: { message: 'internal emulator error' } };
      }
    };
    // A lost answer: the change is applied, the caller never learns it.
    const served = fault?.afterApply ? serve() : null;
    fault?.arrived?.();
    if (fault?.hold) {
      if (fault.closed) req.socket.once('close', fault.closed);
      await fault.hold;
      // A caller killed meanwhile took its connection along: the request (unless applied above) goes no further.
      if (req.socket.destroyed) return;
    }
    if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (fault?.dropConnection) {
      req.socket.destroy();
      return;
    }
    if (fault?.status) {
      return send(
        fault.status,
        fault.body ?? { message: 'injected fault' },
        fault.retryAfter ? { 'Retry-After': fault.retryAfter } : {},
      );
    }
    const answer = served ?? serve();
    send(answer.status, answer.body);
  }

  private poolJson(pool: EmulatedPool): Record<string, unknown> {
    return {
      id: pool.id,
      name: pool.name,
      description: pool.description,
      size: pool.shownSize ?? pool.size,
      state: pool.state,
      'instance-prefix': pool.instancePrefix,
      'disk-size': 10,
      'instance-type': { id: STANDARD_MICRO.id },
      template: { id: TEMPLATE_ID },
      'security-groups': [],
      instances: pool.instanceIds.map((id) => ({ id })),
      labels: pool.labels,
      'anti-affinity-groups': pool.antiAffinityGroupIds.map((id) => ({ id })),
    };
  }

  private instanceJson(instance: EmulatedInstance): Record<string, unknown> {
    return {
      id: instance.id,
      name: instance.name,
      state: instance.state,
      'public-ip': instance.publicIp,
      'public-ip-assignment': 'inet4',
      'created-at': instance.createdAt,
      manager: { id: instance.poolId, type: 'instance-pool' },
      'instance-type': STANDARD_MICRO,
      template: { id: TEMPLATE_ID },
      labels: {},
    };
  }

  private operationJson(op: EmulatedOperation): Record<string, unknown> {
    return {
      id: op.id,
      state: op.state,
      ...(op.reason ? { reason: op.reason } : {}),
      ...(op.message ? { message: op.message } : {}),
      reference: { id: op.referenceId, link: `/v2/instance-pool/${op.referenceId}`, command: op.command },
    };
  }

  private loadBalancerJson(lb: EmulatedLoadBalancer): Record<string, unknown> {
    const members = this.zone
      .members(lb.service.poolId)
      .filter((m) => m.state === 'running' || m.state === 'starting');
    const hc = lb.service.healthcheck;
    return {
      id: lb.id,
      name: lb.name,
      ip: lb.ip,
      state: 'running',
      'created-at': new Date(0).toISOString(),
      labels: {},
      services: [
        {
          id: lb.service.id,
          name: lb.service.name,
          protocol: 'tcp',
          port: lb.service.port,
          'target-port': lb.service.targetPort,
          strategy: 'round-robin',
          state: 'running',
          'instance-pool': { id: lb.service.poolId },
          healthcheck: {
            mode: hc.mode,
            port: hc.port,
            uri: hc.uri,
            interval: hc.interval,
            timeout: hc.timeout,
            retries: hc.retries,
          },
          'healthcheck-status': members.map((m) => ({
            'public-ip': m.publicIp,
            status: this.zone.healthOf(m.publicIp),
          })),
        },
      ],
    };
  }
}

const TEMPLATE_ID = '6d6e4a4f-0000-4000-8000-000000000001';
const STANDARD_MICRO = {
  id: 'b6cd1ff5-3a2f-4e9d-a4d1-8988c1191fe8',
  family: 'standard',
  size: 'micro',
  cpus: 1,
  memory: 536870912,
  authorized: true,
};

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    req.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        reject(new Error('too large'));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
