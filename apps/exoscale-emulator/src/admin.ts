import { FaultRule } from './faults';
import { Fleet } from './fleet';
import { ProcessRuntime } from './process-runtime';
import type { EmulatorApiServer } from './api-server';

type Answer = { status: number; body: unknown };

/** At most this many virtual pools per request, and members per virtual pool. */
const MAX_VIRTUAL_POOLS = 10000;
const MAX_VIRTUAL_SIZE = 100;

const isUtilisation = (u: unknown): u is number => typeof u === 'number' && u >= 0 && u <= 1;

/**
 * Control endpoints of the emulator (not part of the Exoscale API):
 *   GET    /_emulator/state                      pools, members (pid, health), load balancer routing
 *   GET    /_emulator/pools                      every pool in one line each: id, name, size, state, virtual, nlb
 *   POST   /_emulator/pools                      {"count": N, "size": M, "prefix"?: "bench"}: N virtual pools of M
 *                                                members (API objects only), ids derived from the first pool's;
 *                                                answers 201 with their summaries, in creation order
 *   POST   /_emulator/pools/{id}/utilisation     {"utilisation": 0..1}: a virtual pool's members' CPU, new ones too
 *   POST   /_emulator/members/{id}/utilisation   {"utilisation": 0..1}: one virtual member's CPU
 *   GET    /_emulator/members/{id}/metrics       a virtual member's node_cpu_seconds_total (text)
 *   POST   /_emulator/faults                     inject an API fault (see FaultRule)
 *   DELETE /_emulator/faults                     remove all injected faults
 *   POST   /_emulator/members/{id}/crash         kill a member's process, or end a virtual one (the pool replaces it)
 *   POST   /_emulator/members/{id}/health        {"healthy": false|true}: make its /health (or virtual health) fail
 *   POST   /_emulator/members/{id}/hang|resume   stop (SIGSTOP) or resume its process: it lives but answers nothing
 *   POST   /_emulator/members/{id}/state         {"state": "error"|"stopped"|"running"}: its instance state in the API
 *   POST   /_emulator/quota                      {"instance": N}: the organisation's instance quota (-1: unlimited)
 *   GET    /_emulator/requests[?operation=OP][&since=MS]
 *                                                the API call log in order of arrival: [{operation, method, path,
 *                                                status, at, userAgent}] (status 0: no answer yet); `operation` may
 *                                                be given more than once, `since` keeps calls that arrived at or after
 *                                                that time (ms since the epoch); admin calls are not in it
 */
export function adminHandler(deps: {
  fleet: Fleet;
  runtime: ProcessRuntime;
  api: () => EmulatorApiServer;
}): (request: {
  method: string;
  path: string;
  body: unknown;
  query?: URLSearchParams;
}) => Answer | Promise<Answer> {
  const { fleet } = deps;
  const zone = fleet.zone;
  const virtual = fleet.virtualMembers;
  return ({ method, path, body, query = new URLSearchParams() }) => {
    if (method === 'GET' && path === '/_emulator/requests') return requestLog(deps.api(), query);
    if (method === 'GET' && path === '/_emulator/state') {
      return {
        status: 200,
        body: {
          pools: [...zone.pools.values()].map((p) => ({
            ...fleet.summary(p),
            members: zone.members(p.id).map((m) => ({
              id: m.id,
              name: m.name,
              ip: m.publicIp,
              state: m.state,
              pid: deps.runtime.pidOf(m.id) ?? null,
              health: fleet.memberHealth(m.id),
              routedConnections: fleet.nlbOf(p.id)?.routed.get(m.publicIp) ?? 0,
              ...(p.virtual ? { utilisation: virtual.utilisation(m.id) } : {}),
            })),
          })),
        },
      };
    }
    if (path === '/_emulator/pools') {
      if (method === 'GET') return { status: 200, body: { pools: fleet.list() } };
      if (method === 'POST') return createVirtualPools(fleet, body);
    }
    const pool = /^\/_emulator\/pools\/([^/]+)\/utilisation$/.exec(path);
    if (pool && method === 'POST') {
      const found = zone.pools.get(pool[1]);
      if (!found) return { status: 404, body: { message: `pool ${pool[1]} not found` } };
      if (!found.virtual)
        return { status: 409, body: { message: `pool ${pool[1]} has processes: load it through its NLB` } };
      const utilisation = (body as { utilisation?: unknown } | undefined)?.utilisation;
      if (!isUtilisation(utilisation))
        return { status: 400, body: { message: 'utilisation must be a number from 0 to 1' } };
      virtual.setPoolUtilisation(found.id, utilisation);
      return { status: 200, body: { id: found.id, utilisation } };
    }
    const virtualMember = /^\/_emulator\/members\/([^/]+)\/(utilisation|metrics)$/.exec(path);
    if (virtualMember) {
      const [, id, action] = virtualMember;
      if (!virtual.has(id)) return { status: 404, body: { message: `virtual member ${id} not found` } };
      if (action === 'metrics' && method === 'GET') return { status: 200, body: virtual.metrics(id) };
      if (action === 'utilisation' && method === 'POST') {
        const utilisation = (body as { utilisation?: unknown } | undefined)?.utilisation;
        if (!isUtilisation(utilisation))
          return { status: 400, body: { message: 'utilisation must be a number from 0 to 1' } };
        virtual.setUtilisation(id, utilisation);
        return { status: 200, body: { id, utilisation } };
      }
    }
    if (path === '/_emulator/faults') {
      if (method === 'DELETE') {
        deps.api().faults.clear();
        return { status: 200, body: { cleared: true } };
      }
      if (method === 'POST') {
        if (typeof body !== 'object' || body === null)
          return { status: 400, body: { message: 'a FaultRule object is required' } };
        deps.api().injectFault(body as FaultRule);
        return { status: 201, body: { injected: body } };
      }
    }
    if (path === '/_emulator/quota' && method === 'POST') {
      const limit = (body as { instance?: unknown } | undefined)?.instance;
      if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < -1)
        return { status: 400, body: { message: 'instance must be an integer >= -1 (-1: unlimited)' } };
      zone.instanceQuotaLimit = limit;
      return { status: 200, body: zone.instanceQuota() };
    }
    const member = /^\/_emulator\/members\/([^/]+)\/(crash|health|hang|resume|state)$/.exec(path);
    if (member && method === 'POST') {
      const [, id, action] = member;
      if (!zone.instances.has(id)) return { status: 404, body: { message: `member ${id} not found` } };
      if (action === 'hang' || action === 'resume') {
        // The process lives on but answers nothing (SIGSTOP), as an app stuck in a loop or on a full disk would.
        return deps.runtime.signal(id, action === 'hang' ? 'SIGSTOP' : 'SIGCONT')
          ? { status: 202, body: { id, hung: action === 'hang' } }
          : { status: 409, body: { message: `member ${id} has no process` } };
      }
      if (action === 'state') {
        const state = (body as { state?: unknown } | undefined)?.state;
        if (state !== 'error' && state !== 'stopped' && state !== 'running')
          return { status: 400, body: { message: 'state must be error, stopped or running' } };
        zone.setMemberState(id, state);
        return { status: 202, body: { id, state } };
      }
      if (action === 'crash' && virtual.has(id)) {
        void virtual.stop(zone.instances.get(id)!);
        zone.memberDied(id);
        return { status: 202, body: { crashed: id } };
      }
      if (action === 'crash') {
        return deps.runtime.signal(id, 'SIGKILL')
          ? { status: 202, body: { crashed: id } }
          : { status: 409, body: { message: `member ${id} has no process` } };
      }
      const healthy = (body as { healthy?: unknown } | undefined)?.healthy;
      if (typeof healthy !== 'boolean')
        return { status: 400, body: { message: 'healthy must be true or false' } };
      if (virtual.has(id)) virtual.setHealthy(id, healthy);
      else deps.runtime.signal(id, healthy ? 'SIGUSR2' : 'SIGUSR1');
      return { status: 202, body: { id, healthy } };
    }
    return { status: 404, body: { message: `no such emulator endpoint: ${method} ${path}` } };
  };
}

function requestLog(api: EmulatorApiServer, query: URLSearchParams): Answer {
  const operations = query.getAll('operation');
  const rawSince = query.get('since');
  const since = rawSince === null ? 0 : Number(rawSince);
  if (rawSince !== null && (rawSince.trim() === '' || !Number.isFinite(since)))
    return { status: 400, body: { message: 'since must be a time in ms since the epoch' } };
  const calls = api.requests
    .filter((r) => (operations.length === 0 || operations.includes(r.operation)) && r.at >= since)
    .map(({ operation, method, path, status, at, userAgent }) => ({
      operation,
      method,
      path,
      status,
      at,
      userAgent,
    }));
  return { status: 200, body: calls };
}

async function createVirtualPools(fleet: Fleet, body: unknown): Promise<Answer> {
  const { count, size, prefix } = (body ?? {}) as { count?: unknown; size?: unknown; prefix?: unknown };
  const whole = (v: unknown, max: number) =>
    typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
  if (!whole(count, MAX_VIRTUAL_POOLS) || (count as number) < 1)
    return { status: 400, body: { message: `count must be a whole number from 1 to ${MAX_VIRTUAL_POOLS}` } };
  if (size !== undefined && !whole(size, MAX_VIRTUAL_SIZE))
    return { status: 400, body: { message: `size must be a whole number from 0 to ${MAX_VIRTUAL_SIZE}` } };
  if (prefix !== undefined && (typeof prefix !== 'string' || !/^[a-z0-9-]{1,40}$/.test(prefix)))
    return { status: 400, body: { message: 'prefix must be a name of [a-z0-9-], at most 40 characters' } };
  const pools = await fleet.addVirtualPools(
    count as number,
    (size as number | undefined) ?? 2,
    prefix as string,
  );
  return { status: 201, body: { pools: pools.map((p) => fleet.summary(p)) } };
}
