import { describe, expect, it } from '@jest/globals';
import { Annotations } from '../contract.js';
import { groupBackups } from '../domain/backup.js';
import { planPrune } from '../domain/retention.js';
import { aBackupSnapshot } from '../testing/builders.js';
import { fakeDeps } from '../testing/fakes.js';
import { prune } from './prune.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const day = (d: number) => new Date(NOW.getTime() - d * 86_400_000).toISOString();

const seed = () => [
  aBackupSnapshot({ id: 'd1', startedAt: day(1) }),
  aBackupSnapshot({ id: 'd2', startedAt: day(2) }),
  aBackupSnapshot({ id: 'd3', startedAt: day(3), pvc: 'data-pg-0', volumes: 2 }),
  aBackupSnapshot({ id: 'd3', startedAt: day(3), pvc: 'wal-pg-0', volumes: 2 }),
  aBackupSnapshot({ id: 'd4-pinned', startedAt: day(4), pinned: true }),
  aBackupSnapshot({ id: 'd5-failed', startedAt: day(5), phase: 'failed' }),
  aBackupSnapshot({ id: 'other-old', startedAt: day(30), statefulSet: 'other' }),
  aBackupSnapshot({ id: 'elsewhere', startedAt: day(30), namespace: 'prod' }),
];

describe('prune', () => {
  it('deletes exactly the snapshots of the backups planPrune decides to delete', async () => {
    const deps = fakeDeps({ now: NOW, snapshots: seed() });
    const expected = planPrune(
      groupBackups(
        deps.snapshots.all().filter((s) => s.namespace === 'db' && s.labels['pgbackup.io/statefulset'] === 'pg'),
        NOW,
      ),
      { keepLast: 2 },
      NOW,
    );
    const decisions = await prune(deps, { namespace: 'db', statefulSet: 'pg', policy: { keepLast: 2 } });
    expect(decisions).toEqual(expected);
    expect(decisions.filter((d) => d.action === 'delete').map((d) => d.backup.id)).toEqual(['d3', 'd5-failed']);
    expect(deps.events.recorded).toMatchObject([
      { namespace: 'db', statefulSet: 'pg', reason: 'BackupPruned', note: 'deleted 2 backups by retention: d3, d5-failed' },
    ]);
    expect(
      deps.snapshots
        .all()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['d1-data-pg-0', 'd2-data-pg-0', 'd4-pinned-data-pg-0', 'elsewhere-data-pg-0', 'other-old-data-other-0']);
  });

  it('only considers the backups of that StatefulSet in that namespace', async () => {
    const deps = fakeDeps({ now: NOW, snapshots: seed() });
    deps.groups.groups.set('db/g3', {
      namespace: 'db',
      name: 'g3',
      className: 'group',
      claims: ['data-pg-0', 'wal-pg-0'],
      labels: {},
      annotations: {},
    });
    const decisions = await prune(deps, { namespace: 'db', statefulSet: 'pg', policy: { keepLast: 1 } });
    expect(decisions.map((d) => d.backup.id)).not.toContain('other-old');
    expect(decisions.map((d) => d.backup.id)).not.toContain('elsewhere');
    expect(deps.snapshots.get('db', 'other-old-data-other-0')).toBeDefined();
    expect(deps.snapshots.get('prod', 'elsewhere-data-pg-0')).toBeDefined();
  });

  it('with dryRun, returns the same decisions and deletes nothing', async () => {
    const deps = fakeDeps({ now: NOW, snapshots: seed() });
    const before = deps.snapshots.all();
    const dry = await prune(deps, { namespace: 'db', statefulSet: 'pg', policy: { keepLast: 1 }, dryRun: true });
    expect(dry.some((d) => d.action === 'delete')).toBe(true);
    expect(deps.snapshots.all()).toEqual(before);
    expect(deps.journal.filter((e) => e.startsWith('snapshots.delete'))).toEqual([]);
    expect(deps.events.recorded).toEqual([]);
    expect(await prune(deps, { namespace: 'db', statefulSet: 'pg', policy: { keepLast: 1 } })).toEqual(dry);
  });

  it('refuses an invalid policy before deleting anything', async () => {
    const deps = fakeDeps({ now: NOW, snapshots: seed() });
    await expect(prune(deps, { namespace: 'db', statefulSet: 'pg', policy: {} })).rejects.toMatchObject({ code: 'Invalid' });
    await expect(prune(deps, { namespace: 'db', statefulSet: 'PG', policy: { keepLast: 1 } })).rejects.toMatchObject({ code: 'Invalid' });
    expect(deps.snapshots.all()).toHaveLength(seed().length);
  });

  it('deletes a group backup through its VolumeGroupSnapshot (which owns its VolumeSnapshots), as deleteBackup does', async () => {
    const group = { [Annotations.groupSnapshot]: 'g3' };
    const deps = fakeDeps({
      now: NOW,
      snapshots: [
        aBackupSnapshot({ id: 'd1', startedAt: day(1) }),
        aBackupSnapshot({ id: 'd3', startedAt: day(3), pvc: 'data-pg-0', volumes: 2, annotations: group }),
        aBackupSnapshot({ id: 'd3', startedAt: day(3), pvc: 'wal-pg-0', volumes: 2, annotations: group }),
      ],
    });
    deps.groups.groups.set('db/g3', {
      namespace: 'db',
      name: 'g3',
      className: 'group',
      claims: ['data-pg-0', 'wal-pg-0'],
      labels: {},
      annotations: {},
    });
    const decisions = await prune(deps, { namespace: 'db', statefulSet: 'pg', policy: { keepLast: 1 } });
    expect(decisions.map((d) => [d.backup.id, d.action])).toEqual([
      ['d1', 'keep'],
      ['d3', 'delete'],
    ]);
    expect(deps.journal).toContain('groups.delete db/g3');
    expect(deps.journal.filter((j) => j.startsWith('snapshots.delete'))).toEqual([]);
  });
});
