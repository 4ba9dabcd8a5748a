/** Prometheus file_sd model: `[{"targets": ["host:port", ...], "labels": {"name": "value"}}]`. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

export class InvalidTargetGroupError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid service discovery target groups: ${problems.join('; ')}`);
  }
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const IPV6 = /^\[[0-9a-fA-F:.]+\]$/;

/** Whether a target is `host:port` (IPv4, DNS name or bracketed IPv6) with a port in 1..65535. */
export function isValidTarget(target: string): boolean {
  const colon = target.lastIndexOf(':');
  if (colon <= 0) return false;
  const host = target.slice(0, colon);
  const port = target.slice(colon + 1);
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return false;
  return HOST.test(host) || IPV6.test(host);
}

/** Lists every problem of a set of target groups; empty when valid. */
export function targetGroupProblems(groups: readonly TargetGroup[]): string[] {
  const problems: string[] = [];
  groups.forEach((group, i) => {
    if (!Array.isArray(group.targets)) {
      problems.push(`group ${i}: targets must be an array`);
    } else {
      for (const target of group.targets) {
        if (typeof target !== 'string' || !isValidTarget(target)) {
          problems.push(`group ${i}: target ${JSON.stringify(target)} is not host:port`);
        }
      }
    }
    for (const [name, value] of Object.entries(group.labels ?? {})) {
      if (!LABEL_NAME.test(name)) problems.push(`group ${i}: label name ${JSON.stringify(name)} is invalid`);
      else if (name.startsWith('__')) problems.push(`group ${i}: label name ${name} is reserved`);
      if (typeof value !== 'string') problems.push(`group ${i}: label ${name} must have a string value`);
    }
  });
  return problems;
}

export function validateTargetGroups(groups: readonly TargetGroup[]): void {
  const problems = targetGroupProblems(groups);
  if (problems.length > 0) throw new InvalidTargetGroupError(problems);
}

function sortedLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Renders target groups deterministically: targets sorted and de-duplicated, labels sorted by name,
 * groups sorted by their rendering. The same set always gives the same bytes, so "changed" is a byte compare.
 */
export function renderTargetGroups(groups: readonly TargetGroup[]): string {
  validateTargetGroups(groups);
  const normalised = groups
    .map((g) => ({ targets: [...new Set(g.targets)].sort(), labels: sortedLabels(g.labels ?? {}) }))
    .map((g) => ({ g, key: JSON.stringify(g) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ g }) => g);
  return `${JSON.stringify(normalised, null, 2)}\n`;
}
