import type { BackupStatus, Verification } from './backup.js';
import type { FreshnessState } from './schedule.js';

/** How a database's backups stand, worst first: the order a fleet view sorts by. */
export const DATABASE_HEALTH = ['unreadable', 'failed', 'missing', 'late', 'verification-failed', 'manual', 'ok'] as const;
export type DatabaseHealth = (typeof DATABASE_HEALTH)[number];

/** The backup whose verification is the most recent, if any was verified. */
export function newestVerified<T extends { verification?: Verification }>(backups: readonly T[] | undefined): T | undefined {
  return backups?.filter((b) => b.verification).sort((a, b) => Date.parse(b.verification!.at) - Date.parse(a.verification!.at))[0];
}

/**
 * One word for a database: its status unread, its newest backup failed, no completed backup, late against its
 * schedule, its newest verification failed, no schedule at all, or healthy (in that order of precedence).
 */
export function databaseHealth(
  status: { newestBackup?: { status: BackupStatus }; freshness?: { state: FreshnessState } } | undefined,
  backups: readonly { verification?: Verification }[] | undefined,
): DatabaseHealth {
  if (!status) return 'unreadable';
  if (status.newestBackup?.status === 'failed') return 'failed';
  if (status.freshness?.state === 'missing') return 'missing';
  if (status.freshness?.state === 'late') return 'late';
  if (newestVerified(backups)?.verification?.result === 'failed') return 'verification-failed';
  if (!status.freshness) return 'manual';
  return 'ok';
}
