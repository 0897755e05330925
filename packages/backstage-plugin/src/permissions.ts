/**
 * The permissions the UI checks: core declares them once, the backend enforces them; the UI only
 * hides what would be refused.
 */
export {
  pgbackupCreatePermission as pgBackupCreatePermission,
  pgbackupReadPermission as pgBackupReadPermission,
} from '@pgbackup/core/isomorphic';
