import { describe, expect, it } from '@jest/globals';
import type { FailureNotification } from '../domain/notification.js';
import type { WebhookSender } from '../ports.js';
import { notifyWebhook } from './notifyWebhook.js';

const notification: FailureNotification = {
  version: 1,
  event: 'pgbackup.failure',
  command: 'create',
  namespace: 'db',
  target: 'pg',
  error: { message: 'the storage did not cut 1 of 1 snapshots within 300s', exitCode: 5 },
  at: '2026-06-01T02:05:00Z',
};

/** Answers the given statuses in turn (undefined: never answers, until the attempt's deadline). */
function sender(...answers: (number | undefined)[]): WebhookSender & { bodies: string[] } {
  const bodies: string[] = [];
  return {
    bodies,
    post: (_url, body, signal) => {
      bodies.push(body);
      const status = answers.shift();
      if (status !== undefined) return Promise.resolve(status);
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
    },
  };
}

const fast = { attemptTimeoutMs: 50, backoffMs: 1 };

describe('notifyWebhook', () => {
  it('POSTs the notification once when the webhook answers 2xx', async () => {
    const s = sender(204);
    expect(await notifyWebhook(s, 'http://hook', notification, fast)).toEqual({ delivered: true, attempts: 1, status: 204 });
    expect(s.bodies.map((b) => JSON.parse(b))).toEqual([notification]);
  });

  it('retries a server error or no answer, up to the attempts', async () => {
    expect(await notifyWebhook(sender(503, undefined, 200), 'http://hook', notification, fast)).toEqual({
      delivered: true,
      attempts: 3,
      status: 200,
    });
    const failed = await notifyWebhook(sender(500, 502, 503, 200), 'http://hook', notification, fast);
    expect(failed).toEqual({ delivered: false, attempts: 3, status: 503 });
  });

  it('does not retry what another attempt cannot fix (a 4xx other than 408 and 429)', async () => {
    const s = sender(404, 200);
    expect(await notifyWebhook(s, 'http://hook', notification, fast)).toEqual({ delivered: false, attempts: 1, status: 404 });
    expect(s.bodies).toHaveLength(1);
  });

  it('gives up on a webhook that never answers: each attempt ends at its deadline', async () => {
    const delivery = await notifyWebhook(sender(), 'http://hook', notification, { attempts: 2, attemptTimeoutMs: 20, backoffMs: 1 });
    expect(delivery).toMatchObject({ delivered: false, attempts: 2, error: expect.stringMatching(/timeout|aborted/i) });
  });
});
