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
  ) {
    super(`${operation} failed${status !== null ? ` (HTTP ${status})` : ''}: ${apiMessage}`);
  }
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
