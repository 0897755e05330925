import { describe, expect, it } from '@jest/globals';
import { deriveBackup, groupBackups } from './domain/backup.js';
import { planPrune } from './domain/retention.js';
import { freshness } from './domain/schedule.js';
import {
  BackupListSchema,
  BackupSchema,
  FreshnessSchema,
  PruneDecisionSchema,
  RetentionPolicySchema,
  ScheduleSchema,
  StatefulSetStatusSchema,
} from './schemas.js';
import { aBackupSnapshot, aStatefulSet } from './testing/builders.js';

const now = new Date('2026-06-01T12:00:00Z');

const issues = (result: { success: boolean; error?: { issues: { message: string; path: PropertyKey[] }[] } }) =>
  result.error?.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) ?? [];

describe('BackupSchema', () => {
  it('parses a derived backup unchanged, whatever its status', () => {
    const snapshots = [
      aBackupSnapshot({ id: 'done', pinned: true, verified: { result: 'passed', at: '2026-06-01T03:00:00Z', restoreSeconds: 12 } }),
      aBackupSnapshot({ id: 'running', phase: 'consistency', readyToUse: false }),
      aBackupSnapshot({ id: 'failed', phase: 'failed', recordedError: 'boom' }),
      aBackupSnapshot({ id: 'unknown', phase: undefined, readyToUse: false }),
    ];
    for (const backup of groupBackups(snapshots, now)) expect(BackupSchema.parse(JSON.parse(JSON.stringify(backup)))).toEqual(backup);
    expect(BackupListSchema.parse({ items: groupBackups(snapshots, now) }).items).toHaveLength(4);
  });

  it('rejects an unknown status', () => {
    const backup = deriveBackup('x', [aBackupSnapshot({ id: 'x' })], now);
    expect(BackupSchema.safeParse({ ...backup, status: 'done' }).success).toBe(false);
  });
});

describe('ScheduleSchema', () => {
  it('accepts a valid schedule', () => {
    expect(ScheduleSchema.parse({ cron: '0 2 * * *', timeZone: 'Europe/Berlin' })).toEqual({
      cron: '0 2 * * *',
      timeZone: 'Europe/Berlin',
    });
  });

  it('rejects a bad cron with the domain message', () => {
    expect(issues(ScheduleSchema.safeParse({ cron: '0 0 2 * * *' }))).toEqual([
      { path: '', message: 'invalid schedule "0 0 2 * * *": a CronJob schedule has 5 fields (minute hour day-of-month month day-of-week)' },
    ]);
    expect(ScheduleSchema.safeParse({ cron: '0 2 * * *', timeZone: 'Mars/Olympus' }).success).toBe(false);
  });
});

describe('other schemas accept what the domain produces', () => {
  it('RetentionPolicySchema rejects negative and fractional counts', () => {
    expect(RetentionPolicySchema.safeParse({ keepLast: -1 }).success).toBe(false);
    expect(RetentionPolicySchema.safeParse({ keepDaily: 1.5 }).success).toBe(false);
    expect(RetentionPolicySchema.parse({ keepLast: 3, maxAgeDays: 0.5 })).toEqual({ keepLast: 3, maxAgeDays: 0.5 });
  });

  it('FreshnessSchema, PruneDecisionSchema and StatefulSetStatusSchema parse domain output', () => {
    const backups = groupBackups(
      [aBackupSnapshot({ id: 'a', startedAt: '2026-06-01T02:00:00Z' }), aBackupSnapshot({ id: 'b', startedAt: '2026-05-01T02:00:00Z' })],
      now,
    );
    const f = freshness({ cron: '@daily' }, backups, now);
    expect(FreshnessSchema.parse(f)).toEqual(f);
    for (const d of planPrune(backups, { keepLast: 1 }, now)) expect(PruneDecisionSchema.parse(d)).toEqual(d);
    const status = {
      ...aStatefulSet(),
      newestBackup: backups[0],
      newestCompletedBackup: backups[0],
      schedule: { cron: '@daily' },
      freshness: f,
    };
    const { volumeClaimTemplates: _, ...withoutTemplates } = status;
    expect(StatefulSetStatusSchema.parse(status)).toEqual(withoutTemplates);
  });
});
