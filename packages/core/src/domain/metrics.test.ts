import { describe, expect, it } from '@jest/globals';
import { aBackup } from '../testing/builders.js';
import { BackupMetrics, type MetricSample, ServerMetrics, backupMetrics } from './metrics.js';
import type { ScheduledBackup } from './readModels.js';

const now = new Date('2026-06-02T12:00:00Z');
const t = (iso: string) => Date.parse(iso) / 1000;
const daily = (overrides: Partial<ScheduledBackup> = {}): ScheduledBackup => ({
  namespace: 'db',
  statefulSet: 'pg',
  schedule: { cron: '0 2 * * *' },
  suspended: false,
  ...overrides,
});

/** name{labels} → value, for readable expectations. */
const byName = (samples: MetricSample[]) =>
  Object.fromEntries(
    samples.map((s) => {
      const { cluster: _c, namespace, statefulset, ...rest } = s.labels;
      const extra = Object.entries(rest).map(([k, v]) => `,${k}=${v}`);
      return [`${BackupMetrics[s.metric].name}{${namespace}/${statefulset}${extra.join('')}}`, s.value];
    }),
  );

describe('backupMetrics', () => {
  it('names every metric the Prometheus way, once', () => {
    const all = [...Object.values(BackupMetrics), ...Object.values(ServerMetrics)];
    expect(new Set(all.map((m) => m.name)).size).toBe(all.length);
    for (const m of all) {
      expect(m.name).toMatch(/^pgbackup_[a-z_]+$/);
      expect(m.name.endsWith('_total')).toBe(m.type === 'counter');
    }
  });

  it('shows the newest completed, failed and verified backup of each StatefulSet, and its freshness', () => {
    const samples = backupMetrics({
      cluster: 'prod',
      now,
      schedules: [daily()],
      backups: [
        aBackup('pg-1', '2026-06-01T02:00:00Z', { size: 100 }),
        aBackup('pg-2', '2026-06-02T02:00:00Z', {
          startedAt: '2026-06-02T01:59:50Z',
          cutAt: '2026-06-02T02:00:00Z',
          readyAt: '2026-06-02T02:00:30Z',
          lastRestore: { at: '2026-06-02T06:00:00Z', seconds: 75, target: 'db/pg-copy' },
          size: 200,
          verification: { result: 'passed', at: '2026-06-02T03:00:00Z', restoreSeconds: 42 },
        }),
        aBackup('pg-3', '2026-06-02T04:00:00Z', { status: 'failed' }),
        aBackup('pg-4', '2026-06-02T11:59:00Z', { status: 'in_progress' }),
        aBackup('pg-0', '2026-05-31T02:00:00Z', { verification: { result: 'failed', at: '2026-05-31T03:00:00Z' } }),
      ],
    });
    expect(samples.every((s) => s.labels.cluster === 'prod')).toBe(true);
    expect(byName(samples)).toEqual({
      'pgbackup_backups{db/pg,status=completed}': 3,
      'pgbackup_backups{db/pg,status=failed}': 1,
      'pgbackup_backups{db/pg,status=in_progress}': 1,
      'pgbackup_last_completed_backup_timestamp_seconds{db/pg}': t('2026-06-02T02:00:00Z'),
      'pgbackup_newest_completed_backup_age_seconds{db/pg}': 10 * 3600,
      'pgbackup_last_backup_duration_seconds{db/pg,phase=start_to_cut}': 10,
      'pgbackup_last_backup_duration_seconds{db/pg,phase=cut_to_ready}': 30,
      'pgbackup_last_restore_duration_seconds{db/pg}': 75,
      'pgbackup_last_restore_timestamp_seconds{db/pg}': t('2026-06-02T06:00:00Z'),
      'pgbackup_last_completed_backup_size_bytes{db/pg}': 200,
      'pgbackup_last_failed_backup_timestamp_seconds{db/pg}': t('2026-06-02T04:00:00Z'),
      'pgbackup_last_verified_backup_timestamp_seconds{db/pg}': t('2026-06-02T03:00:00Z'),
      'pgbackup_last_failed_verification_timestamp_seconds{db/pg}': t('2026-05-31T03:00:00Z'),
      'pgbackup_last_verification_restore_duration_seconds{db/pg}': 42,
      'pgbackup_backup_late{db/pg}': 0,
      'pgbackup_backup_late_seconds{db/pg}': 0,
      'pgbackup_backup_expected_timestamp_seconds{db/pg}': t('2026-06-02T02:00:00Z'),
      'pgbackup_backup_next_run_timestamp_seconds{db/pg}': t('2026-06-03T02:00:00Z'),
    });
  });

  it('says late, and by how much, when the scheduled run left no completed backup', () => {
    const samples = byName(backupMetrics({ cluster: 'c', now, schedules: [daily()], backups: [aBackup('pg-1', '2026-06-01T02:00:00Z')] }));
    expect(samples['pgbackup_backup_late{db/pg}']).toBe(1);
    expect(samples['pgbackup_backup_late_seconds{db/pg}']).toBe(10 * 3600);
  });

  it('is not late for a run expected before the schedule was set (its CronJob created after it)', () => {
    const schedule = { ...daily(), createdAt: '2026-06-02T06:00:00Z' };
    const samples = byName(backupMetrics({ cluster: 'c', now, schedules: [schedule], backups: [aBackup('pg-1', '2026-06-01T02:00:00Z')] }));
    expect(samples['pgbackup_backup_late{db/pg}']).toBe(0);
    expect(samples['pgbackup_backup_late_seconds{db/pg}']).toBe(0);
  });

  it('says late for a scheduled StatefulSet without any backup yet', () => {
    const samples = byName(backupMetrics({ cluster: 'c', now, schedules: [daily()], backups: [] }));
    expect(samples['pgbackup_backup_late{db/pg}']).toBe(1);
    expect(samples['pgbackup_backup_late_seconds{db/pg}']).toBe(10 * 3600);
    expect(samples['pgbackup_backups{db/pg,status=completed}']).toBe(0);
    expect(samples['pgbackup_last_completed_backup_timestamp_seconds{db/pg}']).toBeUndefined();
  });

  it('has no freshness for a suspended or unparsable schedule, nor a StatefulSet without backups or schedule', () => {
    const samples = backupMetrics({
      cluster: 'c',
      now,
      schedules: [daily({ suspended: true }), daily({ statefulSet: 'broken', schedule: { cron: 'not a cron' } })],
      backups: [aBackup('pg-1', '2026-06-01T02:00:00Z')],
    });
    expect(samples.filter((s) => s.metric === 'late')).toEqual([]);
    expect(new Set(samples.map((s) => s.labels.statefulset))).toEqual(new Set(['pg', 'broken']));
  });

  it('computes 1,000 backups of 100 StatefulSets in one linear pass', () => {
    const backups = Array.from({ length: 1000 }, (_, i) =>
      aBackup(`s${i % 100}-${i}`, new Date(now.getTime() - i * 60_000).toISOString(), { statefulSet: `s${i % 100}` }),
    );
    const schedules = Array.from({ length: 100 }, (_, i) => daily({ statefulSet: `s${i}`, schedule: { cron: '*/5 * * * *' } }));
    const samples = byName(backupMetrics({ cluster: 'c', now, schedules, backups }));
    expect(samples['pgbackup_backups{db/s7,status=completed}']).toBe(10);
    expect(samples['pgbackup_last_completed_backup_timestamp_seconds{db/s7}']).toBe((now.getTime() - 7 * 60_000) / 1000);
    expect(samples['pgbackup_backup_late{db/s7}']).toBe(0);
  });
});
