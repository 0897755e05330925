/**
 * The permissions the UI checks: core declares them once (on their own browser-safe entry), the
 * backend enforces them; the UI only hides what would be refused.
 */
import { pgbackupCreatePermission, pgbackupReadPermission } from '@pgbackup/core/permissions';

export const pgBackupCreatePermission = pgbackupCreatePermission;
export const pgBackupReadPermission = pgbackupReadPermission;
