import { Injectable, Logger } from '@nestjs/common';

import { Settings } from '../config/settings';
import { MetricsService } from '../metrics/metrics.service';
import { ScalingService } from '../scaling/scaling.service';
import { Direction } from '@app/scaling-policy';

import { canonicalJson, DeliveryLedger } from '../scaling/delivery-ledger';
import { SignalStore } from '../scaling/signal-store';
import { StateFile } from '../scaling/state-file.service';
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
}

/** Turns a webhook into signal changes. Validation happens before any change, so a rejected request records nothing. */
@Injectable()
export class WebhookIntakeService {
  private readonly logger = new Logger(WebhookIntakeService.name);

  constructor(
    private readonly settings: Settings,
    private readonly signals: SignalStore,
    private readonly scaling: ScalingService,
    private readonly metrics: MetricsService,
    private readonly state: StateFile,
    private readonly deliveries: DeliveryLedger,
  ) {}

  /** Applies a webhook and saves the state before answering, so an acknowledged signal survives a crash. */
  async receive(request: IntakeRequest): Promise<WebhookResultDto> {
    const metricSource = request.source === 'any' ? 'bare' : request.source;
    let result: WebhookResultDto;
    try {
      result = this.apply(request);
    } catch (error) {
      this.metrics.webhooksReceived.inc({
        source: metricSource,
        direction: request.direction ?? 'unknown',
        outcome: 'invalid',
      });
      throw error;
    }
    const directions = [...new Set(result.changes.map((c) => c.direction))];
    this.metrics.webhooksReceived.inc({
      source: metricSource,
      direction:
        directions.length === 1
          ? directions[0]
          : directions.length > 1
            ? 'both'
            : (request.direction ?? 'none'),
      outcome: result.status,
    });
    this.logger.log({ msg: 'webhook received', source: metricSource, ...result });
    this.scaling.updateSignalGauges();
    if (result.changes.length > 0 || result.duplicateOf) await this.state.save();
    return result;
  }

  private apply(request: IntakeRequest): WebhookResultDto {
    if (request.body === undefined) {
      if (!request.direction)
        throw new InvalidWebhookError([
          'a bare request needs a direction (/up, /down or ?direction=up|down)',
        ]);
      this.signals.record(request.direction, 'bare');
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
    const parsed = parseWebhookBody(request.body, request.source === 'bare' ? 'any' : request.source);
    if ('errors' in parsed) throw new InvalidWebhookError(parsed.errors);
    const mapping = mapPayloadToSignals(parsed, request.direction, this.settings.SCALING_POLICY);
    if (mapping.undirected.length > 0) {
      throw new InvalidWebhookError([
        `cannot determine the scaling direction of ${mapping.undirected.map((a) => JSON.stringify(a)).join(', ')}: ` +
          'give the alert the label autoscale=up|down or call with ?direction=up|down',
      ]);
    }
    const ignoredReasons = mapping.ignored.map((i) => `${JSON.stringify(i.alert)} ignored: ${i.reason}`);
    if (mapping.changes.length > 0) {
      const now = Date.now() / 1000;
      const seen = this.deliveries.check(DeliveryLedger.key(deliveryContent(parsed, request.direction)), now);
      if (seen.duplicate) {
        const firstAt = new Date(seen.firstAt * 1000).toISOString();
        return {
          status: 'ignored',
          changes: [],
          ignored: mapping.ignored,
          reasons: [
            `duplicate delivery: the same notification was received at ${firstAt} (within WEBHOOK_DEDUP_SECONDS = ${this.settings.WEBHOOK_DEDUP_SECONDS}): nothing recorded`,
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
      this.signals.notify({
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
        ? this.signals.resolveAbsent(
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

  private inForce(): WebhookResultDto['inForce'] {
    return this.signals.firing().map((a) => ({
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
