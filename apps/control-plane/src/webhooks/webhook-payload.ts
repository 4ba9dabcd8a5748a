import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';

import { ParsedPayload } from './alert-signals';
import { AlertGroupPayloadDto } from './dto/alert-group-payload.dto';
import { GrafanaLegacyPayloadDto } from './dto/grafana-legacy-payload.dto';

export type WebhookSource = 'grafana' | 'alertmanager' | 'any';

function flatten(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((m) =>
      m.startsWith(e.property) ? `${prefix ? `${prefix}.` : ''}${m}` : `${path}: ${m}`,
    );
    return [...own, ...flatten(e.children ?? [], path)];
  });
}

/**
 * Recognises and validates a webhook body: a Grafana unified or Alertmanager notification (it has `alerts`), or
 * a Grafana legacy one (it has `state` and no `alerts`). Unknown extra fields are allowed.
 */
export function parseWebhookBody(body: unknown, source: WebhookSource): ParsedPayload | { errors: string[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { errors: ['the body must be a JSON object'] };
  }
  const record = body as Record<string, unknown>;
  if ('alerts' in record || source === 'alertmanager') {
    const payload = plainToInstance(AlertGroupPayloadDto, record);
    const errors = flatten(validateSync(payload, { forbidUnknownValues: false }));
    return errors.length > 0 ? { errors } : { kind: 'alert-group', payload };
  }
  if ('state' in record) {
    const payload = plainToInstance(GrafanaLegacyPayloadDto, record);
    const errors = flatten(validateSync(payload, { forbidUnknownValues: false }));
    return errors.length > 0 ? { errors } : { kind: 'grafana-legacy', payload };
  }
  return {
    errors: [
      'the body is neither a Grafana (unified: `alerts`; legacy: `state`) nor an Alertmanager notification',
    ],
  };
}
