import { describe, expect, it } from '@jest/globals';
import { PgBackupError } from '../errors.js';
import { aBackupSnapshot } from '../testing/builders.js';
import { fakeDeps } from '../testing/fakes.js';
import { deleteBackup } from './deleteBackup.js';

const NOW = '2026-06-01T12:00:00Z';
const two = (id: string, extra: Partial<Parameters<typeof aBackupSnapshot>[0]> = {}) => [
  aBackupSnapshot({ id, pvc: 'data-pg-0', volumes: 2, ...extra }),
  aBackupSnapshot({ id, pvc: 'wal-pg-0', volumes: 2, ...extra }),
];

describe('deleteBackup', () => {
  it('deletes every VolumeSnapshot of the backup when a newer completed backup remains', async () => {
    const deps = fakeDeps({ now: NOW, snapshots: [...two('old', { startedAt: '2026-05-01T02:00:00Z' }), aBackupSnapshot({ id: 'new' })] });
    const deletedBackup = await deleteBackup(deps, 'db', 'old');
    expect(deletedBackup.id).toBe('old');
    expect(deps.snapshots.all().map((s) => s.name)).toEqual(['new-data-pg-0']);
  });

  it('refuses to delete a pinned backup without force (Conflict with a hint), and deletes it with force', async () => {
    const deps = fakeDeps({
      now: NOW,
      snapshots: [aBackupSnapshot({ id: 'pinned', pinned: true, startedAt: '2026-05-01T02:00:00Z' }), aBackupSnapshot({ id: 'new' })],
    });
    const e = await deleteBackup(deps, 'db', 'pinned').catch((err: unknown) => err);
    expect(e).toBeInstanceOf(PgBackupError);
    expect(e).toMatchObject({
      code: 'Conflict',
      message: 'backup pinned is pinned',
      hint: {
        text: expect.stringMatching(/unpin/),
        step: { operation: 'unpin', target: 'pinned', namespace: 'db' },
        options: [{ option: 'force' }],
      },
    });
    expect(deps.snapshots.all()).toHaveLength(2);
    await deleteBackup(deps, 'db', 'pinned', { force: true });
    expect(deps.snapshots.all().map((s) => s.name)).toEqual(['new-data-pg-0']);
  });

  it('refuses to delete the last completed backup of its StatefulSet without force, and deletes it with force', async () => {
    const deps = fakeDeps({
      now: NOW,
      snapshots: [
        aBackupSnapshot({ id: 'only' }),
        aBackupSnapshot({ id: 'failed', phase: 'failed' }),
        aBackupSnapshot({ id: 'running', phase: 'consistency', readyToUse: false }),
        aBackupSnapshot({ id: 'other-sts', statefulSet: 'other' }),
      ],
    });
    await expect(deleteBackup(deps, 'db', 'only')).rejects.toMatchObject({
      code: 'Conflict',
      message: 'backup only is the last completed backup of StatefulSet pg',
    });
    expect(deps.snapshots.get('db', 'only-data-pg-0')).toBeDefined();
    await deleteBackup(deps, 'db', 'only', { force: true });
    expect(deps.snapshots.get('db', 'only-data-pg-0')).toBeUndefined();
  });

  it('deletes a failed backup even when no completed backup exists', async () => {
    const deps = fakeDeps({ now: NOW, snapshots: [aBackupSnapshot({ id: 'failed', phase: 'failed' })] });
    await deleteBackup(deps, 'db', 'failed');
    expect(deps.snapshots.all()).toEqual([]);
  });

  it('with dryRun, checks and returns the backup but deletes nothing', async () => {
    const deps = fakeDeps({
      now: NOW,
      snapshots: [aBackupSnapshot({ id: 'a', startedAt: '2026-05-01T02:00:00Z' }), aBackupSnapshot({ id: 'b' })],
    });
    expect((await deleteBackup(deps, 'db', 'a', { dryRun: true })).id).toBe('a');
    expect(deps.snapshots.all()).toHaveLength(2);
    await expect(deleteBackup(deps, 'db', 'b', { dryRun: true })).resolves.toMatchObject({ id: 'b' });
  });

  it('still refuses the last completed backup in a dry run', async () => {
    const deps = fakeDeps({ now: NOW, snapshots: [aBackupSnapshot({ id: 'only' })] });
    await expect(deleteBackup(deps, 'db', 'only', { dryRun: true })).rejects.toMatchObject({ code: 'Conflict' });
  });

  it('is NotFound for an unknown backup and Invalid for a bad id', async () => {
    const deps = fakeDeps({ now: NOW });
    await expect(deleteBackup(deps, 'db', 'nope')).rejects.toMatchObject({
      code: 'NotFound',
      message: 'backup "nope" not found in namespace "db"',
    });
    await expect(deleteBackup(deps, 'db', 'Nope')).rejects.toMatchObject({ code: 'Invalid' });
  });
});
