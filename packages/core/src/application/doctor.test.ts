import { describe, expect, it } from '@jest/globals';
import { forbidden } from '../errors.js';
import { formatInPlaceRestoreRecord } from '../domain/inPlaceRestoreRecord.js';
import type { SnapshotContentInfo } from '../domain/readModels.js';
import type { AccessReviewer, SnapshotContentReader } from '../ports.js';
import { Annotations, Labels } from '../contract.js';
import { aBackupSnapshot, aPod, aPvc, aSnapshotClass, aStatefulSet, aStatefulSetManifest } from '../testing/builders.js';
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

  it("asks for exec and the Lease on the StatefulSet's own pod and Lease, as a Role written for it grants them", async () => {
    const asked: string[] = [];
    const access: AccessReviewer = {
      review: async (checks) =>
        checks.map((check) => {
          if (check.subresource === 'exec' || check.resource === 'leases')
            asked.push(`${check.verb} ${check.resource}${check.subresource ? `/${check.subresource}` : ''} ${check.name ?? '(any)'}`);
          return { check, allowed: true };
        }),
    };
    await doctor({ ...world(), access }, { namespace: 'db', statefulSet: 'pg' });
    expect(asked).toEqual([
      'create pods/exec pg-0',
      'get pods/exec pg-0',
      'get leases pgbackup-pg',
      'update leases pgbackup-pg',
      'delete leases pgbackup-pg',
      'create leases (any)',
    ]);
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

  it('reports what interrupted work left: an unfinished in-place restore, a volume still kept, scratch objects; each with its command', async () => {
    const deps = world();
    const writer = deps.workloadWriter;
    writer.put(aStatefulSetManifest({ replicas: 0 }));
    const record = {
      backup: 'pg-20260601020000-abcd',
      step: 'swapping' as const,
      replicas: 2,
      restoreReplicas: 1,
      claims: [{ claim: 'data-pg-0', volume: 'pv-1', reclaimPolicy: 'Delete' }],
    };
    await writer.annotateStatefulSet('db', 'pg', { [Annotations.inPlaceRestore]: formatInPlaceRestoreRecord(record) });
    const kept = (claim: string) => ({ [Annotations.keptForClaim]: claim, [Annotations.keptReclaimPolicy]: 'Delete' });
    writer.volumes.set('pv-1', { reclaimPolicy: 'Retain', content: 'live', annotations: kept('db/data-pg-0') });
    writer.volumes.set('pv-7', { reclaimPolicy: 'Retain', content: 'old', annotations: kept('db/data-other-0') });
    writer.volumes.set('pv-8', { reclaimPolicy: 'Retain', content: 'elsewhere', annotations: kept('staging/data-pg-0') });
    const scratch = { [Labels.scratch]: 'verify', [Labels.restoredFrom]: record.backup };
    writer.put({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'pg-verify-a1b2c3', namespace: 'db', labels: scratch } });
    writer.put({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data-pg-verify-a1b2c3-0', namespace: 'db', labels: scratch },
    });

    const report = await doctor({ ...deps, access: allowAll }, { namespace: 'db' });
    const check = report.checks.find((c) => c.name === 'Leftovers');
    expect(report.ok).toBe(false);
    expect(check?.ok).toBe(false);
    expect(check?.detail).toBe(
      '3 found: the in-place restore of backup pg-20260601020000-abcd into statefulset/pg did not finish: it stopped at step swapping, ' +
        'the StatefulSet has 0 replica(s) (2 before), volume(s) pv-1 kept for it; ' +
        'PersistentVolume pv-7 (Released) is still kept with reclaim policy Retain for claim db/data-other-0 by an in-place restore that is over; ' +
        '2 scratch object(s) of verifications (label pgbackup.io/scratch; a running verification deletes its own when it ends): ' +
        'statefulset/pg-verify-a1b2c3, persistentvolumeclaim/data-pg-verify-a1b2c3-0',
    );
    expect(check?.fix?.split('; ')).toEqual([
      'kubectl pgbackup recover pg -n db',
      `kubectl patch pv pv-7 --type merge -p '{"metadata":{"annotations":{"pgbackup.io/kept-for-claim":null,"pgbackup.io/kept-reclaim-policy":null}},"spec":{"persistentVolumeReclaimPolicy":"Delete"}}'`,
      'kubectl delete statefulset/pg-verify-a1b2c3 persistentvolumeclaim/data-pg-verify-a1b2c3-0 -n db',
    ]);
  });

  it('no leftovers is a passed check, and says when kept volumes could not be listed', async () => {
    const deps = world();
    const leftovers = async () =>
      (await doctor({ ...deps, access: allowAll }, { namespace: 'db' })).checks.find((c) => c.name === 'Leftovers');
    expect(await leftovers()).toEqual({
      name: 'Leftovers',
      ok: true,
      detail: 'none: no unfinished in-place restore, kept volume or scratch object',
    });
    deps.workloadWriter.volumesForbidden = forbidden('persistentvolumes is forbidden: cannot list resource "persistentvolumes"');
    expect(await leftovers()).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/\(kept PersistentVolumes not checked: persistentvolumes is forbidden/),
    });
  });
});
