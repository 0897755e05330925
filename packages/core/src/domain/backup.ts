import { Annotations, Labels } from '../contract.js';

export const BACKUP_TYPES = ['manual', 'scheduled', 'pre-restore'] as const;
export type BackupType = (typeof BACKUP_TYPES)[number];

/**
 * How the backup reached consistency (recorded as `pgbackup.io/method`):
 * - `checkpoint-snapshot`: CHECKPOINT, then one atomic snapshot of the single volume holding data and WAL:
 *   a power-loss image that crash recovery makes consistent.
 * - `group-snapshot`: CHECKPOINT, then one VolumeGroupSnapshot cutting every volume at the same instant.
 */
export const CONSISTENCY_METHODS = ['checkpoint-snapshot', 'group-snapshot'] as const;
export type ConsistencyMethod = (typeof CONSISTENCY_METHODS)[number];

/** Progress of the consistency step as recorded by the process taking the backup. */
export const RECORDED_PHASES = ['consistency', 'cut', 'failed'] as const;
export type RecordedPhase = (typeof RECORDED_PHASES)[number];

/** Status is derived from the snapshots, never stored alone. */
export const BACKUP_STATUSES = ['in_progress', 'completed', 'failed'] as const;
export type BackupStatus = (typeof BACKUP_STATUSES)[number];

export interface Verification {
  result: 'passed' | 'failed';
  at: string;
  /** From creating the restored volumes until PostgreSQL answered. */
  restoreSeconds?: number;
  message?: string;
  /** B-tree indexes amcheck's bt_index_check found clean (every database, catalogs included). */
  indexesChecked?: number;
  /** User tables counted, and their rows in total. */
  tables?: number;
  rows?: number;
  /** Each check by name, passed or not. */
  checks?: { name: string; passed: boolean }[];
}

/** One VolumeSnapshot as the domain sees it. */
export interface SnapshotInfo {
  name: string;
  namespace: string;
  pvc: string;
  createdAt: string;
  readyToUse: boolean;
  /** When the storage cut the point-in-time snapshot (`status.creationTime`). */
  cutAt?: string;
  restoreSize?: number;
  error?: string;
  className?: string;
  contentName?: string;
  snapshotHandle?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface Backup {
  id: string;
  namespace: string;
  statefulSet: string;
  type: BackupType;
  method?: ConsistencyMethod;
  status: BackupStatus;
  phase: RecordedPhase | 'unknown';
  /** Why the backup failed, or undefined. */
  error?: string;
  /** How many snapshots make the backup complete. */
  volumes: number;
  snapshots: SnapshotInfo[];
  startedAt: string;
  /** The point in time the backup represents (when the storage cut the snapshots). */
  cutAt?: string;
  /** Sum of the snapshots' restoreSize, in bytes, once known. */
  size?: number;
  pod?: string;
  lsn?: string;
  /** The redo point of its CHECKPOINT (point-in-time recovery replays archived WAL from there). */
  redoLsn?: string;
  pgVersion?: string;
  pinned: boolean;
  verification?: Verification;
  /** When every snapshot was seen readyToUse (by the process that waited for it). */
  readyAt?: string;
  /** The last restore of this backup that waited for PostgreSQL. */
  lastRestore?: RestoreRecord;
}

/** `pgbackup.io/restored`: one restore of a backup. */
export interface RestoreRecord {
  at: string;
  /** From creating the restored objects until PostgreSQL answered. */
  seconds: number;
  /** `namespace/statefulset` restored into. */
  target: string;
}

const parseRestore = (raw: string | undefined): RestoreRecord | undefined => {
  if (!raw) return undefined;
  try {
    const r = JSON.parse(raw) as RestoreRecord;
    return typeof r.at === 'string' && typeof r.seconds === 'number' ? r : undefined;
  } catch {
    return undefined;
  }
};

const parseVerification = (raw: string | undefined): Verification | undefined => {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as Verification;
    return v.result === 'passed' || v.result === 'failed' ? v : undefined;
  } catch {
    return undefined;
  }
};

const first = <T>(values: (T | undefined)[]): T | undefined => values.find((v) => v !== undefined && v !== '');

const latest = (values: (string | undefined)[]): string | undefined =>
  values
    .filter((v): v is string => !!v)
    .sort((a, b) => Date.parse(a) - Date.parse(b))
    .at(-1);

/**
 * Derives one backup from its snapshots. Backup-level annotations are written on every snapshot
 * of the set; a partial write (one snapshot patched, another not) resolves to the safer reading:
 * failed wins, pinned wins, the newest verification wins.
 */
export function deriveBackup(id: string, snapshots: SnapshotInfo[], now: Date): Backup {
  const sorted = [...snapshots].sort((a, b) => a.name.localeCompare(b.name));
  const ann = (key: string) => sorted.map((s) => s.annotations[key]);
  const lab = (key: string) => sorted.map((s) => s.labels[key]);

  const phases = ann(Annotations.phase);
  const phase: Backup['phase'] = phases.includes('failed')
    ? 'failed'
    : phases.every((p) => p === 'cut')
      ? 'cut'
      : phases.some((p) => p === 'consistency' || p === 'cut')
        ? 'consistency'
        : 'unknown';
  const volumes = Math.max(1, Number(first(ann(Annotations.volumes)) ?? sorted.length) || sorted.length);
  const startedAt =
    first(ann(Annotations.startedAt)) ??
    sorted.map((s) => s.createdAt).sort((a, b) => Date.parse(a) - Date.parse(b))[0] ??
    now.toISOString();
  const deadline = first(ann(Annotations.deadline));
  const verifications = ann(Annotations.verified)
    .map(parseVerification)
    .filter((v): v is Verification => !!v);
  const cutAts = sorted.map((s) => s.cutAt);
  const readyCount = sorted.filter((s) => s.readyToUse).length;

  const method = first(ann(Annotations.method));
  const { status, error } = deriveStatus({
    phase,
    method,
    allCut: sorted.length > 0 && sorted.every((s) => !!s.cutAt),
    recordedError: first(ann(Annotations.error)),
    snapshotError: first(sorted.filter((s) => !s.readyToUse).map((s) => s.error && `${s.name}: ${s.error}`)),
    volumes,
    present: sorted.length,
    ready: readyCount,
    deadline,
    now,
  });

  const sizes = sorted.map((s) => s.restoreSize);
  return {
    id,
    namespace: sorted[0]?.namespace ?? '',
    statefulSet: first(lab(Labels.statefulSet)) ?? '',
    type: (BACKUP_TYPES as readonly string[]).includes(first(lab(Labels.type)) ?? '') ? (first(lab(Labels.type)) as BackupType) : 'manual',
    method: (CONSISTENCY_METHODS as readonly string[]).includes(method ?? '') ? (method as ConsistencyMethod) : undefined,
    status,
    phase,
    error,
    volumes,
    snapshots: sorted,
    startedAt,
    cutAt: cutAts.every(Boolean) && cutAts.length > 0 ? latest(cutAts) : first(ann(Annotations.cutAt)),
    size: sizes.length > 0 && sizes.every((s) => s !== undefined) ? sizes.reduce((a, b) => a! + b!, 0) : undefined,
    pod: first(ann(Annotations.pod)),
    lsn: first(ann(Annotations.lsn)),
    redoLsn: first(ann(Annotations.redoLsn)),
    pgVersion: first(ann(Annotations.pgVersion)),
    pinned: ann(Annotations.pinned).includes('true'),
    verification: verifications.sort((a, b) => Date.parse(a.at) - Date.parse(b.at)).at(-1),
    readyAt: latest(ann(Annotations.readyAt)),
    lastRestore: ann(Annotations.restored)
      .map(parseRestore)
      .filter((r): r is RestoreRecord => !!r)
      .sort((a, b) => Date.parse(a.at) - Date.parse(b.at))
      .at(-1),
  };
}

interface StatusInput {
  phase: Backup['phase'];
  method?: string;
  /** Every snapshot present has been cut by the storage (status.creationTime). */
  allCut?: boolean;
  recordedError?: string;
  snapshotError?: string;
  volumes: number;
  present: number;
  ready: number;
  deadline?: string;
  now: Date;
}

/**
 * completed: the consistency step finished (`cut`) and all `volumes` snapshots are readyToUse.
 * failed: a recorded failure, a snapshot error, a snapshot missing after the cut, or the deadline passed.
 * in_progress: anything else.
 */
export function deriveStatus(input: StatusInput): { status: BackupStatus; error?: string } {
  if (input.phase === 'failed') return { status: 'failed', error: input.recordedError ?? 'the backup was marked failed' };
  if (input.snapshotError) return { status: 'failed', error: input.snapshotError };
  if (input.phase === 'cut' && input.present < input.volumes)
    return { status: 'failed', error: `incomplete: ${input.volumes - input.present} of ${input.volumes} VolumeSnapshots are missing` };
  if (input.phase === 'cut' && input.ready >= input.volumes) return { status: 'completed' };
  // Consistency comes from the storage's atomic cut itself (one snapshot of the single volume, or one
  // group snapshot of all of them; the CHECKPOINT before only shortens recovery), so once every
  // snapshot is cut and ready the backup is complete even if the process that took it died before
  // recording the cut.
  const atomic = (input.method === 'checkpoint-snapshot' && input.volumes === 1) || input.method === 'group-snapshot';
  if (input.phase === 'consistency' && atomic && input.present >= input.volumes && input.allCut && input.ready >= input.volumes)
    return { status: 'completed' };
  if (input.deadline && Date.parse(input.deadline) < input.now.getTime())
    return {
      status: 'failed',
      error:
        input.phase === 'cut'
          ? `deadline ${input.deadline} passed with ${input.ready} of ${input.volumes} VolumeSnapshots ready`
          : `deadline ${input.deadline} passed before the consistency step finished (was the process taking the backup stopped?)`,
    };
  return { status: 'in_progress' };
}

/**
 * deriveBackup, reused for snapshot sets that cannot change under us: frozen SnapshotInfo objects
 * (the informer cache hands out one frozen object per VolumeSnapshot version). `now` only matters
 * through the deadline, so an in-progress result is reused until its deadline and any other one
 * for good.
 */
const derived = new WeakMap<SnapshotInfo, { set: SnapshotInfo[]; backup: Backup; validUntil: number }>();
function derivedOnce(set: SnapshotInfo[], now: Date): Backup {
  const frozen = set.every((s) => Object.isFrozen(s));
  if (frozen) {
    const hit = derived.get(set[0]!);
    if (hit && now.getTime() <= hit.validUntil && hit.set.length === set.length && hit.set.every((s, i) => s === set[i])) return hit.backup;
  }
  const backup = deriveBackup(set[0]!.labels[Labels.backup]!, set, now);
  if (frozen && backup.startedAt !== now.toISOString()) {
    // The earliest deadline of the set (annotations may differ after a partial write).
    const deadlines = set.map((s) => Date.parse(s.annotations[Annotations.deadline] ?? '')).filter((t) => !Number.isNaN(t));
    const validUntil = backup.status === 'in_progress' ? Math.min(Infinity, ...deadlines) : Infinity;
    derived.set(set[0]!, { set, backup: Object.freeze(backup), validUntil });
  }
  return backup;
}

/** Groups managed snapshots into backups, newest first. Snapshots without a backup id are ignored. */
export function groupBackups(snapshots: SnapshotInfo[], now: Date): Backup[] {
  const byId = new Map<string, SnapshotInfo[]>();
  for (const s of snapshots) {
    const id = s.labels[Labels.backup];
    if (!id) continue;
    const key = `${s.namespace}/${id}`;
    const set = byId.get(key);
    if (set) set.push(s);
    else byId.set(key, [s]);
  }
  const backups = [...byId.values()].map((set) => derivedOnce(set, now));
  // newestFirst with each time parsed once (not twice per comparison).
  const time = new Map(backups.map((b) => [b, Date.parse(backupTime(b))]));
  return backups.sort((a, b) => time.get(b)! - time.get(a)! || b.id.localeCompare(a.id));
}

/** Time the backup represents, for ordering and freshness. */
export const backupTime = (b: Pick<Backup, 'cutAt' | 'startedAt'>): string => b.cutAt ?? b.startedAt;

export function newestFirst(a: Backup, b: Backup): number {
  return Date.parse(backupTime(b)) - Date.parse(backupTime(a)) || b.id.localeCompare(a.id);
}
