import { describe, expect, it } from '@jest/globals';
import { forbidden } from '../errors.js';
import type { SnapshotContentInfo } from '../domain/readModels.js';
import type { AccessReviewer, SnapshotContentReader } from '../ports.js';
import { aBackupSnapshot, aPod, aPvc, aSnapshotClass, aStatefulSet } from '../testing/builders.js';
import { fakeDeps } from '../testing/fakes.js';
import { doctor } from './doctor.js';

const allowAll: AccessReviewer = { review: async (checks) => checks.map((check) => ({ check, allowed: true })) };
const contents = (items: SnapshotContentInfo[] | Error): SnapshotContentReader => ({
  listContents: async () => {
    if (items instanceof Error) throw items;
    return items;
  },
});

function world() {
  const deps = fakeDeps({ statefulSets: [aStatefulSet()], classes: [aSnapshotClass({ name: 'fast-snap', isDefault: true })] });
  deps.database.primary('db', 'pg-0');
  return deps;
}

describe('doctor', () => {
  it('snapshot CRDs absent: the VolumeSnapshot API check fails with what to install', async () => {
    const deps = world();
    deps.discovery.support = { snapshotVersions: [], groupSnapshotVersions: [] };
    const report = await doctor({ ...deps, access: allowAll }, { namespace: 'db', statefulSet: 'pg' });
    expect(report.ok).toBe(false);
    expect(report.checks[0]).toEqual({
      name: 'VolumeSnapshot API',
      ok: false,
      detail: 'snapshot.storage.k8s.io is not served',
      fix: expect.stringMatching(/install the external-snapshotter CRDs and snapshot-controller/),
    });
    expect(report.checks.find((c) => c.name === 'VolumeGroupSnapshot API')?.detail).toMatch(/^not served/);
  });

  it('several volumes per pod: consistent with a VolumeGroupSnapshotClass for the driver, a failed check without', async () => {
    const deps = fakeDeps({
      statefulSets: [
        aStatefulSet({
          pods: [aPod(0, { pvcs: [aPvc({ name: 'data-pg-0', template: 'data' }), aPvc({ name: 'wal-pg-0', template: 'wal' })] })],
        }),
      ],
      classes: [aSnapshotClass({ name: 'fast-snap', isDefault: true })],
    });
    deps.database.primary('db', 'pg-0');
    const consistency = async () =>
      (await doctor({ ...deps, access: allowAll }, { namespace: 'db', statefulSet: 'pg' })).checks.find((c) => c.name === 'Consistency');
    expect(await consistency()).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/2 volumes per pod .* VolumeGroupSnapshots are not served/),
    });
    deps.discovery.support.groupSnapshotVersions = ['v1'];
    expect(await consistency()).toMatchObject({ ok: false, detail: expect.stringMatching(/no VolumeGroupSnapshotClass for CSI driver/) });
    deps.groups.classes.push(aSnapshotClass({ name: 'fast-group' }));
    expect(await consistency()).toMatchObject({
      ok: true,
      detail: '2 volumes per pod: a CHECKPOINT plus one VolumeGroupSnapshot (fast-group) cuts them at one instant',
    });
  });

  it('only an old snapshot API version: says which versions are served', async () => {
    const deps = world();
    deps.discovery.support = { snapshotVersions: ['v1beta1'], groupSnapshotVersions: [] };
    const report = await doctor({ ...deps, access: allowAll }, { namespace: 'db' });
    expect(report.checks[0]).toMatchObject({ ok: false, detail: 'snapshot.storage.k8s.io/v1 not served (only v1beta1)' });
  });

  it('lists a backup whose VolumeSnapshotContent is gone and a content whose VolumeSnapshot is gone', async () => {
    const deps = world();
    const good = { ...aBackupSnapshot({ id: 'pg-20260601020000-good' }), contentName: 'snapcontent-good' };
    const broken = { ...aBackupSnapshot({ id: 'pg-20260531020000-lost' }), contentName: 'snapcontent-lost' };
    deps.snapshots.put(good, broken);
    const report = await doctor(
      {
        ...deps,
        access: allowAll,
        contents: contents([
          { name: 'snapcontent-good', snapshotNamespace: 'db', snapshotName: good.name, deletionPolicy: 'Delete' },
          { name: 'snapcontent-left', snapshotNamespace: 'db', snapshotName: 'pg-20260501020000-gone-data-pg-0', deletionPolicy: 'Retain' },
          { name: 'snapcontent-other', snapshotNamespace: 'elsewhere', snapshotName: 'x', deletionPolicy: 'Retain' },
          { name: 'snapcontent-going', snapshotNamespace: 'db', snapshotName: 'y', deletionPolicy: 'Delete', deleting: true },
        ]),
      },
      { namespace: 'db', statefulSet: 'pg' },
    );
    const orphans = report.checks.find((c) => c.name === 'Orphans')!;
    expect(orphans.ok).toBe(false);
    expect(report.ok).toBe(false);
    expect(orphans.detail).toBe(
      `2 found: backup pg-20260531020000-lost: VolumeSnapshot ${broken.name} is bound to VolumeSnapshotContent snapcontent-lost, which no longer exists; ` +
        'VolumeSnapshotContent snapcontent-left (deletionPolicy Retain) belongs to VolumeSnapshot db/pg-20260501020000-gone-data-pg-0, which no longer exists',
    );
    expect(orphans.fix).toMatch(/kubectl pgbackup delete pg-20260531020000-lost -n db --force; delete VolumeSnapshotContents/);
  });

  it('without access to VolumeSnapshotContents, falls back to the snapshot-controller\'s "missing" error, and says so', async () => {
    const deps = world();
    const broken = {
      ...aBackupSnapshot({ id: 'pg-20260531020000-lost', readyToUse: false, error: 'VolumeSnapshotContent is missing' }),
      contentName: 'snapcontent-lost',
    };
    deps.snapshots.put(aBackupSnapshot({ id: 'pg-20260601020000-good' }), broken);
    const report = await doctor(
      { ...deps, access: allowAll, contents: contents(forbidden('listing VolumeSnapshotContents: forbidden')) },
      { namespace: 'db' },
    );
    const orphans = report.checks.find((c) => c.name === 'Orphans')!;
    expect(orphans).toMatchObject({
      ok: false,
      detail: expect.stringMatching(
        /^1 found: backup pg-20260531020000-lost: .*\(VolumeSnapshotContents not checked: listing VolumeSnapshotContents: forbidden\)$/,
      ),
    });
  });

  it('no orphans: the check passes and counts what it looked at', async () => {
    const deps = world();
    deps.snapshots.put({ ...aBackupSnapshot({ id: 'pg-20260601020000-good' }), contentName: 'c1' });
    const report = await doctor(
      {
        ...deps,
        access: allowAll,
        contents: contents([{ name: 'c1', snapshotNamespace: 'db', snapshotName: 'pg-20260601020000-good-data-pg-0' }]),
      },
      { namespace: 'db', statefulSet: 'pg' },
    );
    expect(report.checks.find((c) => c.name === 'Orphans')).toEqual({
      name: 'Orphans',
      ok: true,
      detail: 'none: 1 VolumeSnapshot(s) of backups checked',
    });
    expect(report.ok).toBe(true);
  });
});
