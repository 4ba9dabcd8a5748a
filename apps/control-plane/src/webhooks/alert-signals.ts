import { Direction } from '@app/scaling-policy';

import { AlertDto, AlertGroupPayloadDto } from './dto/alert-group-payload.dto';
import { GrafanaLegacyPayloadDto } from './dto/grafana-legacy-payload.dto';

/** Payload -> signal changes, as a pure function. */

export interface SignalChange {
  direction: Direction;
  action: 'record' | 'clear';
  alert: string;
  /** The pool utilisation (0..1) the notification carried, if any. */
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

/**
 * The utilisation an alert carries: the annotation `value` (the shipped Prometheus and Grafana rules set it), else
 * Grafana's `values` of the reduce (B) or query (A) expression.
 */
export function alertUtilisation(a: Pick<AlertDto, 'annotations' | 'values'>): number | null {
  return (
    asUtilisation(a.annotations?.value) ?? asUtilisation(a.values?.B) ?? asUtilisation(a.values?.A) ?? null
  );
}

/** `fixed` is the direction given by the path (/up, /down) or `?direction=`; otherwise each alert's label decides. */
export function mapPayloadToSignals(
  parsed: ParsedPayload,
  fixed: Direction | undefined,
  policy?: string,
): SignalMapping {
  const result: SignalMapping = { changes: [], ignored: [], undirected: [] };
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
    const direction = fixed ?? asDirection(p.tags?.[DIRECTION_LABEL] ?? undefined);
    if (!direction) result.undirected.push(alert);
    else
      result.changes.push({
        direction,
        action: p.state === 'alerting' ? 'record' : 'clear',
        alert,
        value: asUtilisation(p.evalMatches?.[0]?.value),
      });
    return result;
  }

  const p = parsed.payload;
  if (p.alerts.length === 0) {
    result.ignored.push({ alert: p.groupKey ?? 'notification', reason: 'no alerts in the notification' });
  }
  for (const a of p.alerts) {
    const alert = a.labels.alertname ?? a.fingerprint ?? 'alert';
    if (a.labels.alertname === 'TestAlert') {
      result.ignored.push({ alert, reason: 'test notification' });
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
      value: alertUtilisation(a),
    });
  }
  return result;
}
