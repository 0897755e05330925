/**
 * The webhook a scheduled run calls when it fails (the CronJob's `PGBACKUP_WEBHOOK_URL`, from a
 * Secret): one JSON body, versioned, documented in the kubectl-pgbackup README.
 */

export const WEBHOOK_PAYLOAD_VERSION = 1;

/** The environment variable of the scheduled pod that holds the webhook URL. */
export const WEBHOOK_URL_ENV = 'PGBACKUP_WEBHOOK_URL';

/** The Secret (key `url`) the scheduled pod takes the webhook URL from; optional: without it, no webhook. */
export const webhookSecretName = (cronJob: string): string => `${cronJob}-webhook`;
export const WEBHOOK_SECRET_KEY = 'url';

/** The body POSTed to the webhook. */
export interface FailureNotification {
  version: typeof WEBHOOK_PAYLOAD_VERSION;
  /** Always `pgbackup.failure`: what happened. */
  event: 'pgbackup.failure';
  /** The verb that failed: create, verify, prune. */
  command: string;
  namespace: string;
  /** What the verb acted on: the StatefulSet (create, prune) or the backup id (verify). */
  target: string;
  error: { message: string; exitCode: number };
  /** When it failed (RFC 3339). */
  at: string;
  /** The pod (HOSTNAME) the run failed in. */
  host?: string;
}

/** Retry a delivery only when another attempt may succeed: no answer, 408, 429 or a server error. */
export const retryableStatus = (status: number | undefined): boolean =>
  status === undefined || status === 408 || status === 429 || status >= 500;
