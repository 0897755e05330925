/**
 * The Prometheus metrics pgbackup exports: every name in one place (alert rules, dashboards and
 * docs refer to these), and their values computed from backups and schedules, pure.
 * Naming follows Prometheus: base units (`_seconds`, `_bytes`), `_timestamp_seconds` for points in
 * time, `_total` only for counters.
 */
import { type Backup, backupTime } from './backup.js';
import type { ScheduledBackup } from './readModels.js';
import { freshness } from './schedule.js';

export type MetricType = 'gauge' | 'counter' | 'histogram';

export interface MetricDefinition {
  name: string;
  help: string;
  type: MetricType;
  labels: readonly string[];
}

/** Labels of every per-StatefulSet metric. */
export const STATEFULSET_LABELS = ['cluster', 'namespace', 'statefulset'] as const;

const perStatefulSet = (name: string, help: string, extra: string[] = []): MetricDefinition => ({
  name,
  help,
  type: 'gauge',
  labels: [...STATEFULSET_LABELS, ...extra],
});

/** The metrics computed from the cache at scrape time, per StatefulSet. */
export const BackupMetrics = {
  lastCompleted: perStatefulSet(
    'pgbackup_last_completed_backup_timestamp_seconds',
    'Point in time (cut) of the newest completed backup of the StatefulSet',
  ),
  lastFailed: perStatefulSet('pgbackup_last_failed_backup_timestamp_seconds', 'Start of the newest failed backup of the StatefulSet'),
  lastVerified: perStatefulSet(
    'pgbackup_last_verified_backup_timestamp_seconds',
    'When a verification of a backup of the StatefulSet last passed',
  ),
  lastVerificationFailed: perStatefulSet(
    'pgbackup_last_failed_verification_timestamp_seconds',
    'When a verification of a backup of the StatefulSet last failed',
  ),
  newestCompletedAge: perStatefulSet(
    'pgbackup_newest_completed_backup_age_seconds',
    'Seconds since the point in time of the newest completed backup: the data at risk (RPO) now',
  ),
  late: perStatefulSet(
    'pgbackup_backup_late',
    '1 when the newest completed backup is older than the last scheduled run (plus 15 min grace), or there is none; 0 when fresh. Only for StatefulSets with an active schedule',
  ),
  lateBy: perStatefulSet('pgbackup_backup_late_seconds', 'Seconds since the schedule expected a newer completed backup; 0 when fresh'),
  expected: perStatefulSet(
    'pgbackup_backup_expected_timestamp_seconds',
    'The scheduled run the newest completed backup should cover (minus grace)',
  ),
  nextRun: perStatefulSet('pgbackup_backup_next_run_timestamp_seconds', 'Next scheduled run of the backup CronJob'),
  byStatus: perStatefulSet('pgbackup_backups', 'Backups of the StatefulSet by status', ['status']),
  lastDuration: perStatefulSet(
    'pgbackup_last_backup_duration_seconds',
    'Phases of the newest completed backup: start_to_cut (CHECKPOINT and the storage cut), cut_to_ready (until every snapshot was readyToUse, as the process waiting for it saw)',
    ['phase'],
  ),
  lastVerificationRestore: perStatefulSet(
    'pgbackup_last_verification_restore_duration_seconds',
    'Restore time of the newest verification: from creating the volumes until PostgreSQL answered',
  ),
  lastRestoreDuration: perStatefulSet(
    'pgbackup_last_restore_duration_seconds',
    'The newest restore of a backup of the StatefulSet that waited for PostgreSQL: from creating the objects until PostgreSQL answered',
  ),
  lastRestoreAt: perStatefulSet(
    'pgbackup_last_restore_timestamp_seconds',
    'When the newest restore of a backup of the StatefulSet finished',
  ),
  lastSize: perStatefulSet('pgbackup_last_completed_backup_size_bytes', 'Sum of the restoreSize of the newest completed backup'),
} as const satisfies Record<string, MetricDefinition>;

/** Metrics of the API server itself. */
export const ServerMetrics = {
  cacheSynced: {
    name: 'pgbackup_cache_synced',
    help: '1 while the informer (list + watch) of the resource is synced',
    type: 'gauge',
    labels: ['cluster', 'resource'],
  },
  cacheStale: {
    name: 'pgbackup_cache_stale_seconds',
    help: 'How long the informer of the resource has not been synced (0 while it is): the age of what the metrics show',
    type: 'gauge',
    labels: ['cluster', 'resource'],
  },
  kubernetesRequests: {
    name: 'pgbackup_kubernetes_requests_total',
    help: 'Requests this server sent to the Kubernetes API server (watches count once per start)',
    type: 'counter',
    labels: ['cluster'],
  },
  httpRequests: {
    name: 'pgbackup_http_requests_total',
    help: 'HTTP requests served, by route template and status code',
    type: 'counter',
    labels: ['method', 'route', 'code'],
  },
  httpDuration: {
    name: 'pgbackup_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route template',
    type: 'histogram',
    labels: ['method', 'route'],
  },
} as const satisfies Record<string, MetricDefinition>;

export type BackupMetricKey = keyof typeof BackupMetrics;

export interface MetricSample {
  metric: BackupMetricKey;
  labels: Record<string, string>;
  value: number;
}

export interface BackupMetricsInput {
  cluster: string;
  /** Grouped backups, any order. */
  backups: readonly Backup[];
  schedules: readonly ScheduledBackup[];
  now: Date;
}

const seconds = (iso: string | undefined): number | undefined => {
  if (!iso) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms / 1000;
};

/** Seconds from one instant to a later one (0 when the clocks disagree), exact to the millisecond. */
const between = (from: string | undefined, to: string | undefined): number | undefined => {
  if (!from || !to) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isNaN(ms) ? undefined : Math.max(0, ms) / 1000;
};

/** What one pass over a StatefulSet's backups keeps: the newest of each kind. */
interface Newest {
  completed?: Backup;
  completedAt: number;
  failedAt?: number;
  passedAt?: number;
  verificationFailedAt?: number;
  verification?: { at: number; restoreSeconds?: number };
  restore?: { at: number; seconds: number };
  counts: Record<Backup['status'], number>;
}

/**
 * The per-StatefulSet samples, in one pass over the backups (linear: 1,000 backups cost one loop).
 * A StatefulSet that is gone but still has backups keeps its series (its backups are still there to restore).
 */
export function backupMetrics(input: BackupMetricsInput): MetricSample[] {
  const byStatefulSet = new Map<string, Newest>();
  const entry = (namespace: string, name: string): Newest => {
    const key = `${namespace}/${name}`;
    let e = byStatefulSet.get(key);
    if (!e) {
      e = { completedAt: -Infinity, counts: { in_progress: 0, completed: 0, failed: 0 } };
      byStatefulSet.set(key, e);
    }
    return e;
  };
  // A StatefulSet has series once it has a backup or an active schedule (not every StatefulSet of the cluster).
  for (const s of input.schedules) if (!s.suspended) entry(s.namespace, s.statefulSet);
  for (const b of input.backups) {
    if (!b.statefulSet) continue;
    const e = entry(b.namespace, b.statefulSet);
    e.counts[b.status]++;
    if (b.status === 'completed') {
      const at = Date.parse(backupTime(b));
      if (at > e.completedAt) {
        e.completedAt = at;
        e.completed = b;
      }
    } else if (b.status === 'failed') {
      const at = seconds(b.startedAt);
      if (at !== undefined && (e.failedAt === undefined || at > e.failedAt)) e.failedAt = at;
    }
    const v = b.verification;
    const vAt = seconds(v?.at);
    if (v && vAt !== undefined) {
      if (v.result === 'passed' && (e.passedAt === undefined || vAt > e.passedAt)) e.passedAt = vAt;
      if (v.result === 'failed' && (e.verificationFailedAt === undefined || vAt > e.verificationFailedAt)) e.verificationFailedAt = vAt;
      if (!e.verification || vAt > e.verification.at) e.verification = { at: vAt, restoreSeconds: v.restoreSeconds };
    }
    const rAt = seconds(b.lastRestore?.at);
    if (rAt !== undefined && (!e.restore || rAt > e.restore.at)) e.restore = { at: rAt, seconds: b.lastRestore!.seconds };
  }
  const schedules = new Map(input.schedules.map((s) => [`${s.namespace}/${s.statefulSet}`, s]));
  const now = input.now.getTime();
  const samples: MetricSample[] = [];
  for (const [key, e] of byStatefulSet) {
    const slash = key.indexOf('/');
    const labels = { cluster: input.cluster, namespace: key.slice(0, slash), statefulset: key.slice(slash + 1) };
    const add = (metric: BackupMetricKey, value: number | undefined, extra?: Record<string, string>) => {
      if (value !== undefined && Number.isFinite(value)) samples.push({ metric, labels: extra ? { ...labels, ...extra } : labels, value });
    };
    for (const status of ['completed', 'failed', 'in_progress'] as const) add('byStatus', e.counts[status], { status });
    const c = e.completed;
    if (c) {
      add('lastCompleted', e.completedAt / 1000);
      add('newestCompletedAge', Math.max(0, (now - e.completedAt) / 1000));
      add('lastDuration', between(c.startedAt, c.cutAt), { phase: 'start_to_cut' });
      add('lastDuration', between(c.cutAt, c.readyAt), { phase: 'cut_to_ready' });
      add('lastSize', c.size);
    }
    add('lastFailed', e.failedAt);
    add('lastVerified', e.passedAt);
    add('lastVerificationFailed', e.verificationFailedAt);
    add('lastVerificationRestore', e.verification?.restoreSeconds);
    add('lastRestoreDuration', e.restore?.seconds);
    add('lastRestoreAt', e.restore?.at);
    const scheduled = schedules.get(key);
    if (scheduled && !scheduled.suspended) {
      const f = scheduleFreshness(scheduled, c, input.now);
      if (f) {
        add('late', f.state === 'ok' ? 0 : 1);
        add('lateBy', f.state === 'ok' ? 0 : (f.lateBySeconds ?? Math.max(0, (now - Date.parse(f.expectedSince!)) / 1000)));
        add('expected', seconds(f.expectedSince));
        add('nextRun', seconds(f.nextRunAt));
      }
    }
  }
  return samples;
}

/** freshness() of the newest completed backup alone (it only looks at that one); none for a schedule that does not parse. */
function scheduleFreshness(scheduled: ScheduledBackup, newest: Backup | undefined, now: Date) {
  try {
    return freshness(scheduled.schedule, newest ? [newest] : [], now, { scheduledSince: scheduled.createdAt });
  } catch {
    // A CronJob whose schedule does not parse: the controller does not run it either; no freshness beats a failed scrape.
    return undefined;
  }
}
