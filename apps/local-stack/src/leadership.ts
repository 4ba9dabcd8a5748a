import { StackControlPlane } from './timings';

/** A replica's `GET /leadership` answer (docs/architecture.md). */
export interface Leadership {
  role: 'leader' | 'follower';
  holder: string | null;
  epoch: number | null;
  leaseExpiresAt: string | null;
}

/** One control plane's answer, or why there is none. */
export type LeadershipAnswer = { cp: StackControlPlane; leadership?: Leadership; error?: string };

export async function readLeadership(cp: StackControlPlane): Promise<LeadershipAnswer> {
  try {
    const res = await fetch(`${cp.url}/leadership`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return { cp, error: `answered ${res.status}` };
    return { cp, leadership: (await res.json()) as Leadership };
  } catch (error) {
    return { cp, error: (error as Error).message };
  }
}

/**
 * What is wrong with the replicas' answers taken together: none, or not exactly one leader, or replicas that
 * disagree on the holder or the epoch. Empty: one leader, and every replica names it with the same epoch.
 */
export function leadershipProblems(answers: LeadershipAnswer[]): string[] {
  const problems = answers.filter((a) => !a.leadership).map((a) => `${a.cp.replicaId}: ${a.error}`);
  const known = answers.filter((a): a is Required<LeadershipAnswer> => a.leadership !== undefined);
  const leaders = known.filter((a) => a.leadership.role === 'leader');
  if (leaders.length !== 1)
    problems.push(
      leaders.length === 0
        ? 'no replica leads'
        : `${leaders.length} replicas say they lead (${leaders.map((a) => a.cp.replicaId).join(', ')})`,
    );
  const views = new Set(known.map((a) => `${a.leadership.holder}@${a.leadership.epoch}`));
  if (views.size > 1)
    problems.push(
      `the replicas disagree: ${known.map((a) => `${a.cp.replicaId} sees ${a.leadership.holder} at epoch ${a.leadership.epoch}`).join(', ')}`,
    );
  if (leaders.length === 1 && leaders[0].leadership.holder !== leaders[0].cp.replicaId)
    problems.push(
      `${leaders[0].cp.replicaId} leads but the lease names ${leaders[0].leadership.holder ?? 'nobody'}`,
    );
  return problems;
}

/** One line per replica: its URL and what it answered. */
export function describeLeadership(answer: LeadershipAnswer, now = Date.now()): string {
  const head = `${answer.cp.replicaId ?? answer.cp.name}  ${answer.cp.url}/leadership`;
  if (!answer.leadership) return `${head}  no answer (${answer.error})`;
  const { role, holder, epoch, leaseExpiresAt } = answer.leadership;
  const left = leaseExpiresAt ? (Date.parse(leaseExpiresAt) - now) / 1000 : NaN;
  return (
    `${head}  ${role}, holder ${holder ?? '-'}, epoch ${epoch ?? '-'}` +
    (Number.isFinite(left) ? `, lease ${left >= 0 ? `${left.toFixed(1)} s left` : 'expired'}` : '')
  );
}

/** Polls every replica until exactly one leads and all agree, or the timeout passes; the last answers either way. */
export async function awaitLeader(
  controlPlanes: StackControlPlane[],
  timeoutMs: number,
  intervalMs = 250,
): Promise<{ answers: LeadershipAnswer[]; problems: string[] }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answers = await Promise.all(controlPlanes.map(readLeadership));
    const problems = leadershipProblems(answers);
    if (problems.length === 0 || Date.now() >= deadline) return { answers, problems };
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
