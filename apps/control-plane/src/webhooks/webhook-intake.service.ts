import { Injectable, Logger } from '@nestjs/common';

import { Direction } from '@app/scaling-policy';

import { Settings } from '../config/settings';
import { Fleet } from '../fleet/fleet.service';
import { PoolScope } from '../fleet/pool-scope';
import { MetricsService } from '../metrics/metrics.service';
import { canonicalJson, DeliveryLedger } from '../scaling/delivery-ledger';
import { mapPayloadToSignals, ParsedPayload } from './alert-signals';
import { AlertDto } from './dto/alert-group-payload.dto';
import { WebhookResultDto } from './dto/webhook-result.dto';
import { parseWebhookBody, WebhookSource } from './webhook-payload';

export class InvalidWebhookError extends Error {
  constructor(readonly reasons: string[]) {
    super(reasons.join('; '));
  }
}

export interface IntakeRequest {
  source: WebhookSource | 'bare';
  /** From the path (/up, /down) or `?direction=`. */
  direction?: Direction;
  /** Absent for a bare request (no body). */
  body?: unknown;
  /** `?pool=`: the pool (name or id) every alert of the request is for. */
  pool?: string;
}

/** The label (or legacy Grafana tag) that names an alert's pool: its name or its id. */
export const POOL_LABEL = 'pool';

/**
 * Turns a webhook into signal changes of the pools it is for. Validation and routing happen before any change,
 * so a rejected request records nothing in any pool. Routing (docs/architecture.md §4, "Many pools"): `?pool=`,
 * else each alert's `pool` label (or the notification's common/group label; legacy Grafana: the `pool` tag), else
 * the only pool; an alert naming no pool among several, or a pool not managed here, is a 400 with the reason.
 */
@Injectable()
export class WebhookIntakeService {
  private readonly logger = new Logger(WebhookIntakeService.name);

  constructor(
    private readonly settings: Settings,
    private readonly fleet: Fleet,
    private readonly metrics: MetricsService,
  ) {}

  /** Applies a webhook and saves each touched pool's state before answering: an acknowledged signal survives a crash. */
  async receive(request: IntakeRequest): Promise<WebhookResultDto> {
    const metricSource = request.source === 'any' ? 'bare' : request.source;
    const results: { scope: PoolScope; result: WebhookResultDto }[] = [];
    try {
      const parts = this.route(request);
      for (const { scope, parsed } of parts)
        results.push({ scope, result: new PoolIntake(scope, this.fleet.size > 1).apply(request, parsed) });
      results.push(...this.resolveInAbsentPools(request, parts, results));
    } catch (error) {
      this.metrics.webhooksReceived.inc({
        source: metricSource,
        direction: request.direction ?? 'unknown',
        outcome: 'invalid',
      });
      throw error;
    }
    for (const { scope, result } of results) {
      const directions = [...new Set(result.changes.map((c) => c.direction))];
      this.metrics.webhooksReceived.inc({
        ...scope.settings.poolLabels,
        source: metricSource,
        direction:
          directions.length === 1
            ? directions[0]
            : directions.length > 1
              ? 'both'
              : (request.direction ?? 'none'),
        outcome: result.status,
      });
      this.logger.log({ msg: 'webhook received', pool: scope.name, source: metricSource, ...result });
      scope.scaling.updateSignalGauges();
    }
    await Promise.all(
      results
        .filter(({ result }) => result.changes.length > 0 || result.duplicateOf)
        .map(({ scope }) => scope.state.save()),
    );
    return merge(results, this.fleet.size > 1);
  }

  /**
   * A whole notification of a group that is not grouped by pool (the alerts of several pools in one group): a pool
   * holding alerts of the group that the notification no longer lists has had them resolved (send_resolved off),
   * exactly as within one pool. Not for a truncated list, a duplicate, or a request addressed with ?pool=.
   */
  private resolveInAbsentPools(
    request: IntakeRequest,
    parts: { scope: PoolScope; parsed?: ParsedPayload }[],
    results: { scope: PoolScope; result: WebhookResultDto }[],
  ): { scope: PoolScope; result: WebhookResultDto }[] {
    const parsed = parts[0]?.parsed;
    if (this.fleet.size === 1 || request.pool || parsed?.kind !== 'alert-group') return [];
    const p = parsed.payload;
    if (!p.groupKey || (p.truncatedAlerts ?? 0) > 0 || results.some(({ result }) => result.duplicateOf))
      return [];
    const present = new Set(parts.map((part) => part.scope));
    const resolved: { scope: PoolScope; result: WebhookResultDto }[] = [];
    for (const scope of this.fleet.all()) {
      if (present.has(scope)) continue;
      const cleared = scope.signals.resolveAbsent(p.groupKey, []);
      if (cleared.length === 0) continue;
      resolved.push({
        scope,
        result: {
          status: 'ignored',
          changes: cleared.map((a) => ({
            direction: a.direction,
            action: 'clear' as const,
            alert: a.alert,
            id: a.id ?? a.alert,
            value: null,
          })),
          ignored: [],
          reasons: cleared.map(
            (a) =>
              `${a.direction} signal cleared: ${JSON.stringify(a.alert)} (${a.id}) is absent from a whole notification of its group`,
          ),
          inForce: [],
        },
      });
    }
    return resolved;
  }

  /** Which pool each part of the request is for; throws InvalidWebhookError naming the problem. */
  private route(request: IntakeRequest): { scope: PoolScope; parsed?: ParsedPayload }[] {
    const named = request.pool !== undefined && request.pool !== '' ? this.named(request.pool) : undefined;
    if (request.body === undefined) return [{ scope: named ?? this.only('a bare request') }];
    const parsed = parseWebhookBody(request.body, request.source === 'bare' ? 'any' : request.source);
    if ('errors' in parsed) throw new InvalidWebhookError(parsed.errors);
    if (parsed.kind === 'grafana-legacy') {
      const p = parsed.payload;
      const tags = [p.tags?.[POOL_LABEL], ...(p.evalMatches ?? []).map((m) => m.tags?.[POOL_LABEL])].filter(
        (t): t is string => typeof t === 'string' && t !== '',
      );
      const scopes = new Set(tags.map((t) => this.named(t, `the notification's pool tag`)));
      if (scopes.size > 1)
        throw new InvalidWebhookError([
          `the notification's pool tags name several pools (${[...new Set(tags)].join(', ')}): send one per pool`,
        ]);
      return [
        {
          scope: this.agree(named, [...scopes][0], 'the notification') ?? this.only('the notification'),
          parsed,
        },
      ];
    }
    const p = parsed.payload;
    const common = p.commonLabels?.[POOL_LABEL] ?? p.groupLabels?.[POOL_LABEL];
    const byScope = new Map<PoolScope, AlertDto[]>();
    const problems: string[] = [];
    for (const alert of p.alerts) {
      const what = `alert ${JSON.stringify(alert.labels?.alertname ?? alert.fingerprint ?? 'unnamed')}`;
      try {
        const label = alert.labels?.[POOL_LABEL] ?? common;
        const labelled =
          label !== undefined && label !== '' ? this.named(label, `${what}'s pool label`) : undefined;
        const scope = this.agree(named, labelled, what) ?? this.only(what);
        const list = byScope.get(scope);
        if (list) list.push(alert);
        else byScope.set(scope, [alert]);
      } catch (error) {
        if (!(error instanceof InvalidWebhookError)) throw error;
        problems.push(...error.reasons);
      }
    }
    if (problems.length > 0) throw new InvalidWebhookError([...new Set(problems)]);
    if (byScope.size === 0) {
      const scope =
        named ??
        (common ? this.named(common, `the notification's pool label`) : this.only('the notification'));
      return [{ scope, parsed }];
    }
    if (byScope.size === 1) return [{ scope: [...byScope.keys()][0], parsed }];
    // One notification for several pools (a route that does not group by pool): each pool gets its own alerts,
    // as a whole notification of the group for that pool.
    return [...byScope].map(([scope, alerts]) => ({
      scope,
      parsed: {
        kind: 'alert-group' as const,
        payload: Object.assign(Object.create(Object.getPrototypeOf(p) as object) as typeof p, p, { alerts }),
      },
    }));
  }

  private named(key: string, what = '?pool='): PoolScope {
    // The one-pool shorthand acts on its pool whatever the alerts' labels say, exactly as before pools existed.
    if (what !== '?pool=' && this.fleet.source === 'env') return this.fleet.first();
    const scope = this.fleet.find(key);
    if (!scope)
      throw new InvalidWebhookError([
        `${what} names pool ${JSON.stringify(key)}, which this control plane does not manage (${this.fleet.names()})`,
      ]);
    return scope;
  }

  private agree(
    named: PoolScope | undefined,
    labelled: PoolScope | undefined,
    what: string,
  ): PoolScope | undefined {
    if (named && labelled && named !== labelled)
      throw new InvalidWebhookError([
        `${what} is labelled for pool ${labelled.name} but the request names pool ${named.name} (?pool=)`,
      ]);
    return named ?? labelled;
  }

  private only(what: string): PoolScope {
    if (this.fleet.size === 1) return this.fleet.first();
    throw new InvalidWebhookError([
      what === 'a bare request'
        ? `a bare request names no pool and several are managed (${this.fleet.names()}): call with ?pool=NAME`
        : `${what} names no pool and several are managed (${this.fleet.names()}): give the alert the label pool=NAME or call with ?pool=NAME`,
    ]);
  }
}

/** One request's answer from the answers of the pools it touched (one pool: that pool's answer as it is). */
function merge(results: { scope: PoolScope; result: WebhookResultDto }[], multi: boolean): WebhookResultDto {
  if (results.length === 1) {
    const [{ scope, result }] = results;
    return multi ? { pool: scope.name, ...result } : result;
  }
  const duplicates = results.filter(({ result }) => result.duplicateOf);
  return {
    status: results.some(({ result }) => result.status === 'accepted') ? 'accepted' : 'ignored',
    pools: results.map(({ scope }) => scope.name),
    changes: results.flatMap(({ scope, result }) => result.changes.map((c) => ({ pool: scope.name, ...c }))),
    ignored: results.flatMap(({ result }) => result.ignored),
    reasons: results.flatMap(({ scope, result }) => result.reasons.map((r) => `${scope.name}: ${r}`)),
    inForce: results.flatMap(({ result }) => result.inForce),
    ...(duplicates.length === results.length ? { duplicateOf: duplicates[0].result.duplicateOf } : {}),
  };
}

/** One pool's part of a webhook: the signal changes in that pool (validated and routed by the caller). */
class PoolIntake {
  constructor(
    private readonly scope: PoolScope,
    private readonly multi: boolean,
  ) {}

  apply(request: IntakeRequest, parsed: ParsedPayload | undefined): WebhookResultDto {
    if (parsed === undefined) {
      if (!request.direction)
        throw new InvalidWebhookError([
          'a bare request needs a direction (/up, /down or ?direction=up|down)',
        ]);
      this.scope.signals.record(request.direction, 'bare');
      return {
        status: 'accepted',
        changes: [
          { direction: request.direction, action: 'record', alert: 'bare request', id: 'bare', value: null },
        ],
        ignored: [],
        reasons: [`${request.direction} signal recorded; applied at the next tick`],
        inForce: this.inForce(),
      };
    }
    const mapping = mapPayloadToSignals(parsed, request.direction, this.scope.settings.SCALING_POLICY);
    if (mapping.undirected.length > 0) {
      throw new InvalidWebhookError([
        `cannot determine the scaling direction of ${mapping.undirected.map((a) => JSON.stringify(a)).join(', ')}: ` +
          'give the alert the label autoscale=up|down or call with ?direction=up|down',
      ]);
    }
    const ignoredReasons = mapping.ignored.map((i) => `${JSON.stringify(i.alert)} ignored: ${i.reason}`);
    if (mapping.changes.length > 0) {
      const now = Date.now() / 1000;
      const seen = this.scope.deliveries.check(
        DeliveryLedger.key(deliveryContent(parsed, request.direction)),
        now,
      );
      if (seen.duplicate) {
        const firstAt = new Date(seen.firstAt * 1000).toISOString();
        return {
          status: 'ignored',
          changes: [],
          ignored: mapping.ignored,
          reasons: [
            `duplicate delivery: the same notification was received at ${firstAt} (within WEBHOOK_DEDUP_SECONDS = ${this.scope.settings.WEBHOOK_DEDUP_SECONDS}): nothing recorded`,
            ...ignoredReasons,
          ],
          inForce: this.inForce(),
          duplicateOf: firstAt,
        };
      }
    }
    const source = request.source;
    // Resolved before firing: the outcome never depends on the order of the alerts in the notification.
    const ordered = [...mapping.changes].sort((a, b) =>
      a.action === b.action ? 0 : a.action === 'clear' ? -1 : 1,
    );
    for (const change of ordered) {
      this.scope.signals.notify({
        direction: change.direction,
        alert: change.alert,
        id: change.id,
        ...(mapping.group ? { group: mapping.group.key } : {}),
        status: change.action === 'record' ? 'firing' : 'resolved',
        value: change.value,
        source,
      });
    }
    const implicitlyResolved =
      mapping.group?.complete && mapping.changes.length > 0
        ? this.scope.signals.resolveAbsent(
            mapping.group.key,
            mapping.changes
              .filter((c) => c.action === 'record')
              .map((c) => ({ direction: c.direction, id: c.id })),
          )
        : [];
    const recorded = mapping.changes.filter((c) => c.action === 'record');
    const reasons = [
      ...recorded.map(
        (c) =>
          `${c.direction} signal recorded from ${JSON.stringify(c.alert)}` +
          `${c.value !== null ? ` (utilisation ${c.value})` : ' (no utilisation value)'}; applied at the next tick`,
      ),
      ...mapping.changes
        .filter((c) => c.action === 'clear')
        .map((c) => `${c.direction} signal cleared: ${JSON.stringify(c.alert)} (${c.id}) resolved`),
      ...implicitlyResolved.map(
        (a) =>
          `${a.direction} signal cleared: ${JSON.stringify(a.alert)} (${a.id}) is absent from a whole notification of its group`,
      ),
      ...(mapping.group && !mapping.group.complete
        ? ['the notification is truncated (truncatedAlerts): alerts not shown are not taken as resolved']
        : []),
      ...ignoredReasons,
    ];
    return {
      status: recorded.length > 0 ? 'accepted' : 'ignored',
      changes: mapping.changes,
      ignored: mapping.ignored,
      reasons,
      inForce: this.inForce(),
    };
  }

  inForce(): WebhookResultDto['inForce'] {
    return this.scope.signals.firing().map((a) => ({
      ...(this.multi ? { pool: this.scope.name } : {}),
      direction: a.direction,
      alert: a.alert,
      id: a.id ?? a.alert,
      value: a.value?.utilisation ?? null,
      firingSince: new Date(a.firingSince * 1000).toISOString(),
    }));
  }
}

/**
 * What a duplicate delivery shares with the first: the group, and each alert's identity, state and values; not
 * what differs between HA peers (their own externalURL, links).
 */
function deliveryContent(parsed: ParsedPayload, direction: Direction | undefined): unknown {
  if (parsed.kind === 'grafana-legacy') {
    const p = parsed.payload;
    return {
      kind: p.constructor.name,
      direction,
      p: [p.ruleId, p.ruleName, p.title, p.state, p.evalMatches, p.tags],
    };
  }
  const p = parsed.payload;
  return {
    direction,
    receiver: p.receiver,
    groupKey: p.groupKey,
    status: p.status,
    truncated: p.truncatedAlerts,
    // In a canonical order: a peer or a retry may list the same alerts in another order.
    alerts: p.alerts
      .map((a) =>
        canonicalJson([a.status, a.fingerprint, a.labels, a.annotations, a.startsAt, a.endsAt, a.values]),
      )
      .sort(),
  };
}
