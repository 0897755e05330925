import { type FailureNotification, retryableStatus } from '../domain/notification.js';
import type { WebhookSender } from '../ports.js';
import { sleep } from '../sleep.js';

export interface WebhookPolicy {
  /** Attempts at the most. Default 3. */
  attempts?: number;
  /** Each attempt's deadline. Default 5 s. */
  attemptTimeoutMs?: number;
  /** Pause before the second attempt, doubled before each next one. Default 1 s. */
  backoffMs?: number;
}

export interface WebhookDelivery {
  delivered: boolean;
  attempts: number;
  /** The last HTTP status, when an answer came. */
  status?: number;
  error?: string;
}

/**
 * Delivers a failure notification with bounded retries: never throws, and never takes longer than
 * attempts × timeout plus the backoffs (3 × 5 s + 1 s + 2 s by default), so a hanging webhook cannot hold up
 * the run it reports on beyond that.
 */
export async function notifyWebhook(
  sender: WebhookSender,
  url: string,
  notification: FailureNotification,
  policy: WebhookPolicy = {},
): Promise<WebhookDelivery> {
  const attempts = Math.max(1, policy.attempts ?? 3);
  const timeoutMs = policy.attemptTimeoutMs ?? 5_000;
  const body = JSON.stringify(notification);
  let last: WebhookDelivery = { delivered: false, attempts: 0 };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await sleep((policy.backoffMs ?? 1_000) * 2 ** (attempt - 2));
    try {
      const status = await sender.post(url, body, AbortSignal.timeout(timeoutMs));
      last = { delivered: status >= 200 && status < 300, attempts: attempt, status };
      if (last.delivered || !retryableStatus(status)) return last;
    } catch (e) {
      last = { delivered: false, attempts: attempt, error: (e as Error).message };
    }
  }
  return last;
}
