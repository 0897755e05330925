import { createHash } from 'node:crypto';
import { HttpProblem } from './problem.js';

export interface BackupRef {
  namespace: string;
  id: string;
}

/**
 * `Idempotency-Key` for POST /backup: the same key (per caller) with the same body returns the
 * backup the first request created; with another body it is refused (422). Keys live in memory
 * for `ttlMs`; a failed first attempt frees its key so the client can retry.
 */
export class IdempotencyKeys {
  private readonly entries = new Map<string, { fingerprint: string; at: number; result: Promise<BackupRef> }>();

  constructor(
    private readonly ttlMs = 24 * 3600 * 1000,
    private readonly maxEntries = 10_000,
  ) {}

  static validate(key: string): string {
    if (!/^[\x21-\x7e]{1,255}$/.test(key))
      throw new HttpProblem(400, 'Bad Request', 'the Idempotency-Key header must be 1-255 visible ASCII characters', {
        code: 'InvalidIdempotencyKey',
      });
    return key;
  }

  /** Runs `create` once per (scope, key); `replayed` tells whether an earlier request's result is returned. */
  run(scope: string, key: string, body: unknown, create: () => Promise<BackupRef>): { replayed: boolean; result: Promise<BackupRef> } {
    this.expire();
    const id = `${scope}\n${key}`;
    const fingerprint = createHash('sha256').update(JSON.stringify(body)).digest('hex');
    const existing = this.entries.get(id);
    if (existing) {
      if (existing.fingerprint !== fingerprint)
        throw new HttpProblem(422, 'Unprocessable Content', `Idempotency-Key "${key}" was already used with a different request body`, {
          code: 'IdempotencyKeyReused',
          hint: 'use a new key for a new backup',
        });
      return { replayed: true, result: existing.result };
    }
    const result = create();
    this.entries.set(id, { fingerprint, at: Date.now(), result });
    result.catch(() => this.entries.delete(id));
    return { replayed: false, result };
  }

  private expire(): void {
    const now = Date.now();
    for (const [k, v] of this.entries) if (now - v.at > this.ttlMs) this.entries.delete(k);
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
