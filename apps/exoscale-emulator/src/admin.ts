import { FaultRule } from './faults';
import { LocalLoadBalancer } from './load-balancer';
import { ProcessRuntime } from './process-runtime';
import { EmulatedZone } from './zone';
import type { EmulatorApiServer } from './api-server';

type Answer = { status: number; body: unknown };

/**
 * Control endpoints of the emulator (not part of the Exoscale API):
 *   GET    /_emulator/state                      pools, members (pid, health), load balancer routing
 *   POST   /_emulator/faults                     inject an API fault (see FaultRule)
 *   DELETE /_emulator/faults                     remove all injected faults
 *   POST   /_emulator/members/{id}/crash         kill a member's process (the pool replaces it)
 *   POST   /_emulator/members/{id}/health        {"healthy": false|true}: make its /health fail or pass
 *   POST   /_emulator/members/{id}/hang|resume   stop (SIGSTOP) or resume its process: it lives but answers nothing
 *   POST   /_emulator/members/{id}/state         {"state": "error"|"stopped"|"running"}: its instance state in the API
 *   POST   /_emulator/quota                      {"instance": N}: the organisation's instance quota (-1: unlimited)
 */
export function adminHandler(deps: {
  zone: EmulatedZone;
  runtime: ProcessRuntime;
  nlb: LocalLoadBalancer;
  api: () => EmulatorApiServer;
}): (request: { method: string; path: string; body: unknown }) => Answer {
  return ({ method, path, body }) => {
    if (method === 'GET' && path === '/_emulator/state') {
      return {
        status: 200,
        body: {
          pools: [...deps.zone.pools.values()].map((p) => ({
            id: p.id,
            name: p.name,
            size: p.size,
            state: p.state,
            members: deps.zone.members(p.id).map((m) => ({
              id: m.id,
              name: m.name,
              ip: m.publicIp,
              state: m.state,
              pid: deps.runtime.pidOf(m.id) ?? null,
              health: deps.nlb.healthOf(m.publicIp),
              routedConnections: deps.nlb.routed.get(m.publicIp) ?? 0,
            })),
          })),
        },
      };
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
      deps.zone.instanceQuotaLimit = limit;
      return { status: 200, body: deps.zone.instanceQuota() };
    }
    const member = /^\/_emulator\/members\/([^/]+)\/(crash|health|hang|resume|state)$/.exec(path);
    if (member && method === 'POST') {
      const [, id, action] = member;
      if (!deps.zone.instances.has(id)) return { status: 404, body: { message: `member ${id} not found` } };
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
        deps.zone.setMemberState(id, state);
        return { status: 202, body: { id, state } };
      }
      if (action === 'crash') {
        return deps.runtime.signal(id, 'SIGKILL')
          ? { status: 202, body: { crashed: id } }
          : { status: 409, body: { message: `member ${id} has no process` } };
      }
      const healthy = (body as { healthy?: unknown } | undefined)?.healthy;
      if (typeof healthy !== 'boolean')
        return { status: 400, body: { message: 'healthy must be true or false' } };
      deps.runtime.signal(id, healthy ? 'SIGUSR2' : 'SIGUSR1');
      return { status: 202, body: { id, healthy } };
    }
    return { status: 404, body: { message: `no such emulator endpoint: ${method} ${path}` } };
  };
}
