/** The one error class of the client. Its message names the operation, the HTTP status and the API's message; never a credential or signature. */
export class ExoscaleApiError extends Error {
  override readonly name = 'ExoscaleApiError';

  constructor(
    /** API operation, e.g. `scale-instance-pool`. */
    readonly operation: string,
    /** HTTP status, or null for network errors, timeouts and failed async operations. */
    readonly status: number | null,
    /** The API's own message (from `message`, `error`, `title`, `detail`, or a plain-text body). */
    readonly apiMessage: string,
    /** Whether repeating the same request later could succeed. */
    readonly retryable: boolean,
    /** Attempts made before giving up. */
    readonly attempts = 1,
    /** For failed async operations: the operation's id. */
    readonly operationId?: string,
    /** Set when the request was refused because of this host's clock (an expired signature), not the key. */
    readonly clockSkew?: ClockSkew,
  ) {
    super(
      `${operation} failed${status !== null ? ` (HTTP ${status})` : ''}: ${
        !clockSkew
          ? apiMessage
          : clockSkew.refused
            ? `${describeClockSkew(clockSkew)} (API: ${JSON.stringify(apiMessage)})`
            : `${apiMessage} (${describeClockSkew(clockSkew)})`
      }`,
    );
  }
}

/** What the client knows about a refusal caused by the clock. */
export interface ClockSkew {
  /**
   * This host's clock minus the API server's (from the answer's `Date` header), in whole seconds: negative when
   * this host is behind. Null when the answer had no usable `Date` header.
   */
  skewSeconds: number | null;
  /** Whether the refusal is explained by the clock: the API said the request expired, or the skew outlasts a signature. */
  refused: boolean;
  /** Lifetime of a signature, seconds. */
  signatureLifetimeSeconds: number;
}

/** Beyond this difference (seconds) from the API server's clock, an auth refusal mentions the clock. */
export const CLOCK_SKEW_NOTICE_SECONDS = 60;

/** An API message that says a signed request was refused for its time (the API's wording is not documented). */
const TIME_REFUSAL =
  /expir|clock|skew|timestamp|time ?stamp|too old|too far|in the future|not yet valid|request time/i;

const CREDENTIAL = /\b(api[- ]?)?(key|credential|token|password|account|subscription)s?\b/i;

/** `1 h 2 min 5 s`, `20 min 0 s`, `45 s`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(Math.abs(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h} h ${m} min ${rest} s`;
  if (m > 0) return `${m} min ${rest} s`;
  return `${rest} s`;
}

/**
 * Classifies an auth refusal (400/401/403) by the clock: from the API's message and from the server's `Date`
 * header compared with this host's clock when the answer arrived. Undefined when the clock is not involved.
 */
export function clockSkewOf(
  status: number,
  apiMessage: string,
  dateHeader: string | undefined,
  localNowMs: number,
  signatureLifetimeSeconds: number,
): ClockSkew | undefined {
  if (status !== 400 && status !== 401 && status !== 403) return undefined;
  const serverMs = dateHeader ? Date.parse(dateHeader) : NaN;
  // The Date header has a resolution of one second; the answer's latency adds to it.
  const skewSeconds = Number.isNaN(serverMs) ? null : Math.round((localNowMs - serverMs) / 1000);
  // "signature expired" is the clock's; "API key expired" or "token expired" would be the credential's.
  const saysTime = TIME_REFUSAL.test(apiMessage) && !CREDENTIAL.test(apiMessage);
  const skewExpires = skewSeconds !== null && Math.abs(skewSeconds) >= signatureLifetimeSeconds;
  const noticeable = skewSeconds !== null && Math.abs(skewSeconds) >= CLOCK_SKEW_NOTICE_SECONDS;
  if (saysTime || skewExpires) return { skewSeconds, refused: true, signatureLifetimeSeconds };
  if (noticeable && status !== 400) return { skewSeconds, refused: false, signatureLifetimeSeconds };
  return undefined;
}

/** The clock part of an error message; it never names a credential. */
export function describeClockSkew(clock: ClockSkew): string {
  const { skewSeconds, signatureLifetimeSeconds: lifetime } = clock;
  const offset =
    skewSeconds === null
      ? null
      : skewSeconds === 0
        ? "this host's clock agrees with the API server's (its Date header)"
        : `this host's clock is ${formatDuration(skewSeconds)} ${skewSeconds < 0 ? 'behind' : 'ahead of'} the API server's (its Date header)`;
  if (!clock.refused) return `note: ${offset}; if the API key is right, check this host's clock (NTP)`;
  if (offset === null)
    return `clock skew: the API refused the request for its time (a signature is valid ${lifetime} s from its signing): check this host's clock (NTP), the API key is not at fault`;
  if (skewSeconds !== null && skewSeconds <= -lifetime)
    return `clock skew: ${offset}, more than a signature's ${lifetime} s lifetime, so every request arrives already expired: fix this host's clock (NTP), the API key is not at fault`;
  if (skewSeconds !== null && skewSeconds >= lifetime)
    return `clock skew: ${offset}, more than a signature's ${lifetime} s lifetime, so every request is dated far ahead: fix this host's clock (NTP), the API key is not at fault`;
  if (skewSeconds !== null && Math.abs(skewSeconds) < CLOCK_SKEW_NOTICE_SECONDS)
    return `the API refused the request for its time, although ${offset}: check this host's clock (NTP) and delays on the way, the API key is not at fault`;
  return `clock skew: the API refused the request for its time and ${offset}: fix this host's clock (NTP), the API key is not at fault`;
}

/** Whether an HTTP status is worth retrying: 429 and every 5xx but 501, as egoscale v3 / go-retryablehttp do. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status !== 501);
}

/** Extracts a human message from an error body, the way egoscale v3 does (message, error, title, detail, plain text). */
export function apiMessageFromBody(body: unknown): string {
  if (typeof body === 'string') return body.trim().slice(0, 500) || 'empty response body';
  if (body && typeof body === 'object') {
    const obj = body as Record<string, unknown>;
    for (const key of ['message', 'error', 'title', 'detail']) {
      if (typeof obj[key] === 'string' && obj[key]) return (obj[key] as string).slice(0, 500);
    }
    return JSON.stringify(body).slice(0, 500);
  }
  return 'empty response body';
}
