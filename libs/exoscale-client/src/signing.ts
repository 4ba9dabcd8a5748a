import { createHmac, timingSafeEqual } from 'node:crypto';

/** Default lifetime of a signature, as in every Exoscale reference client (egoscale v2/v3, requests-exoscale-auth). */
export const SIGNATURE_LIFETIME_SECONDS = 600;
export const SIGNATURE_SCHEME = 'EXO2-HMAC-SHA256';

export interface ApiCredentials {
  apiKey: string;
  apiSecret: string;
}

export interface RequestToSign {
  method: string;
  /** URL path exactly as sent, percent-encoded, including the `/v2` prefix; no scheme, host or query. */
  path: string;
  /** Query parameters, each given once. Values are signed decoded, keys in ascending byte order. */
  query?: Record<string, string>;
  /** The raw body exactly as sent; empty or absent when there is none. */
  body?: string;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The five newline-joined segments of EXO2-HMAC-SHA256: "<METHOD> <path>", body, query values, headers (always empty), expiry. */
export function signatureMessage(request: RequestToSign, expires: number): string {
  const keys = Object.keys(request.query ?? {}).sort(byteOrder);
  const queryValues = keys.map((k) => request.query![k]).join('');
  return [
    `${request.method.toUpperCase()} ${request.path}`,
    request.body ?? '',
    queryValues,
    '',
    String(expires),
  ].join('\n');
}

export function computeSignature(message: string, apiSecret: string): string {
  return createHmac('sha256', Buffer.from(apiSecret, 'utf8')).update(message, 'utf8').digest('base64');
}

/** Returns the exact `Authorization` header value for a request. `expires` is Unix seconds. */
export function signRequest(request: RequestToSign, credentials: ApiCredentials, expires: number): string {
  const keys = Object.keys(request.query ?? {}).sort(byteOrder);
  const signature = computeSignature(signatureMessage(request, expires), credentials.apiSecret);
  const parts = [`credential=${credentials.apiKey}`];
  if (keys.length > 0) parts.push(`signed-query-args=${keys.join(';')}`);
  parts.push(`expires=${expires}`, `signature=${signature}`);
  return `${SIGNATURE_SCHEME} ${parts.join(',')}`;
}

export interface ParsedAuthorization {
  credential: string;
  signedQueryArgs: string[];
  expires: number;
  signature: string;
}

/** Parses an `Authorization` header of the EXO2-HMAC-SHA256 scheme; returns null when it is not one. */
export function parseAuthorization(header: string | undefined): ParsedAuthorization | null {
  if (!header || !header.startsWith(`${SIGNATURE_SCHEME} `)) return null;
  const fields = new Map<string, string>();
  for (const part of header.slice(SIGNATURE_SCHEME.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return null;
    fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const credential = fields.get('credential');
  const expires = Number(fields.get('expires'));
  const signature = fields.get('signature');
  if (!credential || !signature || !Number.isInteger(expires)) return null;
  const signedQueryArgs = fields.get('signed-query-args');
  return {
    credential,
    expires,
    signature,
    signedQueryArgs: signedQueryArgs ? signedQueryArgs.split(';') : [],
  };
}

export type SignatureCheck = { ok: true; apiKey: string } | { ok: false; reason: string };

export interface IncomingSignedRequest {
  method: string;
  /** Raw request target path as received (percent-encoded), without the query. */
  path: string;
  /** Raw query string without `?`, or empty. */
  rawQuery: string;
  body: string;
  authorization: string | undefined;
}

/**
 * Server side of the scheme, as the API checks it: the credential must be known, the signature unexpired and
 * equal to the HMAC of the request as received. Parameters named in `signed-query-args` must occur exactly once.
 */
export function verifySignedRequest(
  request: IncomingSignedRequest,
  secretFor: (apiKey: string) => string | undefined,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): SignatureCheck {
  const auth = parseAuthorization(request.authorization);
  if (!auth) return { ok: false, reason: 'missing or malformed Authorization header' };
  const secret = secretFor(auth.credential);
  if (secret === undefined) return { ok: false, reason: 'unknown API key' };
  if (auth.expires < nowSeconds) return { ok: false, reason: 'signature expired' };
  const params = new URLSearchParams(request.rawQuery);
  const query: Record<string, string> = {};
  for (const name of auth.signedQueryArgs) {
    const values = params.getAll(name);
    if (values.length !== 1) return { ok: false, reason: `signed query argument ${name} must occur once` };
    query[name] = values[0];
  }
  const expected = computeSignature(
    signatureMessage({ method: request.method, path: request.path, query, body: request.body }, auth.expires),
    secret,
  );
  const a = Buffer.from(expected);
  const b = Buffer.from(auth.signature);
  if (a.length !== b.length || !timingSafeEqual(a, b))
    return { ok: false, reason: 'Invalid request signature' };
  return { ok: true, apiKey: auth.credential };
}
