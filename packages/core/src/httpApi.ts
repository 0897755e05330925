/**
 * Request and response bodies of pgbackup's HTTP API (the Backstage backend plugin and the
 * standalone server), shared with the portal. The seed's field names (`databaseName`,
 * `backupType`, `isCompleted`, …) are kept next to the domain's.
 */
import { z } from 'zod';
import type { StatefulSetStatus } from './application/getStatefulSetStatus.js';
import type { Backup, SnapshotInfo } from './domain/backup.js';
import type { PvcInfo } from './domain/readModels.js';
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
    .describe(
      'Restore into the backed-up StatefulSet itself: a pinned pre-restore backup first, the old volumes put back if the restored database does not come up. Answers once PostgreSQL is ready',
    ),
  targetNamespace: NamespaceName.optional().describe(
    "Namespace of the new StatefulSet (default: the backup's); the snapshots are re-bound there with Retain contents on the same storage snapshots",
  ),
  replace: z.boolean().default(false).describe('Delete target objects that already exist first (their data is lost)'),
  dryRun: z.boolean().default(false).describe('Only answer the plan: the objects it would create and delete'),
});

/** The checks a verification over the API may run: named, never SQL from the request. */
export const VERIFY_CHECKS = ['starts', 'amcheck', 'row-counts'] as const;
export type VerifyCheckName = (typeof VERIFY_CHECKS)[number];

/** `POST /backup/:id/verify`: restore aside, run the named checks, record pass/fail on the backup. */
export const VerifyBackupBodySchema = z.strictObject({
  checks: z
    .array(z.enum(VERIFY_CHECKS))
    .min(1)
    .max(VERIFY_CHECKS.length)
    .optional()
    .describe('Checks to run (default: all). `starts` (PostgreSQL recovers and runs as a primary) always runs'),
});

const ObjectRefSchema = z.object({ kind: z.string(), namespace: z.string(), name: z.string() });

/** The answer to a restore: what was (or, with dryRun, would be) created and deleted, by reference only. */
export const RestoreResultSchema = z.object({
  backupId: z.string(),
  dryRun: z.boolean(),
  source: z.object({ namespace: z.string(), statefulSet: z.string() }),
  target: z.object({ namespace: z.string(), statefulSet: z.string() }),
  delete: z.array(ObjectRefSchema),
  create: z.array(ObjectRefSchema).describe('The objects created (never their spec: the recorded StatefulSet stays in the cluster)'),
  notes: z.array(z.string()),
  preRestoreBackup: z
    .string()
    .optional()
    .describe('In place: the backup of the data before the restore; restoring it in place undoes the restore'),
});

/**
 * A VolumeSnapshot of a backup as the API returns it: an allowlist. Labels and annotations (the
 * recorded StatefulSet among them) and storage handles stay in the cluster.
 */
export const SnapshotResourceSchema = SnapshotInfoSchema.pick({
  name: true,
  namespace: true,
  pvc: true,
  createdAt: true,
  readyToUse: true,
  cutAt: true,
  restoreSize: true,
  error: true,
  className: true,
});
export type SnapshotResource = z.infer<typeof SnapshotResourceSchema>;

export const toSnapshotResource = (s: SnapshotInfo): SnapshotResource => ({
  name: s.name,
  namespace: s.namespace,
  pvc: s.pvc,
  createdAt: s.createdAt,
  readyToUse: s.readyToUse,
  ...(s.cutAt !== undefined ? { cutAt: s.cutAt } : {}),
  ...(s.restoreSize !== undefined ? { restoreSize: s.restoreSize } : {}),
  ...(s.error !== undefined ? { error: s.error } : {}),
  ...(s.className !== undefined ? { className: s.className } : {}),
});

/** A backup as the API returns it: an allowlist of the domain's fields plus the seed's names. */
export const BackupResourceSchema = BackupSchema.extend({
  snapshots: z.array(SnapshotResourceSchema),
  databaseName: z.string().describe('Seed name of statefulSet'),
  backupType: BackupTypeSchema.describe('Seed name of type'),
  isCompleted: z.boolean(),
  isFailed: z.boolean(),
  snapshotName: z.string().optional().describe('The first VolumeSnapshot (the only one for a one-volume database)'),
  snapshotSize: z.number().int().nonnegative().optional().describe('Sum of restoreSize in bytes, once known'),
  snapshotReady: z.boolean().describe('Every VolumeSnapshot is readyToUse'),
});
export type BackupResource = z.infer<typeof BackupResourceSchema>;

const defined = <T extends Record<string, unknown>>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

export function toBackupResource(b: Backup): BackupResource {
  return defined({
    id: b.id,
    namespace: b.namespace,
    statefulSet: b.statefulSet,
    type: b.type,
    method: b.method,
    status: b.status,
    phase: b.phase,
    error: b.error,
    volumes: b.volumes,
    snapshots: b.snapshots.map(toSnapshotResource),
    startedAt: b.startedAt,
    cutAt: b.cutAt,
    size: b.size,
    pod: b.pod,
    lsn: b.lsn,
    pgVersion: b.pgVersion,
    pinned: b.pinned,
    verification: b.verification,
    databaseName: b.statefulSet,
    backupType: b.type,
    isCompleted: b.status === 'completed',
    isFailed: b.status === 'failed',
    snapshotName: b.snapshots[0]?.name,
    snapshotSize: b.size,
    snapshotReady: b.snapshots.length >= b.volumes && b.snapshots.every((s) => s.readyToUse),
  });
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
  force: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  dryRun: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
});

export const StatefulSetStatusResponseSchema = StatefulSetStatusSchema.extend({
  newestBackup: BackupResourceSchema.optional(),
  newestCompletedBackup: BackupResourceSchema.optional(),
});
export type StatefulSetStatusResource = z.infer<typeof StatefulSetStatusResponseSchema>;

const toPvcResource = (c: PvcInfo) =>
  defined({
    name: c.name,
    template: c.template,
    phase: c.phase,
    storageClassName: c.storageClassName,
    driver: c.driver,
    volumeName: c.volumeName,
    capacityBytes: c.capacityBytes,
  });

/** The status as the API returns it: an allowlist (the StatefulSet manifest, env included, stays in the cluster). */
export function toStatefulSetStatusResource(s: StatefulSetStatus): StatefulSetStatusResource {
  return defined({
    name: s.name,
    namespace: s.namespace,
    replicas: s.replicas,
    readyReplicas: s.readyReplicas,
    currentReplicas: s.currentReplicas,
    updatedReplicas: s.updatedReplicas,
    pods: s.pods.map((p) =>
      defined({
        name: p.name,
        ordinal: p.ordinal,
        phase: p.phase,
        ready: p.ready,
        container: p.container,
        pvcs: p.pvcs.map(toPvcResource),
      }),
    ),
    newestBackup: s.newestBackup && toBackupResource(s.newestBackup),
    newestCompletedBackup: s.newestCompletedBackup && toBackupResource(s.newestCompletedBackup),
    schedule: s.schedule,
    freshness: s.freshness,
  });
}

export const SnapshotListResponseSchema = z.object({
  namespace: z.string(),
  pvc: z.string(),
  items: z.array(SnapshotResourceSchema),
});

export const EntityParamsSchema = z.strictObject({
  kind: z
    .string()
    .min(1)
    .max(63)
    .regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'must be a catalog kind such as component or resource'),
  namespace: z
    .string()
    .min(1)
    .max(63)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a catalog namespace'),
  name: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[A-Za-z0-9]([-_.A-Za-z0-9]*[A-Za-z0-9])?$/, 'must be a catalog entity name'),
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
