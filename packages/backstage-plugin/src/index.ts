/** pgbackup for Backstage: the Backups entity tab and card (legacy frontend system; the new one is in `./alpha`). */
export { pgBackupPlugin, EntityPgBackupContent, EntityPgBackupCard, PgBackupFleetPage } from './plugin.js';
export { isPgBackupAvailable, missingAnnotations, statefulSetOf } from './annotations.js';
export { PgBackupClient } from './api/PgBackupClient.js';
export { pgBackupApiRef, PgBackupApiError } from './api/types.js';
export type { PgBackupApi, EntityKey, StatefulSetRef, EntityBackups, PartError } from './api/types.js';
export type { Addressing, PgBackupClientOptions } from './api/PgBackupClient.js';
/** The permissions the UI checks (declared once in core, enforced by the backend; the UI only hides what would be refused). */
export {
  pgbackupCreatePermission as pgBackupCreatePermission,
  pgbackupReadPermission as pgBackupReadPermission,
} from '@pgbackup/core/permissions';
export type { EntityPgBackupContentProps } from './components/EntityPgBackupContent.js';
