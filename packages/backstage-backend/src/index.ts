/** @pgbackup/backstage-plugin-pgbackup-backend: `backend.add(import('@pgbackup/backstage-plugin-pgbackup-backend'))`. */
export { pgbackupPlugin as default, pgbackupClustersServiceRef, permissionAuthorizer, type PgbackupClusters } from './plugin.js';
export { createRouter, type AccessRequest, type Action, type AuditEvent, type ClusterTarget, type EntityTarget, type RouterOptions } from './router.js';
export { openApiDocument } from './openapi.js';
export { BackupRunner } from './runner.js';
export { IdempotencyKeys } from './idempotency.js';
export { jsonLogger, type Logger } from './logger.js';
