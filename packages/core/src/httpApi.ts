/**
 * Request and response bodies of pgbackup's HTTP API (the Backstage backend plugin and the
 * standalone server), shared with the portal. The seed's field names (`databaseName`,
 * `backupType`, `isCompleted`, …) are kept next to the domain's.
 */
import { z } from 'zod';
import type { Backup } from './domain/backup.js';
import {
  BackupSchema,
  BackupId,
  BackupStatusSchema,
  BackupTypeSchema,
  NamespaceName,
  PvcName,
  SnapshotClassName,
  SnapshotInfoSchema,
  StatefulSetName,
  StatefulSetStatusSchema,
} from './schemas.js';

/** `POST /backup`: the seed's body. `databaseName` is the StatefulSet. */
export const CreateBackupBodySchema = z.strictObject({
  databaseName: StatefulSetName.describe('The PostgreSQL StatefulSet to back up'),
  namespace: NamespaceName,
  backupType: BackupTypeSchema.default('manual'),
  snapshotClass: SnapshotClassName.optional(),
  pin: z.boolean().default(false),
});

/** `POST /entity/:kind/:namespace/:name/backups`: the StatefulSet comes from the entity, never from the body. */
export const CreateEntityBackupBodySchema = z.strictObject({
  snapshotClass: SnapshotClassName.optional(),
  pin: z.boolean().default(false),
});

/** `POST /backup/:id/restore`: restore into a new StatefulSet next to the source (`to`), or into the source itself (`inPlace`). */
export const RestoreBackupBodySchema = z.strictObject({
  to: StatefulSetName.optional().describe('Name of the new StatefulSet (exactly one of to and inPlace)'),
  inPlace: z
    .boolean()
    .default(false)
    .describe('Restore into the backed-up StatefulSet itself: a pinned pre-restore backup first, the old volumes put back if the restored database does not come up. Answers once PostgreSQL is ready'),
  targetNamespace: NamespaceName.optional().describe("Namespace of the new StatefulSet (default: the backup's); the snapshots are re-bound there with Retain contents on the same storage snapshots"),
  replace: z.boolean().default(false).describe('Delete target objects that already exist first (their data is lost)'),
  dryRun: z.boolean().default(false).describe('Only answer the plan: the objects it would create and delete'),
});

/** `POST /backup/:id/verify`: restore aside, check, record the result on the backup. */
export const VerifyBackupBodySchema = z.strictObject({
  sql: z.string().min(1).max(8192).optional().describe('A SQL check: fails when it errors or its first value is false'),
  database: z.string().min(1).max(63).optional().describe("Database of the SQL check (default: the pod's default)"),
});

/** The answer to a restore: what was (or, with dryRun, would be) created and deleted. */
export const RestoreResultSchema = z.object({
  backupId: z.string(),
  dryRun: z.boolean(),
  source: z.object({ namespace: z.string(), statefulSet: z.string() }),
  target: z.object({ namespace: z.string(), statefulSet: z.string() }),
  delete: z.array(z.object({ kind: z.string(), namespace: z.string(), name: z.string() })),
  create: z.array(z.record(z.string(), z.unknown())).describe('The objects, as sent to the API server'),
  notes: z.array(z.string()),
  preRestoreBackup: z.string().optional().describe('In place: the backup of the data before the restore; restoring it in place undoes the restore'),
});

export const BackupResourceSchema = BackupSchema.extend({
  databaseName: z.string().describe('Seed name of statefulSet'),
  backupType: BackupTypeSchema.describe('Seed name of type'),
  isCompleted: z.boolean(),
  isFailed: z.boolean(),
  snapshotName: z.string().optional().describe('The first VolumeSnapshot (the only one for a one-volume database)'),
  snapshotSize: z.number().int().nonnegative().optional().describe('Sum of restoreSize in bytes, once known'),
  snapshotReady: z.boolean().describe('Every VolumeSnapshot is readyToUse'),
});
export type BackupResource = z.infer<typeof BackupResourceSchema>;

export function toBackupResource(b: Backup): BackupResource {
  return {
    ...b,
    databaseName: b.statefulSet,
    backupType: b.type,
    isCompleted: b.status === 'completed',
    isFailed: b.status === 'failed',
    snapshotName: b.snapshots[0]?.name,
    snapshotSize: b.size,
    snapshotReady: b.snapshots.length >= b.volumes && b.snapshots.every((s) => s.readyToUse),
  };
}

export const BackupPageSchema = z.object({
  items: z.array(BackupResourceSchema),
  /** Opaque cursor of the next page; absent on the last page. */
  continue: z.string().optional(),
  total: z.number().int().nonnegative(),
});

export const ListBackupsQuerySchema = z.strictObject({
  namespace: NamespaceName.optional(),
  statefulset: StatefulSetName.optional(),
  status: BackupStatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  continue: z.string().max(200).optional(),
});

export const NamespaceQuerySchema = z.strictObject({ namespace: NamespaceName.optional() });

export const BackupIdParamsSchema = z.strictObject({ id: BackupId });
export const StatefulSetParamsSchema = z.strictObject({ name: StatefulSetName });
export const PvcParamsSchema = z.strictObject({ pvcName: PvcName });

export const DeleteBackupQuerySchema = z.strictObject({
  namespace: NamespaceName.optional(),
  force: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  dryRun: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
});

export const StatefulSetStatusResponseSchema = StatefulSetStatusSchema.extend({
  newestBackup: BackupResourceSchema.optional(),
  newestCompletedBackup: BackupResourceSchema.optional(),
});

export const SnapshotListResponseSchema = z.object({
  namespace: z.string(),
  pvc: z.string(),
  items: z.array(SnapshotInfoSchema),
});

export const EntityParamsSchema = z.strictObject({
  kind: z.string().min(1).max(63).regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'must be a catalog kind such as component or resource'),
  namespace: z.string().min(1).max(63).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a catalog namespace'),
  name: z.string().min(1).max(253).regex(/^[A-Za-z0-9]([-_.A-Za-z0-9]*[A-Za-z0-9])?$/, 'must be a catalog entity name'),
});

export const EntityBackupsResponseSchema = z.object({
  entityRef: z.string(),
  cluster: z.string(),
  namespace: z.string(),
  statefulSet: z.string(),
  status: StatefulSetStatusResponseSchema.optional(),
  backups: z.array(BackupResourceSchema),
  /** What could not be read (the backups still show when, say, the StatefulSet is gone). */
  errors: z.array(z.object({ part: z.string(), status: z.number().int(), detail: z.string() })),
});

export const HealthCheckSchema = z.object({ name: z.string(), ok: z.boolean(), detail: z.string().optional() });
export const HealthSchema = z.object({
  status: z.enum(['ok', 'starting', 'unavailable']),
  checks: z.array(HealthCheckSchema),
});
