/**
 * The failure webhook of a scheduled run: when `PGBACKUP_WEBHOOK_URL` is set (the CronJob takes it
 * from the Secret `pgbackup-<statefulset>-webhook`, key `url`), a failing command POSTs core's
 * FailureNotification before it exits, with core's bounded retries.
 */
import { hostname } from 'node:os';
import type { WebhookSender } from '@pgbackup/core';
import { describeError } from './errors.js';

/** The port on Node's fetch: the status of the answer, or a rejection when none came in time. */
const fetchSender: WebhookSender = {
  async post(url, body, signal) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal, redirect: 'error' });
    await res.body?.cancel();
    return res.status;
  },
};

/** Reports `err` of `command` to the webhook, if one is configured; says on stderr when it could not. */
export async function reportFailure(
  env: NodeJS.ProcessEnv,
  failure: { command: string; namespace: string; target: string; err: unknown },
): Promise<void> {
  // Usually loaded by the command already; a failure before that pays for the import once.
  const core = await import('@pgbackup/core');
  const url = env[core.WEBHOOK_URL_ENV]?.trim();
  if (!url) return;
  const { message, exitCode } = describeError(failure.err);
  const delivery = await core.notifyWebhook(fetchSender, url, {
    version: core.WEBHOOK_PAYLOAD_VERSION,
    event: 'pgbackup.failure',
    command: failure.command,
    namespace: failure.namespace,
    target: failure.target,
    error: { message, exitCode },
    at: new Date().toISOString(),
    host: env.HOSTNAME ?? hostname(),
  });
  // Never the URL itself: it may carry a token.
  if (!delivery.delivered)
    process.stderr.write(
      `warning: the failure webhook was not delivered after ${delivery.attempts} attempt(s): ${delivery.status !== undefined ? `HTTP ${delivery.status}` : delivery.error}\n`,
    );
}
