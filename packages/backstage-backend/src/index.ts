/** @pgbackup/backstage-plugin-pgbackup-backend: `backend.add(import('@pgbackup/backstage-plugin-pgbackup-backend'))`. */
export {
  pgbackupPlugin as default,
  pgbackupClustersServiceRef,
  permissionGuard,
  pgbackupConditions,
  createPgbackupConditionalDecision,
  pgbackupNamespaceResourceRef,
  isInNamespace,
  isInCluster,
  type PgbackupClusters,
  type PgbackupNamespace,
} from './plugin.js';
export {
  createRouter,
  type Access,
  type AuditEvent,
  type Caller,
  type ClusterTarget,
  type EntityTarget,
  type Guard,
  type RouterOptions,
} from './router.js';
export { ROUTES, type Route } from './routes.js';
export { openApiDocument } from './openapi.js';
export { BackupRunner } from './runner.js';
export { IdempotencyKeys } from './idempotency.js';
export { jsonLogger, type Logger } from './logger.js';
