import { createHmac, timingSafeEqual } from 'node:crypto';

/** Constant-time string comparison that does not leak the length through an early exit. */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHmac('sha256', 'compare').update(a).digest();
  const hb = createHmac('sha256', 'compare').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return match?.[1].trim();
}

export function basicCredentials(
  header: string | undefined,
): { username: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Grafana's webhook HMAC: lowercase hex HMAC-SHA256 of the raw body, or of `timestamp:body` when a timestamp is sent. */
export function grafanaSignature(secret: string, rawBody: Buffer, timestamp?: string): string {
  const hmac = createHmac('sha256', secret);
  if (timestamp) hmac.update(`${timestamp}:`);
  return hmac.update(rawBody).digest('hex');
}
