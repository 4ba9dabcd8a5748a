import { Injectable } from '@nestjs/common';

import { CallOptions, ExoscaleApiError, ExoscaleClient, Operation } from '@app/exoscale-client';
import { Reason } from '@app/scaling-policy';

import { Settings } from '../config/settings';
import { failpoint } from './failpoints';

/** What one scale call came to, as far as the caller could learn it. */
export type CallOutcome =
  | { kind: 'applied'; operationId: string | null; reasons: Reason[]; error?: string }
  /** The API refused the call outright (a 4xx other than 408/409/429): provably not applied. */
  | { kind: 'refused'; operationId: null; reasons: Reason[]; error: string }
  /** The call may or may not have been applied: the caller settles it against the pool. */
  | { kind: 'unknown'; operationId: string | null; reasons: Reason[]; error: string };

/** How long 404 answers for a just-created operation are retried (the API may not know it yet). Milliseconds. */
const NEW_OPERATION_404_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function describeError(error: unknown): string {
  if (error instanceof ExoscaleApiError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Makes one scale call and follows its operation. It never settles an unknown outcome itself: that needs the
 * pool, and is the scaling service's job (with the write-ahead record). `answered` runs as soon as the API has
 * answered with an operation, before the operation is followed, so the caller can save the operation id.
 */
@Injectable()
export class ScaleExecutor {
  constructor(
    private readonly settings: Settings,
    private readonly exoscale: ExoscaleClient,
  ) {}

  /**
   * One call: `scale` the pool to `call.to`, or `evict` the members `call.ids` (which shrinks the pool by them).
   */
  async run(
    poolId: string,
    call: { kind: 'scale'; to: number } | { kind: 'evict'; ids: string[] },
    answered: (operation: Operation) => Promise<void>,
    signal: AbortSignal,
    options: CallOptions = {},
  ): Promise<CallOutcome> {
    let operation: Operation;
    try {
      operation =
        call.kind === 'scale'
          ? await this.exoscale.scaleInstancePool(poolId, call.to, options)
          : await this.exoscale.evictInstancePoolMembers(poolId, call.ids, options);
    } catch (error) {
      const text = describeError(error);
      const refused =
        error instanceof ExoscaleApiError &&
        error.status !== null &&
        error.status >= 400 &&
        error.status < 500 &&
        ![408, 409, 429].includes(error.status);
      const reasons: Reason[] = [{ code: 'ApiError', text: `${call.kind} call failed: ${text}` }];
      return refused
        ? { kind: 'refused', operationId: null, error: text, reasons }
        : { kind: 'unknown', operationId: null, error: text, reasons };
    }
    await answered(operation);
    failpoint(this.settings.FAILPOINTS, 'after-scale-answered');
    try {
      await this.follow(operation, signal);
      failpoint(this.settings.FAILPOINTS, 'after-operation-complete');
      return { kind: 'applied', operationId: operation.id, reasons: [] };
    } catch (error) {
      const text = describeError(error);
      return {
        kind: 'unknown',
        operationId: operation.id,
        error: text,
        reasons: [{ code: 'ApiError', text: `following the ${call.kind} operation failed: ${text}` }],
      };
    }
  }

  /**
   * Waits for the operation to succeed (throws when it fails, times out or cannot be read). A 404 on the first
   * polls of a just-created operation is retried for a few seconds before it counts.
   */
  private async follow(operation: Operation, signal: AbortSignal): Promise<void> {
    const started = Date.now();
    let first = true;
    for (;;) {
      try {
        const current =
          operation.state === 'pending' ? await this.exoscale.getOperation(operation.id) : operation;
        if (first && current.state === 'pending') failpoint(this.settings.FAILPOINTS, 'during-operation');
        first = false;
        await this.exoscale.waitForOperation(current, {
          pollIntervalMs: 1000,
          timeoutMs: 15 * 60_000,
          signal,
        });
        return;
      } catch (error) {
        const notYetKnown =
          error instanceof ExoscaleApiError &&
          error.operation === 'get-operation' &&
          error.status === 404 &&
          Date.now() - started < NEW_OPERATION_404_MS;
        if (!notYetKnown || signal.aborted) throw error;
        await sleep(500);
      }
    }
  }
}
