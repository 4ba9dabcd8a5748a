import { Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';

import { Settings } from '../config/settings';
import { Fleet } from '../fleet/fleet.service';
import { PoolScope } from '../fleet/pool-scope';
import { MetricsService } from '../metrics/metrics.service';
import { mapPayloadToSignals, ParsedPayload } from './alert-signals';
import { AlertDto } from './dto/alert-group-payload.dto';
import { WebhookResultDto } from './dto/webhook-result.dto';
import { parseWebhookBody } from './webhook-payload';
import { poolKey } from '../ha/ha';
import { LeadershipService } from '../ha/leadership.service';
import { IntakeRequest, InvalidWebhookError, PoolIntake, QueuedSignal, resolvedResult } from './pool-intake';

export { InvalidWebhookError } from './pool-intake';
export type { IntakeRequest } from './pool-intake';

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
    private readonly leadership: LeadershipService,
  ) {}

  /** Applies a webhook and saves each touched pool's state before answering: an acknowledged signal survives a crash. */
  async receive(request: IntakeRequest): Promise<WebhookResultDto> {
    if (this.fleet.ha) return this.enqueue(request);
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
   * High availability: validates and routes the webhook as always, then queues each pool's part in the state store
   * (any replica; the leader applies them in order, exactly once, within a second). Answered once queued: `202` with
   * the changes the leader will apply, `queued: true`; `503` when the store cannot take it (the sender retries).
   */
  private async enqueue(request: IntakeRequest): Promise<WebhookResultDto> {
    const ha = this.fleet.ha!;
    const metricSource = request.source === 'any' ? 'bare' : request.source;
    const receivedAt = new Date().toISOString();
    const queued: { scope: PoolScope; signal: QueuedSignal; preview: WebhookResultDto }[] = [];
    try {
      const parts = this.route(request);
      for (const part of parts) {
        const signal: QueuedSignal = {
          kind: 'webhook',
          source: request.source,
          ...(request.direction ? { direction: request.direction } : {}),
          ...(request.body !== undefined ? { body: part.body ?? request.body } : {}),
          receivedAt,
        };
        queued.push({ scope: part.scope, signal, preview: previewOf(part, request, part.scope) });
      }
      const p = parts[0]?.parsed;
      // A whole notification of a group spread over pools resolves the group's alerts in the pools it does not
      // list: one entry in each of their inboxes, so that each pool applies it in order with its other signals.
      if (
        this.fleet.size > 1 &&
        !request.pool &&
        p?.kind === 'alert-group' &&
        p.payload.groupKey &&
        !((p.payload.truncatedAlerts ?? 0) > 0)
      ) {
        const present = new Set(parts.map((part) => part.scope));
        for (const scope of this.fleet.all())
          if (!present.has(scope))
            queued.push({
              scope,
              signal: { kind: 'resolve-absent', groupKey: p.payload.groupKey, receivedAt },
              preview: { status: 'ignored', changes: [], ignored: [], reasons: [], inForce: [] },
            });
      }
    } catch (error) {
      this.metrics.webhooksReceived.inc({
        source: metricSource,
        direction: request.direction ?? 'unknown',
        outcome: 'invalid',
      });
      throw error;
    }
    try {
      for (const { scope, signal } of queued) await ha.store.append(poolKey(scope.id), signal);
    } catch (error) {
      this.logger.warn({ msg: 'cannot queue a webhook in the state store', error: String(error) });
      throw new ServiceUnavailableException([
        'the state store cannot take the notification now; retry (nothing was recorded)',
      ]);
    }
    const results = queued
      .filter(({ signal }) => signal.kind === 'webhook')
      .map(({ scope, preview }) => ({ scope, result: { ...preview, queued: true } }));
    for (const { scope, result } of results)
      this.metrics.webhooksReceived.inc({
        ...scope.settings.poolLabels,
        source: metricSource,
        direction: request.direction ?? result.changes[0]?.direction ?? 'none',
        outcome: result.status,
      });
    this.logger.log({ msg: 'webhook queued', pools: results.map((r) => r.scope.name), source: metricSource });
    // On the leader, applied at once; elsewhere the leader's next pass (every half second) takes it.
    this.leadership.kick();
    return merge(results, this.fleet.size > 1);
  }

  /**
   * A whole notification of a group that is not grouped by pool (the alerts of several pools in one group): a pool
   * holding alerts of the group that the notification no longer lists has had them resolved (send_resolved off),
   * exactly as within one pool. Not for a truncated list, a duplicate, or a request addressed with ?pool=.
   */
  private resolveInAbsentPools(
    request: IntakeRequest,
    parts: Part[],
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
      if (cleared.length > 0) resolved.push({ scope, result: resolvedResult(cleared) });
    }
    return resolved;
  }

  /** Which pool each part of the request is for; throws InvalidWebhookError naming the problem. */
  private route(request: IntakeRequest): Part[] {
    const named = request.pool !== undefined && request.pool !== '' ? this.named(request.pool) : undefined;
    if (request.body === undefined) return [{ scope: named ?? this.soleScope('a bare request') }];
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
          scope: this.agree(named, [...scopes][0], 'the notification') ?? this.soleScope('the notification'),
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
        const scope = this.agree(named, labelled, what) ?? this.soleScope(what);
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
        (common ? this.named(common, `the notification's pool label`) : this.soleScope('the notification'));
      return [{ scope, parsed }];
    }
    if (byScope.size === 1) return [{ scope: [...byScope.keys()][0], parsed }];
    // One notification for several pools (a route that does not group by pool): each pool gets its own alerts,
    // as a whole notification of the group for that pool.
    const index = new Map(p.alerts.map((alert, i) => [alert, i]));
    const raw = request.body as { alerts: unknown[] };
    return [...byScope].map(([scope, alerts]) => ({
      scope,
      parsed: {
        kind: 'alert-group' as const,
        payload: Object.assign(Object.create(Object.getPrototypeOf(p) as object) as typeof p, p, { alerts }),
      },
      body: { ...raw, alerts: alerts.map((a) => raw.alerts[index.get(a)!]) },
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

  private soleScope(what: string): PoolScope {
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

/** One pool's part of a request: the parsed payload for it and, when cut from a larger one, its raw body. */
interface Part {
  scope: PoolScope;
  parsed?: ParsedPayload;
  body?: unknown;
}

/**
 * What the leader will apply for a queued part, from the payload alone (the alert state is the leader's): the
 * changes it carries; a direction that cannot be determined is refused now, as without a store.
 */
function previewOf(part: Part, request: IntakeRequest, scope: PoolScope): WebhookResultDto {
  if (!part.parsed) {
    if (!request.direction)
      throw new InvalidWebhookError(['a bare request needs a direction (/up, /down or ?direction=up|down)']);
    return {
      status: 'accepted',
      changes: [
        { direction: request.direction, action: 'record', alert: 'bare request', id: 'bare', value: null },
      ],
      ignored: [],
      reasons: [`${request.direction} signal queued; the leader applies it within a second`],
      inForce: [],
    };
  }
  const mapping = mapPayloadToSignals(part.parsed, request.direction, scope.settings.SCALING_POLICY);
  if (mapping.undirected.length > 0)
    throw new InvalidWebhookError([
      `cannot determine the scaling direction of ${mapping.undirected.map((a) => JSON.stringify(a)).join(', ')}: ` +
        'give the alert the label autoscale=up|down or call with ?direction=up|down',
    ]);
  const recorded = mapping.changes.filter((c) => c.action === 'record');
  return {
    status: recorded.length > 0 ? 'accepted' : 'ignored',
    changes: mapping.changes,
    ignored: mapping.ignored,
    reasons: [
      'queued: the leader applies it within a second (duplicates and resolved alerts are settled then)',
      ...mapping.ignored.map((i) => `${JSON.stringify(i.alert)} ignored: ${i.reason}`),
    ],
    inForce: [],
  };
}
