/** Faults injected on purpose into the emulated API, for tests of retries and error handling. */
export interface FaultRule {
  /** API operation id to match (e.g. `scale-instance-pool`); all operations when absent. */
  operation?: string;
  /** Answer with this status instead of serving the request. */
  status?: number;
  /** Body for `status` (default `{"message":"injected fault"}`). */
  body?: string;
  /** `Retry-After` header value for `status`. */
  retryAfter?: string;
  /** Wait this long before answering (or before the fault). */
  delayMs?: number;
  /** Destroy the connection without an answer. */
  dropConnection?: boolean;
  /** Serve the request first (its change is applied), then answer with the fault: a lost answer. */
  afterApply?: boolean;
  /** Called when a matching request arrives (after `afterApply`'s change, if any): tests wait on it. */
  arrived?: () => void;
  /** Hold the answer (and, without `afterApply`, the change) until this settles; in-process tests only. */
  hold?: Promise<unknown>;
  /** Called when the caller's connection closes while the request is held: a test waits on it before releasing. */
  closed?: () => void;
  /** How many matching requests the rule applies to (default 1). */
  times?: number;
}

export class FaultInjector {
  private rules: (FaultRule & { remaining: number })[] = [];

  add(rule: FaultRule): void {
    this.rules.push({ ...rule, remaining: rule.times ?? 1 });
  }

  clear(): void {
    this.rules = [];
  }

  /** Takes the first rule that matches the operation, consuming one of its uses. */
  take(operation: string): FaultRule | undefined {
    const rule = this.rules.find((r) => r.remaining > 0 && (!r.operation || r.operation === operation));
    if (!rule) return undefined;
    rule.remaining--;
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return rule;
  }
}
