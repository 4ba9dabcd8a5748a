import { Direction } from '@app/scaling-policy';

import type { PoolScope } from '../fleet/pool-scope';
import { canonicalJson, DeliveryLedger } from '../scaling/delivery-ledger';
import { mapPayloadToSignals, ParsedPayload } from './alert-signals';
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

/**
 * A webhook's part for one pool, as the state store's inbox keeps it (high availability: any replica appends, the
 * leader applies): the request (its body cut to the pool's alerts), or the resolution of a group's alerts that a
 * whole notification no longer lists.
 */
export type QueuedSignal =
  | {
      kind: 'webhook';
      source: IntakeRequest['source'];
      direction?: Direction;
      body?: unknown;
      receivedAt: string;
    }
  | { kind: 'resolve-absent'; groupKey: string; receivedAt: string };

/**
 * Applies a queued signal to its pool (the leader, consuming the inbox, in order).
 * @throws InvalidWebhookError for an entry this replica cannot apply (another version's or settings' payload)
 */
export function applyQueued(scope: PoolScope, queued: QueuedSignal, multi: boolean): WebhookResultDto {
  if (queued.kind === 'resolve-absent')
    return resolvedResult(scope.signals.resolveAbsent(queued.groupKey, []));
  if (queued.kind !== 'webhook')
    throw new InvalidWebhookError([`unknown queued signal ${JSON.stringify(queued)}`]);
  const request: IntakeRequest = { source: queued.source, direction: queued.direction, body: queued.body };
  let parsed: ParsedPayload | undefined;
  if (queued.body !== undefined) {
    const result = parseWebhookBody(queued.body, queued.source === 'bare' ? 'any' : queued.source);
    if ('errors' in result) throw new InvalidWebhookError(result.errors);
    parsed = result;
  }
  return new PoolIntake(scope, multi).apply(request, parsed);
}

/** The answer for a pool whose alerts of a group were resolved by their absence from a whole notification. */
export function resolvedResult(
  cleared: { direction: Direction; alert: string; id?: string }[],
): WebhookResultDto {
  return {
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
  };
}

/** One pool's part of a webhook: the signal changes in that pool (validated and routed by the caller). */
export class PoolIntake {
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
