import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';

import { ParsedPayload } from './alert-signals';
import { AlertGroupPayloadDto } from './dto/alert-group-payload.dto';
import { GrafanaLegacyPayloadDto } from './dto/grafana-legacy-payload.dto';

export type WebhookSource = 'grafana' | 'alertmanager' | 'any';

/** Real notifications nest 4 levels deep; anything past this is not one. */
export const MAX_NESTING = 64;

/** The nesting depth of a JSON value, counted without recursion and given up past `limit`. */
export function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: v, depth } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > limit) return deepest;
    for (const child of Object.values(v as Record<string, unknown>))
      stack.push({ value: child, depth: here });
  }
  return deepest;
}

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
  // Checked before any transformation: class-transformer recurses, so a deep enough body would overflow the stack.
  if (nestingDepth(body, MAX_NESTING) > MAX_NESTING) {
    return { errors: [`the body is nested deeper than ${MAX_NESTING} levels`] };
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
