import { Injectable, Logger } from '@nestjs/common';

import { Settings } from '../config/settings';
import { MetricsService } from '../metrics/metrics.service';
import { ScalingService } from '../scaling/scaling.service';
import { Direction } from '@app/scaling-policy';

import { SignalStore } from '../scaling/signal-store';
import { StateFile } from '../scaling/state-file.service';
import { mapPayloadToSignals } from './alert-signals';
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
    if (result.changes.length > 0) await this.state.save();
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
        changes: [{ direction: request.direction, action: 'record', alert: 'bare request', value: null }],
        ignored: [],
        reasons: [`${request.direction} signal recorded; applied at the next tick`],
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
    const source = request.source;
    for (const change of mapping.changes) {
      this.signals.notify({
        direction: change.direction,
        alert: change.alert,
        status: change.action === 'record' ? 'firing' : 'resolved',
        value: change.value,
        source,
      });
    }
    const recorded = mapping.changes.filter((c) => c.action === 'record');
    const reasons = [
      ...recorded.map(
        (c) =>
          `${c.direction} signal recorded from ${JSON.stringify(c.alert)}` +
          `${c.value !== null ? ` (utilisation ${c.value})` : ' (no utilisation value)'}; applied at the next tick`,
      ),
      ...mapping.changes
        .filter((c) => c.action === 'clear')
        .map((c) => `${c.direction} signal cleared: ${JSON.stringify(c.alert)} resolved`),
      ...mapping.ignored.map((i) => `${JSON.stringify(i.alert)} ignored: ${i.reason}`),
    ];
    return {
      status: recorded.length > 0 ? 'accepted' : 'ignored',
      changes: mapping.changes,
      ignored: mapping.ignored,
      reasons,
    };
  }
}
