/** Domain types (camelCase) of the Exoscale API v2 objects this project uses, and their mapping from the wire. */

export type InstancePoolState =
  'creating' | 'destroying' | 'running' | 'scaling-down' | 'scaling-up' | 'suspended' | 'updating';

export type InstanceState =
  | 'destroyed'
  | 'destroying'
  | 'error'
  | 'expunging'
  | 'migrating'
  | 'running'
  | 'starting'
  | 'stopped'
  | 'stopping';

export type OperationState = 'pending' | 'success' | 'failure' | 'timeout';

export interface ResourceRef {
  id: string;
}

export interface InstancePool {
  id: string;
  name: string;
  description?: string;
  size: number;
  /** Kept as a string: the API may add states; the known ones are {@link InstancePoolState}. */
  state: InstancePoolState | string;
  instanceIds: string[];
  instancePrefix?: string;
  instanceTypeId?: string;
  templateId?: string;
  labels: Record<string, string>;
  /** The pool's anti-affinity groups (every member joins each; a group holds at most 8 instances). */
  antiAffinityGroupIds: string[];
}

/** An organisation quota (`get-quota`): `limit` -1 means unlimited. */
export interface Quota {
  resource: string;
  usage: number;
  limit: number;
}

export interface InstanceType {
  id: string;
  family?: string;
  size?: string;
  cpus?: number;
  memory?: number;
}

export interface Instance {
  id: string;
  name: string;
  state: InstanceState | string;
  /** Null when the instance has no public IPv4 (the field is absent or null on the wire). */
  publicIp: string | null;
  ipv6Address?: string;
  manager?: { id: string; type: string };
  instanceType?: InstanceType;
  createdAt?: string;
  labels: Record<string, string>;
}

export interface Operation {
  id: string;
  state: OperationState | string;
  reason?: string;
  message?: string;
  reference?: { id?: string; link?: string; command?: string };
}

export interface HealthcheckStatus {
  publicIp: string;
  status: 'success' | 'failure' | string;
}

export interface LoadBalancerService {
  id: string;
  name: string;
  protocol?: string;
  port?: number;
  targetPort?: number;
  strategy?: string;
  state?: string;
  instancePoolId?: string;
  healthcheck?: {
    mode?: string;
    port?: number;
    uri?: string;
    interval?: number;
    timeout?: number;
    retries?: number;
  };
  healthcheckStatus: HealthcheckStatus[];
}

export interface LoadBalancer {
  id: string;
  name: string;
  ip: string | null;
  state?: string;
  services: LoadBalancerService[];
}

/** Thrown by the mappers when a 200 answer lacks what the schema requires. */
export class MalformedResponseError extends Error {}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireObject(value: unknown, what: string): Json {
  if (!isObject(value)) throw new MalformedResponseError(`${what} is not an object`);
  return value;
}

function requireString(obj: Json, key: string, what: string): string {
  const value = obj[key];
  if (typeof value !== 'string' || value === '')
    throw new MalformedResponseError(`${what}.${key} is missing`);
  return value;
}

function optionalString(obj: Json, key: string): string | undefined {
  const value = obj[key];
  return typeof value === 'string' ? value : undefined;
}

function optionalNumber(obj: Json, key: string): number | undefined {
  const value = obj[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function stringMap(value: unknown): Record<string, string> {
  if (!isObject(value)) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => typeof v === 'string')) as Record<
    string,
    string
  >;
}

function refId(value: unknown): string | undefined {
  return isObject(value) && typeof value.id === 'string' ? value.id : undefined;
}

function requireArray(obj: Json, key: string, what: string): unknown[] {
  const value = obj[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new MalformedResponseError(`${what}.${key} is not an array`);
  return value;
}

export function toInstancePool(wire: unknown): InstancePool {
  const obj = requireObject(wire, 'instance-pool');
  const size = obj.size;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
    throw new MalformedResponseError('instance-pool.size is not a non-negative integer');
  }
  return {
    id: requireString(obj, 'id', 'instance-pool'),
    name: optionalString(obj, 'name') ?? '',
    description: optionalString(obj, 'description'),
    size,
    state: requireString(obj, 'state', 'instance-pool'),
    instanceIds: requireArray(obj, 'instances', 'instance-pool')
      .map(refId)
      .filter((id): id is string => id !== undefined),
    instancePrefix: optionalString(obj, 'instance-prefix'),
    instanceTypeId: refId(obj['instance-type']),
    templateId: refId(obj.template),
    labels: stringMap(obj.labels),
    antiAffinityGroupIds: (Array.isArray(obj['anti-affinity-groups']) ? obj['anti-affinity-groups'] : [])
      .map(refId)
      .filter((id): id is string => id !== undefined),
  };
}

export function toQuota(wire: unknown): Quota {
  const obj = requireObject(wire, 'quota');
  const number = (key: string) => {
    const v = obj[key];
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new MalformedResponseError(`quota.${key} is not a number`);
    return v;
  };
  return {
    resource: requireString(obj, 'resource', 'quota'),
    usage: number('usage'),
    limit: number('limit'),
  };
}

export function toInstance(wire: unknown): Instance {
  const obj = requireObject(wire, 'instance');
  const manager = isObject(obj.manager) ? obj.manager : undefined;
  const type = isObject(obj['instance-type']) ? obj['instance-type'] : undefined;
  const publicIp = optionalString(obj, 'public-ip');
  return {
    id: requireString(obj, 'id', 'instance'),
    name: optionalString(obj, 'name') ?? '',
    state: requireString(obj, 'state', 'instance'),
    publicIp: publicIp ? publicIp : null,
    ipv6Address: optionalString(obj, 'ipv6-address'),
    manager:
      manager && typeof manager.id === 'string'
        ? { id: manager.id, type: typeof manager.type === 'string' ? manager.type : 'instance-pool' }
        : undefined,
    instanceType:
      type && typeof type.id === 'string'
        ? {
            id: type.id,
            family: optionalString(type, 'family'),
            size: optionalString(type, 'size'),
            cpus: optionalNumber(type, 'cpus'),
            memory: optionalNumber(type, 'memory'),
          }
        : undefined,
    createdAt: optionalString(obj, 'created-at'),
    labels: stringMap(obj.labels),
  };
}

export function toOperation(wire: unknown): Operation {
  const obj = requireObject(wire, 'operation');
  const reference = isObject(obj.reference) ? obj.reference : undefined;
  return {
    id: requireString(obj, 'id', 'operation'),
    state: requireString(obj, 'state', 'operation'),
    reason: optionalString(obj, 'reason'),
    message: optionalString(obj, 'message'),
    reference: reference
      ? {
          id: optionalString(reference, 'id'),
          link: optionalString(reference, 'link'),
          command: optionalString(reference, 'command'),
        }
      : undefined,
  };
}

function toLoadBalancerService(wire: unknown): LoadBalancerService {
  const obj = requireObject(wire, 'load-balancer-service');
  const hc = isObject(obj.healthcheck) ? obj.healthcheck : undefined;
  return {
    id: requireString(obj, 'id', 'load-balancer-service'),
    name: optionalString(obj, 'name') ?? '',
    protocol: optionalString(obj, 'protocol'),
    port: optionalNumber(obj, 'port'),
    targetPort: optionalNumber(obj, 'target-port'),
    strategy: optionalString(obj, 'strategy'),
    state: optionalString(obj, 'state'),
    instancePoolId: refId(obj['instance-pool']),
    healthcheck: hc
      ? {
          mode: optionalString(hc, 'mode'),
          port: optionalNumber(hc, 'port'),
          uri: optionalString(hc, 'uri'),
          interval: optionalNumber(hc, 'interval'),
          timeout: optionalNumber(hc, 'timeout'),
          retries: optionalNumber(hc, 'retries'),
        }
      : undefined,
    healthcheckStatus: requireArray(obj, 'healthcheck-status', 'load-balancer-service')
      .filter(isObject)
      .map((s) => ({
        publicIp: optionalString(s, 'public-ip') ?? '',
        status: optionalString(s, 'status') ?? '',
      })),
  };
}

export function toLoadBalancer(wire: unknown): LoadBalancer {
  const obj = requireObject(wire, 'load-balancer');
  return {
    id: requireString(obj, 'id', 'load-balancer'),
    name: optionalString(obj, 'name') ?? '',
    ip: optionalString(obj, 'ip') ?? null,
    state: optionalString(obj, 'state'),
    services: requireArray(obj, 'services', 'load-balancer').map(toLoadBalancerService),
  };
}

export function listOf<T>(wire: unknown, key: string, map: (item: unknown) => T): T[] {
  const obj = requireObject(wire, `${key} list`);
  return requireArray(obj, key, `${key} list`).map(map);
}
