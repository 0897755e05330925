import { describe, expect, it } from '@jest/globals';
import { Annotations, Labels } from '../contract.js';
import { aBackupSnapshot } from '../testing/builders.js';
import { backupTime, deriveBackup, deriveStatus, groupBackups, newestFirst } from './backup.js';

const now = new Date('2026-06-01T12:00:00Z');
const ID = 'pg-20260601020000-abcd';

describe('deriveBackup: status', () => {
  it('is completed when the consistency step recorded the cut and every snapshot is ready', () => {
    const b = deriveBackup(ID, [aBackupSnapshot({ id: ID })], now);
    expect(b.status).toBe('completed');
    expect(b.phase).toBe('cut');
    expect(b.error).toBeUndefined();
  });

  it('a group snapshot whose taker died before recording the cut: in progress until every volume is adopted, then completed', () => {
    const member = (pvc: string) =>
      aBackupSnapshot({
        id: ID,
        pvc,
        volumes: 2,
        phase: 'consistency',
        readyToUse: true,
        cutAt: '2026-06-01T02:00:01Z',
        annotations: { 'pgbackup.io/method': 'group-snapshot' },
      });
    const one = deriveBackup(ID, [member('data-pg-0')], now);
    expect(one.status).toBe('in_progress');
    expect(one.phase).toBe('consistency');
    expect(deriveBackup(ID, [member('data-pg-0'), member('wal-pg-0')], now).status).toBe('completed');
  });

  it('is completed when the one atomic snapshot of a checkpoint-snapshot is cut and ready, even if the taker died before recording the cut', () => {
    const b = deriveBackup(ID, [aBackupSnapshot({ id: ID, phase: 'consistency', readyToUse: true, cutAt: '2026-06-01T02:00:01Z' })], now);
    expect(b.status).toBe('completed');
    expect(b.phase).toBe('consistency');
  });

  it('stays in progress for a checkpoint-snapshot not cut yet', () => {
    const b = deriveBackup(ID, [aBackupSnapshot({ id: ID, phase: 'consistency', readyToUse: false, cutAt: undefined })], now);
    expect(b.status).toBe('in_progress');
  });

  it('is in progress while the cut is recorded but a snapshot is not ready yet', () => {
    const b = deriveBackup(ID, [aBackupSnapshot({ id: ID, phase: 'cut', readyToUse: false })], now);
    expect(b.status).toBe('in_progress');
  });

  it('is in progress when no phase is recorded at all (phase unknown), and not completed', () => {
    const b = deriveBackup(ID, [aBackupSnapshot({ id: ID, phase: undefined, readyToUse: true })], now);
    expect(b.phase).toBe('unknown');
    expect(b.status).toBe('in_progress');
  });

  it('is completed only when ALL `volumes` snapshots are ready, not just some', () => {
    const a = aBackupSnapshot({ id: ID, pvc: 'data-pg-0', volumes: 2 });
    const w = aBackupSnapshot({ id: ID, pvc: 'wal-pg-0', volumes: 2, readyToUse: false });
    expect(deriveBackup(ID, [a, w], now).status).toBe('in_progress');
    expect(deriveBackup(ID, [a, { ...w, readyToUse: true }], now).status).toBe('completed');
  });

  it('is failed with the recorded error when the process taking it recorded a failure', () => {
    const b = deriveBackup(
      ID,
      [aBackupSnapshot({ id: ID, phase: 'failed', recordedError: 'pod pg-0 is no longer the primary', readyToUse: true })],
      now,
    );
    expect(b.status).toBe('failed');
    expect(b.error).toBe('pod pg-0 is no longer the primary');
  });

  it('is failed with a default reason when a failure is recorded without an error', () => {
    const b = deriveBackup(ID, [aBackupSnapshot({ id: ID, phase: 'failed' })], now);
    expect(b.status).toBe('failed');
    expect(b.error).toBe('the backup was marked failed');
  });

  it('is failed when a snapshot reports an error, naming the snapshot', () => {
    const s = aBackupSnapshot({ id: ID, phase: 'consistency', readyToUse: false, error: 'quota exceeded' });
    const b = deriveBackup(ID, [s], now);
    expect(b.status).toBe('failed');
    expect(b.error).toBe(`${s.name}: quota exceeded`);
  });

  it('is failed when a snapshot is missing after the cut', () => {
    const b = deriveBackup(ID, [aBackupSnapshot({ id: ID, pvc: 'data-pg-0', volumes: 2 })], now);
    expect(b.status).toBe('failed');
    expect(b.error).toBe('incomplete: 1 of 2 VolumeSnapshots are missing');
  });

  it('is still in progress when a snapshot is missing before the cut (it may not be created yet)', () => {
    const b = deriveBackup(ID, [aBackupSnapshot({ id: ID, pvc: 'data-pg-0', volumes: 2, phase: 'consistency', readyToUse: false })], now);
    expect(b.status).toBe('in_progress');
  });

  it('is failed when the deadline passed before the consistency step finished', () => {
    const b = deriveBackup(
      ID,
      [aBackupSnapshot({ id: ID, phase: 'consistency', readyToUse: false, deadline: '2026-06-01T02:05:00Z' })],
      now,
    );
    expect(b.status).toBe('failed');
    expect(b.error).toMatch(/^deadline 2026-06-01T02:05:00Z passed before the consistency step finished/);
  });

  it('is failed when the deadline passed after the cut with snapshots still not ready', () => {
    const b = deriveBackup(ID, [aBackupSnapshot({ id: ID, phase: 'cut', readyToUse: false, deadline: '2026-06-01T11:00:00Z' })], now);
    expect(b.status).toBe('failed');
    expect(b.error).toBe('deadline 2026-06-01T11:00:00Z passed with 0 of 1 VolumeSnapshots ready');
  });

  it('is in progress while the deadline is still ahead', () => {
    const b = deriveBackup(
      ID,
      [aBackupSnapshot({ id: ID, phase: 'consistency', readyToUse: false, deadline: '2026-06-01T12:00:01Z' })],
      now,
    );
    expect(b.status).toBe('in_progress');
  });

  it('stays completed after its deadline: a finished backup does not expire', () => {
    const b = deriveBackup(ID, [aBackupSnapshot({ id: ID, deadline: '2026-06-01T02:05:00Z' })], now);
    expect(b.status).toBe('completed');
  });

  it('ignores the error of a snapshot that is ready anyway', () => {
    const b = deriveBackup(ID, [aBackupSnapshot({ id: ID, error: 'transient: retried' })], now);
    expect(b.status).toBe('completed');
  });
});

describe('deriveBackup: partial annotation writes resolve to the safer reading', () => {
  const pair = (a: Parameters<typeof aBackupSnapshot>[0], b: Parameters<typeof aBackupSnapshot>[0]) => [
    aBackupSnapshot({ volumes: 2, pvc: 'data-pg-0', ...a }),
    aBackupSnapshot({ volumes: 2, pvc: 'wal-pg-0', ...b }),
  ];

  it('failed wins over cut, whichever snapshot carries it', () => {
    for (const [x, y] of [
      [{ phase: 'failed' as const, recordedError: 'boom' }, { phase: 'cut' as const }],
      [{ phase: 'cut' as const }, { phase: 'failed' as const, recordedError: 'boom' }],
    ]) {
      const b = deriveBackup(ID, pair({ id: ID, ...x }, { id: ID, ...y }), now);
      expect(b.phase).toBe('failed');
      expect(b.status).toBe('failed');
      expect(b.error).toBe('boom');
    }
  });

  it('a cut recorded on only some snapshots is not a cut', () => {
    const b = deriveBackup(ID, pair({ id: ID, phase: 'cut' }, { id: ID, phase: 'consistency', readyToUse: true }), now);
    expect(b.phase).toBe('consistency');
    expect(b.status).toBe('in_progress');
  });

  it('pinned wins when only one snapshot carries the pin', () => {
    expect(deriveBackup(ID, pair({ id: ID, pinned: true }, { id: ID }), now).pinned).toBe(true);
    expect(deriveBackup(ID, pair({ id: ID }, { id: ID, pinned: true }), now).pinned).toBe(true);
    expect(deriveBackup(ID, pair({ id: ID }, { id: ID }), now).pinned).toBe(false);
  });

  it('the newest verification wins, whatever snapshot it is written on', () => {
    const older = { result: 'passed' as const, at: '2026-06-01T03:00:00Z', restoreSeconds: 40 };
    const newer = { result: 'failed' as const, at: '2026-06-01T04:00:00.000Z', message: 'amcheck found corruption' };
    expect(deriveBackup(ID, pair({ id: ID, verified: older }, { id: ID, verified: newer }), now).verification).toEqual(newer);
    expect(deriveBackup(ID, pair({ id: ID, verified: newer }, { id: ID, verified: older }), now).verification).toEqual(newer);
  });

  it('ignores a verification annotation that is not valid JSON or has no known result', () => {
    const good = { result: 'passed' as const, at: '2026-06-01T03:00:00Z' };
    const b = deriveBackup(
      ID,
      pair(
        { id: ID, annotations: { [Annotations.verified]: '{not json' } },
        { id: ID, annotations: { [Annotations.verified]: JSON.stringify({ result: 'maybe', at: '2026-06-02T00:00:00Z' }) } },
      ),
      now,
    );
    expect(b.verification).toBeUndefined();
    expect(
      deriveBackup(ID, pair({ id: ID, verified: good }, { id: ID, annotations: { [Annotations.verified]: '{not json' } }), now)
        .verification,
    ).toEqual(good);
  });
});

describe('deriveBackup: facts', () => {
  it('sums restoreSize when every snapshot reports one', () => {
    const b = deriveBackup(
      ID,
      [
        aBackupSnapshot({ id: ID, pvc: 'a', volumes: 2, restoreSize: 100 }),
        aBackupSnapshot({ id: ID, pvc: 'b', volumes: 2, restoreSize: 23 }),
      ],
      now,
    );
    expect(b.size).toBe(123);
  });

  it('has no size while any snapshot size is unknown', () => {
    const b = deriveBackup(
      ID,
      [
        aBackupSnapshot({ id: ID, pvc: 'a', volumes: 2, restoreSize: 100 }),
        aBackupSnapshot({ id: ID, pvc: 'b', volumes: 2, readyToUse: false }),
      ],
      now,
    );
    expect(b.size).toBeUndefined();
  });

  it('counts a snapshot of size 0 as known', () => {
    expect(deriveBackup(ID, [aBackupSnapshot({ id: ID, restoreSize: 0 })], now).size).toBe(0);
  });

  it('takes the point in time from the latest cut of its snapshots', () => {
    const b = deriveBackup(
      ID,
      [
        aBackupSnapshot({ id: ID, pvc: 'a', volumes: 2, cutAt: '2026-06-01T02:00:03Z' }),
        aBackupSnapshot({ id: ID, pvc: 'b', volumes: 2, cutAt: '2026-06-01T02:00:01.500Z' }),
      ],
      now,
    );
    expect(b.cutAt).toBe('2026-06-01T02:00:03Z');
    expect(backupTime(b)).toBe('2026-06-01T02:00:03Z');
  });

  it('reads the contract: StatefulSet, type, method, volumes, startedAt, pod, lsn, version', () => {
    const s = aBackupSnapshot({
      id: ID,
      type: 'scheduled',
      volumes: 1,
      startedAt: '2026-06-01T02:00:00Z',
      annotations: { [Annotations.pod]: 'pg-0', [Annotations.lsn]: '0/3000060', [Annotations.pgVersion]: '17.2' },
    });
    const b = deriveBackup(ID, [s], now);
    expect(b).toMatchObject({
      id: ID,
      namespace: 'db',
      statefulSet: 'pg',
      type: 'scheduled',
      method: 'checkpoint-snapshot',
      volumes: 1,
      startedAt: '2026-06-01T02:00:00Z',
      pod: 'pg-0',
      lsn: '0/3000060',
      pgVersion: '17.2',
      pinned: false,
    });
    expect(b.snapshots).toHaveLength(1);
  });

  it('falls back safely on unknown values: type manual, no method, volumes = snapshots present', () => {
    const s = aBackupSnapshot({
      id: ID,
      labels: { [Labels.type]: 'weird' },
      annotations: { [Annotations.method]: 'magic', [Annotations.volumes]: 'x' },
    });
    const b = deriveBackup(ID, [s], now);
    expect(b.type).toBe('manual');
    expect(b.method).toBeUndefined();
    expect(b.volumes).toBe(1);
  });

  it('uses the earliest snapshot creation when started-at is not recorded', () => {
    const a = aBackupSnapshot({ id: ID, pvc: 'a', volumes: 2 });
    const b = aBackupSnapshot({ id: ID, pvc: 'b', volumes: 2 });
    delete a.annotations[Annotations.startedAt];
    delete b.annotations[Annotations.startedAt];
    const backup = deriveBackup(
      ID,
      [
        { ...a, createdAt: '2026-06-01T02:00:05Z' },
        { ...b, createdAt: '2026-06-01T02:00:01Z' },
      ],
      now,
    );
    expect(backup.startedAt).toBe('2026-06-01T02:00:01Z');
  });
});

describe('deriveStatus', () => {
  const base = { phase: 'cut' as const, volumes: 1, present: 1, ready: 1, now };

  it('a recorded failure comes before everything else', () => {
    expect(deriveStatus({ ...base, phase: 'failed', recordedError: 'x' })).toEqual({ status: 'failed', error: 'x' });
  });

  it('completed needs the cut and ready >= volumes', () => {
    expect(deriveStatus(base)).toEqual({ status: 'completed' });
    expect(deriveStatus({ ...base, ready: 0 })).toEqual({ status: 'in_progress' });
    expect(deriveStatus({ ...base, phase: 'consistency' })).toEqual({ status: 'in_progress' });
  });
});

describe('groupBackups', () => {
  it('groups snapshots by namespace and backup id', () => {
    const snapshots = [
      aBackupSnapshot({ id: 'pg-1', pvc: 'data', volumes: 2 }),
      aBackupSnapshot({ id: 'pg-1', pvc: 'wal', volumes: 2 }),
      aBackupSnapshot({ id: 'pg-1', namespace: 'other', startedAt: '2026-06-01T01:00:00Z' }),
      aBackupSnapshot({ id: 'pg-2', startedAt: '2026-06-01T03:00:00Z' }),
    ];
    const backups = groupBackups(snapshots, now);
    expect(backups.map((b) => `${b.namespace}/${b.id}:${b.snapshots.length}:${b.status}`)).toEqual([
      'db/pg-2:1:completed',
      'db/pg-1:2:completed',
      'other/pg-1:1:completed',
    ]);
  });

  it('ignores snapshots without a backup id', () => {
    const stray = aBackupSnapshot({ id: 'x' });
    delete stray.labels[Labels.backup];
    expect(groupBackups([stray], now)).toEqual([]);
  });

  it('orders newest first by time, not by how the timestamps are written', () => {
    const snapshots = [
      aBackupSnapshot({ id: 'b-older', cutAt: '2026-06-01T10:00:00Z' }),
      aBackupSnapshot({ id: 'a-newer', cutAt: '2026-06-01T10:00:00.500Z' }),
      aBackupSnapshot({ id: 'c-newest', cutAt: '2026-06-01T12:30:00+02:00' }), // 10:30Z
      aBackupSnapshot({ id: 'd-oldest', cutAt: '2026-06-01T09:00:00.000Z' }),
    ];
    expect(groupBackups(snapshots, now).map((b) => b.id)).toEqual(['c-newest', 'a-newer', 'b-older', 'd-oldest']);
  });

  it('orders backups of the same instant by id, newest id first', () => {
    const snapshots = [aBackupSnapshot({ id: 'pg-20260601020000-aaaa' }), aBackupSnapshot({ id: 'pg-20260601020000-bbbb' })];
    expect(groupBackups(snapshots, now).map((b) => b.id)).toEqual(['pg-20260601020000-bbbb', 'pg-20260601020000-aaaa']);
  });

  it('orders an in-progress backup by when it started', () => {
    const snapshots = [
      aBackupSnapshot({ id: 'done', cutAt: '2026-06-01T10:00:00Z' }),
      aBackupSnapshot({ id: 'running', phase: 'consistency', readyToUse: false, startedAt: '2026-06-01T11:00:00Z' }),
    ];
    const backups = groupBackups(snapshots, now);
    expect(backups.map((b) => b.id)).toEqual(['running', 'done']);
    expect(newestFirst(backups[0]!, backups[1]!)).toBeLessThan(0);
  });
});
