import { Direction } from '../scaling/scaling-policy';
import { AlertGroupPayloadDto } from './dto/alert-group-payload.dto';
import { GrafanaLegacyPayloadDto } from './dto/grafana-legacy-payload.dto';

/** Payload -> signal changes, as a pure function. */

export interface SignalChange {
  direction: Direction;
  action: 'record' | 'clear';
  alert: string;
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

function asDirection(value: string | undefined): Direction | undefined {
  const v = value?.trim().toLowerCase();
  return v === 'up' || v === 'down' ? v : undefined;
}

/** `fixed` is the direction given by the path (/up, /down) or `?direction=`; otherwise each alert's label decides. */
export function mapPayloadToSignals(parsed: ParsedPayload, fixed: Direction | undefined): SignalMapping {
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
    else result.changes.push({ direction, action: p.state === 'alerting' ? 'record' : 'clear', alert });
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
    const direction = fixed ?? asDirection(a.labels[DIRECTION_LABEL] ?? p.commonLabels?.[DIRECTION_LABEL]);
    if (!direction) {
      result.undirected.push(alert);
      continue;
    }
    result.changes.push({ direction, action: a.status === 'firing' ? 'record' : 'clear', alert });
  }
  return result;
}
