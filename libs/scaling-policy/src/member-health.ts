import { Reason, ReasonCode } from './types';

/**
 * Health of pool members as the control plane judges it, and the choice of one member to replace, as pure
 * functions. The rules follow AWS Auto Scaling (grace period for new instances, ELB health), GCP autohealing
 * (initial delay), Cluster API's MachineHealthCheck (`maxUnhealthy` 40 %, `nodeStartupTimeout`) and
 * cluster-autoscaler (halt when too much looks unready); see shared/reference/next-capabilities.md §1.
 * Times are Unix seconds.
 */

export interface HealthSettings {
  /** `HEALTH_REPLACEMENT`: replace unhealthy members at all. */
  enabled: boolean;
  /** A member younger than this is never judged (at least the warm-up). Seconds. */
  graceSeconds: number;
  /** The load balancer must report `failure` on at least this many consecutive reads ... */
  failureReads: number;
  /** ... spanning at least this many seconds. */
  failureSeconds: number;
  /** A member still `starting` this long after its creation is unhealthy. Seconds. */
  startupTimeoutSeconds: number;
  /** Replace nothing when more than max(1, this fraction of the pool) is unhealthy (the check may be broken). */
  maxUnhealthyFraction: number;
}

export const DEFAULT_HEALTH_SETTINGS: HealthSettings = {
  enabled: true,
  graceSeconds: 300,
  failureReads: 3,
  failureSeconds: 30,
  startupTimeoutSeconds: 600,
  maxUnhealthyFraction: 0.4,
};

/** One member as observed: its instance state and the load balancer's consecutive reads for it. */
export interface MemberObservation {
  id: string;
  /** Creation time, when known. */
  createdAt: number | null;
  /** The instance's state (`running`, `starting`, `error`, `stopped`, ...). */
  state: string;
  /** Consecutive `failure` reads of the NLB health check, and when the first of them was read; null: no NLB data. */
  lb: { failures: number; failingSince: number | null } | null;
}

export type MemberHealth = 'healthy' | 'unhealthy' | 'grace' | 'unknown';

export interface MemberJudgement {
  id: string;
  health: MemberHealth;
  code: ReasonCode;
  text: string;
}

/** Judges one member: grace, then instance state, start-up timeout, then the load balancer's reads. */
export function judgeMember(m: MemberObservation, now: number, s: HealthSettings): MemberJudgement {
  const age = m.createdAt === null ? null : now - m.createdAt;
  const say = (health: MemberHealth, code: ReasonCode, text: string): MemberJudgement => ({
    id: m.id,
    health,
    code,
    text,
  });
  if (age !== null && age < s.graceSeconds)
    return say(
      'grace',
      'Warmup',
      `${Math.floor(age)} s old, within the ${s.graceSeconds} s grace period: not judged`,
    );
  if (m.state === 'error' || m.state === 'stopped')
    return say('unhealthy', 'Unhealthy', `instance state ${m.state}`);
  if (m.state === 'starting') {
    if (age !== null && age >= s.startupTimeoutSeconds)
      return say(
        'unhealthy',
        'Unhealthy',
        `still starting ${Math.floor(age)} s after its creation (start-up timeout ${s.startupTimeoutSeconds} s)`,
      );
    return say('unknown', 'Warmup', 'starting');
  }
  if (m.state !== 'running') return say('unknown', 'Unhealthy', `instance state ${m.state}: not judged`);
  if (m.lb === null) return say('unknown', 'Unhealthy', 'no load balancer health for it: not judged');
  const failingFor = m.lb.failingSince === null ? 0 : now - m.lb.failingSince;
  if (m.lb.failures >= s.failureReads && failingFor >= s.failureSeconds)
    return say(
      'unhealthy',
      'Unhealthy',
      `the load balancer's health check failed ${m.lb.failures} reads in a row over ${Math.floor(failingFor)} s`,
    );
  if (m.lb.failures > 0)
    return say(
      'healthy',
      'Unhealthy',
      `${m.lb.failures} failed health check read(s) over ${Math.floor(failingFor)} s: not yet unhealthy (${s.failureReads} reads over ${s.failureSeconds} s)`,
    );
  return say('healthy', 'NoSignal', 'the load balancer reports it healthy');
}

export interface ReplacementPlan {
  action: 'none' | 'replace';
  code: ReasonCode;
  /** The member to replace (the longest unhealthy first, by id for a stable order). */
  memberId: string | null;
  /** `launch-first`: scale +1, wait until the new member serves, then evict; `evict-first` at the maximum. */
  mode: 'launch-first' | 'evict-first' | null;
  reasons: Reason[];
}

/**
 * Chooses at most one member to replace. Guards: nothing while the pool is saturated (an overloaded member fails
 * its checks, and replacing it only moves the load: a cascade), nor when more than max(1, maxUnhealthyFraction x
 * size) members are unhealthy (the check itself may be broken).
 * @param judged every member's judgement
 * @param pool the pool's size and maximum (members)
 * @param saturated whether the pool's utilisation is at or above the saturation threshold
 */
export function planReplacement(
  judged: MemberJudgement[],
  pool: { size: number; max: number },
  saturated: boolean,
  s: HealthSettings,
): ReplacementPlan {
  const unhealthy = judged.filter((j) => j.health === 'unhealthy');
  const none = (code: ReasonCode, text: string): ReplacementPlan => ({
    action: 'none',
    code,
    memberId: null,
    mode: null,
    reasons: [{ code, text }],
  });
  if (unhealthy.length === 0) return none('NoSignal', 'every member judged is healthy');
  const list = unhealthy.map((u) => `${u.id} (${u.text})`).join('; ');
  if (!s.enabled) return none('Unhealthy', `unhealthy: ${list}; HEALTH_REPLACEMENT is off`);
  const allowed = Math.max(1, Math.floor(s.maxUnhealthyFraction * pool.size));
  if (unhealthy.length > allowed)
    return none(
      'HealthGuard',
      `${unhealthy.length} of ${pool.size} members are unhealthy, more than max(1, ${Math.round(s.maxUnhealthyFraction * 100)} %) = ${allowed}: the health check itself may be broken, nothing is replaced (${list})`,
    );
  if (saturated)
    return none(
      'HealthGuard',
      `the pool is saturated: an overloaded member fails its checks and replacing it would cascade; nothing is replaced (${list})`,
    );
  const target = [...unhealthy].sort((a, b) => a.id.localeCompare(b.id))[0];
  const mode = pool.size < pool.max ? 'launch-first' : 'evict-first';
  return {
    action: 'replace',
    code: 'Replace',
    memberId: target.id,
    mode,
    reasons: [
      {
        code: 'Replace',
        text:
          `replace ${target.id}: ${target.text}; ` +
          (mode === 'launch-first'
            ? 'launch a new member first, evict it once the new one serves'
            : `at the maximum (${pool.max}): evict it, then scale back`),
      },
    ],
  };
}

/**
 * The members a scale-in removes, in order: unhealthy first, then the newest (the least warm, and the last in),
 * then those of unknown age.
 * @param members the pool's members with their judgement and creation time
 * @param count how many to remove
 */
export function chooseVictims(
  members: { id: string; createdAt: number | null; health: MemberHealth }[],
  count: number,
): string[] {
  const rank = (m: (typeof members)[number]) => (m.health === 'unhealthy' ? 0 : 1);
  return [...members]
    .sort(
      (a, b) =>
        rank(a) - rank(b) ||
        (b.createdAt ?? -Infinity) - (a.createdAt ?? -Infinity) ||
        a.id.localeCompare(b.id),
    )
    .slice(0, Math.max(0, count))
    .map((m) => m.id);
}
