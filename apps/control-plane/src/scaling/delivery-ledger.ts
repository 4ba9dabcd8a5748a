import { createHash } from 'node:crypto';

import { Injectable } from '@nestjs/common';

import { Settings } from '../config/settings';

export interface DeliverySeen {
  /** SHA-256 of the notification's canonical content. */
  key: string;
  /** Unix seconds. */
  at: number;
}

/**
 * Recognises a duplicate delivery: the same notification content received again within WEBHOOK_DEDUP_SECONDS
 * (Alertmanager HA peers each deliver it; senders retry after a timeout). Alertmanager sends a group again with the
 * same content only after its repeat interval, so a repeat outside the window is a new signal. Persisted with the
 * state file, so a duplicate arriving after a restart is still recognised.
 */
@Injectable()
export class DeliveryLedger {
  private seen = new Map<string, number>();

  constructor(private readonly settings: Settings) {}

  /** The content key of a notification: what HA peers and retries share (not e.g. each peer's externalURL). */
  static key(content: unknown): string {
    return createHash('sha256').update(canonicalJson(content)).digest('hex');
  }

  /**
   * Whether `key` was seen within the window before `now` (Unix seconds); records it when it was not.
   * With WEBHOOK_DEDUP_SECONDS = 0 nothing is a duplicate.
   */
  check(key: string, now: number): { duplicate: false } | { duplicate: true; firstAt: number } {
    const window = this.settings.WEBHOOK_DEDUP_SECONDS;
    for (const [k, at] of this.seen) if (now - at > window) this.seen.delete(k);
    if (window === 0) return { duplicate: false };
    const at = this.seen.get(key);
    if (at !== undefined) return { duplicate: true, firstAt: at };
    this.seen.set(key, now);
    return { duplicate: false };
  }

  toJSON(): DeliverySeen[] {
    return [...this.seen].map(([key, at]) => ({ key, at }));
  }

  restore(entries: DeliverySeen[]): void {
    this.seen = new Map(
      entries.filter((e) => typeof e?.key === 'string' && typeof e.at === 'number').map((e) => [e.key, e.at]),
    );
  }
}

/** JSON with object keys sorted, so the same content always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}
