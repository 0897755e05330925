/**
 * zod schemas shared by the CLI (`-o json|yaml`), the HTTP API (request/response bodies) and the
 * portal. Isomorphic: no Node or Kubernetes imports here.
 */
import { z } from 'zod';
import { BACKUP_STATUSES, BACKUP_TYPES, CONSISTENCY_METHODS, RECORDED_PHASES } from './domain/backup.js';
import { DNS1123_LABEL, DNS1123_SUBDOMAIN, dns1123LabelProblem, dns1123SubdomainProblem } from './domain/names.js';
import { assertSchedule } from './domain/schedule.js';

// The rule is checked by the domain (precise messages); `meta` states it in JSON Schema (the OpenAPI document).
const dnsName = (form: string, problemOf: (v: string) => string | undefined, maxLength: number, pattern: RegExp) => (kind: string) =>
  z
    .string()
    .superRefine((v, ctx) => {
      const problem = problemOf(v);
      if (problem) ctx.addIssue({ code: 'custom', message: `invalid ${kind} name "${v}": ${problem}` });
    })
    .meta({ minLength: 1, maxLength, pattern: pattern.source, description: `${kind} name (DNS-1123 ${form})` });
const label = dnsName('label', dns1123LabelProblem, 63, DNS1123_LABEL);
const subdomain = dnsName('subdomain', dns1123SubdomainProblem, 253, DNS1123_SUBDOMAIN);

export const NamespaceName = label('namespace');
export const StatefulSetName = label('StatefulSet');
export const BackupId = label('backup');
export const PvcName = subdomain('PersistentVolumeClaim');
export const SnapshotClassName = subdomain('VolumeSnapshotClass');

export const BackupTypeSchema = z.enum(BACKUP_TYPES);
export const BackupStatusSchema = z.enum(BACKUP_STATUSES);
export const ConsistencyMethodSchema = z.enum(CONSISTENCY_METHODS);
const timestamp = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'must be an RFC 3339 timestamp');

export const VerificationSchema = z.object({
  result: z.enum(['passed', 'failed']),
  at: timestamp,
  restoreSeconds: z.number().nonnegative().optional(),
  message: z.string().optional(),
  indexesChecked: z.number().int().nonnegative().optional(),
  tables: z.number().int().nonnegative().optional(),
  rows: z.number().int().nonnegative().optional(),
  checks: z.array(z.object({ name: z.string(), passed: z.boolean() })).optional(),
});

export const SnapshotInfoSchema = z.object({
  name: z.string(),
  namespace: z.string(),
  pvc: z.string(),
  createdAt: timestamp,
  readyToUse: z.boolean(),
  cutAt: timestamp.optional(),
  restoreSize: z.number().int().nonnegative().optional(),
  error: z.string().optional(),
  className: z.string().optional(),
  contentName: z.string().optional(),
  snapshotHandle: z.string().optional(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
});

export const BackupSchema = z.object({
  id: z.string(),
  namespace: z.string(),
  statefulSet: z.string(),
  type: BackupTypeSchema,
  method: ConsistencyMethodSchema.optional(),
  status: BackupStatusSchema,
  phase: z.enum([...RECORDED_PHASES, 'unknown']),
  error: z.string().optional(),
  volumes: z.number().int().positive(),
  snapshots: z.array(SnapshotInfoSchema),
  startedAt: timestamp,
  cutAt: timestamp.optional(),
  size: z.number().int().nonnegative().optional(),
  pod: z.string().optional(),
  lsn: z.string().optional(),
  pgVersion: z.string().optional(),
  pinned: z.boolean(),
  verification: VerificationSchema.optional(),
});

export const BackupListSchema = z.object({
  items: z.array(BackupSchema),
  /** Opaque cursor for the next page, when there is one. */
  continue: z.string().optional(),
});

export const ScheduleSchema = z.object({ cron: z.string().min(1), timeZone: z.string().optional() }).superRefine((s, ctx) => {
  try {
    assertSchedule(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
  }
});

export const RetentionPolicySchema = z.object({
  maxAgeDays: z.number().nonnegative().optional(),
  keepLast: z.number().int().nonnegative().optional(),
  keepDaily: z.number().int().nonnegative().optional(),
  keepWeekly: z.number().int().nonnegative().optional(),
  timeZone: z.string().optional(),
});

export const FreshnessSchema = z.object({
  state: z.enum(['ok', 'late', 'missing']),
  expectedSince: timestamp.optional(),
  newestCompletedAt: timestamp.optional(),
  rpoSeconds: z.number().nonnegative().optional(),
  lateBySeconds: z.number().nonnegative().optional(),
  nextRunAt: timestamp,
});

export const PvcInfoSchema = z.object({
  name: z.string(),
  template: z.string().optional(),
  phase: z.string(),
  storageClassName: z.string().optional(),
  driver: z.string().optional(),
  volumeName: z.string().optional(),
  capacityBytes: z.number().int().nonnegative().optional(),
});

export const PodInfoSchema = z.object({
  name: z.string(),
  ordinal: z.number().int().nonnegative(),
  phase: z.string(),
  ready: z.boolean(),
  container: z.string().optional(),
  pvcs: z.array(PvcInfoSchema),
});

export const StatefulSetStatusSchema = z.object({
  name: z.string(),
  namespace: z.string(),
  replicas: z.number().int().nonnegative(),
  readyReplicas: z.number().int().nonnegative(),
  currentReplicas: z.number().int().nonnegative(),
  updatedReplicas: z.number().int().nonnegative(),
  pods: z.array(PodInfoSchema),
  newestBackup: BackupSchema.optional(),
  newestCompletedBackup: BackupSchema.optional(),
  schedule: ScheduleSchema.optional(),
  freshness: FreshnessSchema.optional(),
});

export const PruneDecisionSchema = z.object({
  backup: BackupSchema,
  action: z.enum(['keep', 'delete']),
  reasons: z.array(z.string()),
});

const HintOptionSchema = z.object({
  option: z.string().describe('A field of the request (body or query) that would help, e.g. force, pod, method'),
  value: z.union([z.string(), z.boolean()]).optional().describe('The value to send, when one is known'),
  omit: z.boolean().optional().describe('Leaving the field out is what helps'),
});

/** RFC 9457 problem details, as the HTTP API returns them. */
export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  hint: z.string().optional().describe('What would help, in words'),
  code: z.string().optional(),
  options: z.array(HintOptionSchema).optional().describe('Request fields that would help: alternatives, any one of them'),
  step: z
    .object({
      operation: z.enum(['list', 'status', 'unpin', 'restore', 'recover', 'doctor', 'schedule-set']),
      target: z.string().optional(),
      namespace: z.string().optional(),
      allNamespaces: z.boolean().optional(),
      options: z.array(HintOptionSchema).optional(),
    })
    .optional()
    .describe('Another operation that would help first'),
  object: z
    .object({ kind: z.string(), name: z.string(), namespace: z.string().optional() })
    .optional()
    .describe('The object the problem is about'),
});

export type BackupDto = z.infer<typeof BackupSchema>;
export type StatefulSetStatusDto = z.infer<typeof StatefulSetStatusSchema>;
export type Problem = z.infer<typeof ProblemSchema>;

export const PruneDecisionListSchema = z.object({ items: z.array(PruneDecisionSchema) });

export const ScheduledBackupSchema = z.object({
  statefulSet: z.string(),
  namespace: z.string(),
  schedule: ScheduleSchema,
  retention: RetentionPolicySchema.optional(),
  suspended: z.boolean(),
  lastScheduleTime: timestamp.optional(),
  cronJob: z.string().optional(),
  image: z.string().optional(),
  verify: z.boolean().optional().describe('Each run verifies its backup before pruning'),
  nextRunAt: timestamp.optional(),
});

export const DoctorCheckSchema = z.object({ name: z.string(), ok: z.boolean(), detail: z.string(), fix: z.string().optional() });

export const DoctorReportSchema = z.object({
  namespace: z.string(),
  statefulSet: z.string().optional(),
  ok: z.boolean(),
  checks: z.array(DoctorCheckSchema),
});
