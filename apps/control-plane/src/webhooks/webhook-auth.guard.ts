import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';

import { basicCredentials, bearerToken, grafanaSignature, safeEqual } from '../common/auth';
import { Settings } from '../config/settings';
import { MetricsService } from '../metrics/metrics.service';

export const SIGNATURE_HEADER = 'x-grafana-alerting-signature';
export const TIMESTAMP_HEADER = 'x-grafana-alerting-timestamp';
/** A signed timestamp older or newer than this is a replay. */
const MAX_SKEW_SECONDS = 300;

/** Optional webhook authentication: basic or bearer credentials, and Grafana's HMAC signature, when configured. */
@Injectable()
export class WebhookAuthGuard implements CanActivate {
  constructor(
    private readonly settings: Settings,
    private readonly metrics: MetricsService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request & { rawBody?: Buffer }>();
    const problem = this.problem(req);
    if (problem) {
      this.metrics.webhooksReceived.inc({
        source: sourceOf(req.path),
        direction: 'unknown',
        outcome: 'unauthorized',
      });
      throw new UnauthorizedException(problem);
    }
    return true;
  }

  private problem(req: Request & { rawBody?: Buffer }): string | undefined {
    const s = this.settings;
    const needsCredentials = Boolean(s.WEBHOOK_TOKEN || s.WEBHOOK_USERNAME);
    if (needsCredentials) {
      const header = req.headers.authorization;
      const token = bearerToken(header);
      const basic = basicCredentials(header);
      const tokenOk = Boolean(s.WEBHOOK_TOKEN && token !== undefined && safeEqual(token, s.WEBHOOK_TOKEN));
      const basicOk = Boolean(
        s.WEBHOOK_USERNAME &&
        basic &&
        safeEqual(basic.username, s.WEBHOOK_USERNAME) &&
        safeEqual(basic.password, s.WEBHOOK_PASSWORD ?? ''),
      );
      if (!tokenOk && !basicOk)
        return header ? 'invalid webhook credentials' : 'webhook credentials required';
    }
    if (s.WEBHOOK_HMAC_SECRET) {
      const signature = headerOf(req, SIGNATURE_HEADER);
      if (!signature) return `missing ${SIGNATURE_HEADER} header`;
      const timestamp = headerOf(req, TIMESTAMP_HEADER);
      if (timestamp !== undefined) {
        if (!/^\d+$/.test(timestamp)) return `invalid ${TIMESTAMP_HEADER} header`;
        if (Math.abs(Date.now() / 1000 - Number(timestamp)) > MAX_SKEW_SECONDS)
          return 'signature timestamp outside the allowed window';
      }
      const expected = grafanaSignature(s.WEBHOOK_HMAC_SECRET, req.rawBody ?? Buffer.alloc(0), timestamp);
      if (!safeEqual(signature.toLowerCase(), expected)) return 'invalid webhook signature';
    }
    return undefined;
  }
}

function headerOf(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function sourceOf(path: string): string {
  if (path.startsWith('/webhooks/alertmanager')) return 'alertmanager';
  if (path.startsWith('/webhooks/grafana')) return 'grafana';
  return 'bare';
}
