import { Direction } from '@app/scaling-policy';

import { AlertDto, AlertGroupPayloadDto } from './dto/alert-group-payload.dto';
import { GrafanaLegacyPayloadDto } from './dto/grafana-legacy-payload.dto';

/** Payload -> signal changes, as a pure function. */

export interface SignalChange {
  direction: Direction;
  action: 'record' | 'clear';
  /** The alert's name, for people. */
  alert: string;
  /** The alert's identity: its fingerprint, else its label set; a resolved alert clears only this identity. */
  id: string;
  /** The pool utilisation (0..1) the notification carried, if it carried one that can be told apart. */
  value: number | null;
}

export interface IgnoredAlert {
  alert: string;
  reason: string;
}

export interface SignalMapping {
  changes: SignalChange[];
  ignored: IgnoredAlert[];
  /** Alerts whose direction could not be determined: the request is invalid. */
  undirected: string[];
  /**
   * The notification's group (Alertmanager/Grafana `groupKey`) and whether its list of alerts is whole: a whole list
   * of a group is every alert of the group still firing; a truncated one (`truncatedAlerts` > 0) is not.
   */
  group: { key: string; complete: boolean } | null;
}

export type ParsedPayload =
  | { kind: 'alert-group'; payload: AlertGroupPayloadDto }
  | { kind: 'grafana-legacy'; payload: GrafanaLegacyPayloadDto };

export const DIRECTION_LABEL = 'autoscale';
/** An alert labelled autoscale_policy=<name> is acted on only by that policy (e.g. the early scale-in rule). */
export const POLICY_LABEL = 'autoscale_policy';

function asDirection(value: string | undefined): Direction | undefined {
  const v = value?.trim().toLowerCase();
  return v === 'up' || v === 'down' ? v : undefined;
}

/** A utilisation must be a fraction; anything else (a byte count, a percentage) is not used for sizing. */
function asUtilisation(value: unknown): number | null {
  const n = typeof value === 'string' ? (value.trim() === '' ? NaN : Number(value)) : value;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 && n <= 1 ? n : null;
}

/** The one value all candidates agree on (within rounding), or null when there is none or they disagree. */
function agreed(candidates: (number | null)[]): number | null {
  const values = candidates.filter((v): v is number => v !== null);
  if (values.length === 0) return null;
  return values.every((v) => Math.abs(v - values[0]) < 1e-9) ? values[0] : null;
}

/** Grafana expression types that hold a measurement; the others (threshold, math, classic_conditions) a condition. */
const DATA_EXPRESSIONS = new Set(['query', 'reduce', 'resample']);

/** `var` -> `type` from a Grafana `valueString` (`[ var='A' labels={} type='query' value=0.62 ], ...`), if typed. */
function expressionTypes(valueString: unknown): Map<string, string> {
  const types = new Map<string, string>();
  if (typeof valueString !== 'string') return types;
  for (const part of valueString.split(/\]\s*,\s*\[/)) {
    const v = /var='([^']*)'/.exec(part);
    const t = /type='([^']*)'/.exec(part);
    if (v && t) types.set(v[1], t[1].toLowerCase());
  }
  return types;
}

/**
 * The utilisation an alert carries, never a condition's result: the annotation `value` (the shipped Prometheus
 * and Grafana rules set it); else, from Grafana's `values` (one entry per rule expression), the data expressions
 * (query/reduce, as typed in `valueString`) or, untyped, the entries that are not a condition's 0 or 1. Candidates
 * that disagree cannot be told apart: null, and the policy falls back to one step.
 */
export function alertUtilisation(a: Pick<AlertDto, 'annotations' | 'values' | 'valueString'>): number | null {
  const annotated = asUtilisation(a.annotations?.value);
  if (annotated !== null) return annotated;
  const values = a.values;
  if (!values || typeof values !== 'object') return null;
  const entries = Object.entries(values);
  const types = expressionTypes(a.valueString);
  const typed = entries.filter(([ref]) => types.has(ref));
  if (typed.length > 0) {
    const data = typed.filter(([ref]) => DATA_EXPRESSIONS.has(types.get(ref)!));
    const reduced = data.filter(([ref]) => types.get(ref) === 'reduce');
    return agreed((reduced.length > 0 ? reduced : data).map(([, v]) => asUtilisation(v)));
  }
  return agreed(entries.map(([, v]) => (v === 0 || v === 1 ? null : asUtilisation(v))));
}

/** Grafana's alerts for a rule that could not be evaluated: they carry the rule's labels, but no load. */
const MISSING_DATA_ALERTS = new Set(['DatasourceNoData', 'DatasourceError']);

/** Why an alert says nothing about load (missing data, a failed query), or null when it may. */
function missingData(a: AlertDto): string | null {
  const name = a.labels.alertname;
  if (name && MISSING_DATA_ALERTS.has(name)) return `${name}: missing data is not load`;
  // Grafana 10+ marks an instance whose state came from no data or an error (rules set to Alerting on those).
  const stateReason = a.annotations?.grafana_state_reason ?? '';
  const reason = stateReason.split(/[\s,]+/).find((r) => /^(nodata|error)$/i.test(r));
  if (a.status === 'firing' && reason)
    return `fired on ${reason} (grafana_state_reason ${JSON.stringify(stateReason)}): missing data is not load`;
  // A rule whose execution-error state is Alerting fires with the error in the annotation `Error`.
  const error = a.annotations?.Error;
  if (a.status === 'firing' && typeof error === 'string' && error.trim() !== '')
    return `fired on a query error (annotation Error: ${JSON.stringify(error.slice(0, 200))}): missing data is not load`;
  return null;
}

/** An alert's identity: its fingerprint (Alertmanager and Grafana: a hash of the label set), else its labels. */
export function alertIdentity(a: Pick<AlertDto, 'labels' | 'fingerprint'>): string {
  if (typeof a.fingerprint === 'string' && a.fingerprint.trim() !== '') return a.fingerprint.trim();
  const labels = Object.keys(a.labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(a.labels[k])}`)
    .join(',');
  return `{${labels}}`;
}

/** `fixed` is the direction given by the path (/up, /down) or `?direction=`; otherwise each alert's label decides. */
export function mapPayloadToSignals(
  parsed: ParsedPayload,
  fixed: Direction | undefined,
  policy?: string,
): SignalMapping {
  const result: SignalMapping = { changes: [], ignored: [], undirected: [], group: null };
  if (parsed.kind === 'grafana-legacy') {
    const p = parsed.payload;
    const alert = p.ruleName ?? p.title ?? 'legacy alert';
    if (p.ruleId === 0 || /test notification/i.test(p.title ?? '')) {
      result.ignored.push({ alert, reason: 'test notification' });
      return result;
    }
    if (p.state !== 'alerting' && p.state !== 'ok') {
      result.ignored.push({ alert, reason: `state ${p.state} is not a scaling signal` });
      return result;
    }
    const matches = (p.evalMatches ?? []).filter((m) => m.value !== null && m.value !== undefined);
    if (p.state === 'alerting' && matches.length === 0) {
      // Grafana sends this when the panel has no data and the rule's no-data option is Alerting.
      result.ignored.push({ alert, reason: 'alerting with no evalMatches values: missing data is not load' });
      return result;
    }
    const direction = fixed ?? asDirection(p.tags?.[DIRECTION_LABEL] ?? undefined);
    if (!direction) result.undirected.push(alert);
    else
      result.changes.push({
        direction,
        action: p.state === 'alerting' ? 'record' : 'clear',
        alert,
        id: `rule:${p.ruleId ?? p.ruleName ?? p.title ?? 'legacy'}`,
        value: agreed(matches.map((m) => asUtilisation(m.value))),
      });
    return result;
  }

  const p = parsed.payload;
  if (p.groupKey) result.group = { key: p.groupKey, complete: !(p.truncatedAlerts && p.truncatedAlerts > 0) };
  if (p.alerts.length === 0) {
    result.ignored.push({ alert: p.groupKey ?? 'notification', reason: 'no alerts in the notification' });
  }
  for (const a of p.alerts) {
    const alert = a.labels.alertname ?? a.fingerprint ?? 'alert';
    if (a.labels.alertname === 'TestAlert') {
      result.ignored.push({ alert, reason: 'test notification' });
      continue;
    }
    const missing = missingData(a);
    if (missing) {
      result.ignored.push({ alert, reason: missing });
      continue;
    }
    const scope = a.labels[POLICY_LABEL];
    if (policy && scope && scope !== policy) {
      result.ignored.push({ alert, reason: `for the ${scope} policy only (SCALING_POLICY is ${policy})` });
      continue;
    }
    const direction = fixed ?? asDirection(a.labels[DIRECTION_LABEL] ?? p.commonLabels?.[DIRECTION_LABEL]);
    if (!direction) {
      result.undirected.push(alert);
      continue;
    }
    result.changes.push({
      direction,
      action: a.status === 'firing' ? 'record' : 'clear',
      alert,
      id: alertIdentity(a),
      value: alertUtilisation(a),
    });
  }
  return result;
}
