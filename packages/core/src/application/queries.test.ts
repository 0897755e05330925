import { describe, expect, it } from '@jest/globals';
import { Annotations } from '../contract.js';
import { aBackupSnapshot } from '../testing/builders.js';
import { fakeDeps } from '../testing/fakes.js';
import { getBackup } from './getBackup.js';
import { listBackups } from './listBackups.js';
import { listSnapshots } from './listSnapshots.js';
import { pinBackup } from './pinBackup.js';

const NOW = '2026-06-01T12:00:00Z';
const unmanaged = () => {
  const s = aBackupSnapshot({ id: 'hand-made' });
  delete s.labels['app.kubernetes.io/managed-by'];
  return s;
};
const seed = () => [
  aBackupSnapshot({ id: 'a', startedAt: '2026-06-01T01:00:00Z' }),
  aBackupSnapshot({ id: 'b', startedAt: '2026-06-01T03:00:00Z', phase: 'failed' }),
  aBackupSnapshot({ id: 'c', startedAt: '2026-06-01T02:00:00Z', statefulSet: 'other', labels: { team: 'x' } }),
  aBackupSnapshot({ id: 'd', startedAt: '2026-06-01T04:00:00Z', namespace: 'prod' }),
  unmanaged(),
];

describe('listBackups', () => {
  it('lists the managed backups of a namespace newest first', async () => {
    const deps = fakeDeps({ now: NOW, snapshots: seed() });
    expect((await listBackups(deps, { namespace: 'db' })).map((b) => b.id)).toEqual(['b', 'c', 'a']);
  });

  it('lists every namespace when none is given', async () => {
    const deps = fakeDeps({ now: NOW, snapshots: seed() });
    expect((await listBackups(deps, {})).map((b) => b.id)).toEqual(['d', 'b', 'c', 'a']);
  });

  it('filters by StatefulSet, extra selector and status', async () => {
    const deps = fakeDeps({ now: NOW, snapshots: seed() });
    expect((await listBackups(deps, { namespace: 'db', statefulSet: 'pg' })).map((b) => b.id)).toEqual(['b', 'a']);
    expect((await listBackups(deps, { namespace: 'db', selector: 'team in (x,y)' })).map((b) => b.id)).toEqual(['c']);
    expect((await listBackups(deps, { namespace: 'db', status: 'failed' })).map((b) => b.id)).toEqual(['b']);
  });

  it('rejects a bad namespace, StatefulSet or selector with Invalid', async () => {
    const deps = fakeDeps({ now: NOW });
    await expect(listBackups(deps, { namespace: 'Db' })).rejects.toMatchObject({ code: 'Invalid' });
    await expect(listBackups(deps, { statefulSet: 'pg_0' })).rejects.toMatchObject({ code: 'Invalid' });
    await expect(listBackups(deps, { selector: 'a in x' })).rejects.toMatchObject({ code: 'Invalid' });
  });
});

describe('getBackup', () => {
  it('derives one backup from its managed snapshots', async () => {
    const deps = fakeDeps({ now: NOW, snapshots: seed() });
    await expect(getBackup(deps, 'db', 'a')).resolves.toMatchObject({ id: 'a', status: 'completed' });
  });

  it('is NotFound for an id in another namespace or on unmanaged snapshots, with a hint', async () => {
    const deps = fakeDeps({ now: NOW, snapshots: seed() });
    await expect(getBackup(deps, 'db', 'd')).rejects.toMatchObject({
      code: 'NotFound',
      hint: { text: 'list the backups', step: { operation: 'list', namespace: 'db' } },
    });
    await expect(getBackup(deps, 'db', 'hand-made')).rejects.toMatchObject({ code: 'NotFound' });
  });
});

describe('listSnapshots', () => {
  it('lists the managed snapshots of one PVC, newest first', async () => {
    const deps = fakeDeps({ now: NOW, snapshots: [...seed(), aBackupSnapshot({ id: 'e', pvc: 'wal-pg-0' })] });
    expect((await listSnapshots(deps, 'db', 'data-pg-0')).map((s) => s.name)).toEqual(['b-data-pg-0', 'a-data-pg-0']);
  });
});

describe('pinBackup', () => {
  it('pins and unpins every snapshot of a backup', async () => {
    const deps = fakeDeps({
      now: NOW,
      snapshots: [aBackupSnapshot({ id: 'a', pvc: 'data', volumes: 2 }), aBackupSnapshot({ id: 'a', pvc: 'wal', volumes: 2 })],
    });
    expect((await pinBackup(deps, 'db', 'a', true)).pinned).toBe(true);
    expect(deps.snapshots.all().map((s) => s.annotations[Annotations.pinned])).toEqual(['true', 'true']);
    expect((await pinBackup(deps, 'db', 'a', false)).pinned).toBe(false);
    expect(deps.snapshots.all().map((s) => Annotations.pinned in s.annotations)).toEqual([false, false]);
  });
});
