import { describe, expect, it } from '@jest/globals';
import { Annotations, Labels } from '../contract.js';
import { PgBackupError, unavailable } from '../errors.js';
import { type FakeDeps, inPlaceWorld } from '../testing/index.js';
import { listBackups } from './listBackups.js';
import { restoreBackup } from './restoreBackup.js';

const ID = 'pg-20260601020000-abcd';
const CLAIM = { kind: 'PersistentVolumeClaim', namespace: 'db', name: 'data-pg-0' } as const;

const claimVolume = (deps: FakeDeps) =>
  (deps.workloadWriter.get('PersistentVolumeClaim', 'db', 'data-pg-0')?.spec as { volumeName: string }).volumeName;
const replicas = (deps: FakeDeps) => (deps.workloadWriter.get('StatefulSet', 'db', 'pg')?.spec as { replicas: number }).replicas;

describe('restore --in-place', () => {
  it('takes a pinned pre-restore backup, swaps the claim for one from the snapshot, and gives the old volume back only once PostgreSQL answers', async () => {
    const deps = await inPlaceWorld(ID);
    const result = await restoreBackup(deps, { namespace: 'db', id: ID, inPlace: true, wait: true });

    expect(result.ready).toBe(true);
    const pre = (await listBackups(deps, { namespace: 'db' })).find((b) => b.type === 'pre-restore');
    expect(pre).toMatchObject({ status: 'completed', pinned: true, statefulSet: 'pg' });
    expect(result.preRestoreBackup).toBe(pre!.id);
    // The claim keeps its name and now holds the snapshot's data.
    const volume = claimVolume(deps);
    expect(deps.workloadWriter.volumes.get(volume)?.content).toBe(`${ID}-data-pg-0`);
    expect(deps.workloadWriter.get('PersistentVolumeClaim', 'db', 'data-pg-0')?.metadata.labels).toMatchObject({
      app: 'pg',
      'pgbackup.io/restored-from': ID,
    });
    // Order: CHECKPOINT, writers stopped, then the pre-restore snapshot (so it holds every write); the old volume
    // is retained before its claim goes, and released to Delete only after readiness.
    const steps = deps.journal.filter((j) => /workloads\.|snapshots\.create|CHECKPOINT/.test(j));
    expect(steps).toEqual([
      expect.stringMatching(/^db\.query pg-0 CHECKPOINT/),
      'workloads.scale db/pg 0',
      expect.stringMatching(/^snapshots\.create db\/pg-.*-data-pg-0$/),
      'workloads.reclaim pv-1 Retain',
      'workloads.delete PersistentVolumeClaim db/data-pg-0',
      'workloads.create PersistentVolumeClaim db/data-pg-0',
      'workloads.scale db/pg 1',
      'workloads.ready db/pg',
      'workloads.reclaim pv-1 Delete',
    ]);
    expect(deps.workloadWriter.volumes.get('pv-1')?.annotations[Annotations.keptForClaim]).toBeUndefined();
    expect(deps.workloadWriter.get('StatefulSet', 'db', 'pg')?.metadata.annotations).not.toHaveProperty(Annotations.inPlaceRestore);
  });

  it('puts the old volume back when the restored database does not come up, and says where the data is', async () => {
    const deps = await inPlaceWorld(ID);
    deps.workloadWriter.failures.waitReady = unavailable('pod pg-0 CrashLoopBackOff');
    const e = await restoreBackup(deps, { namespace: 'db', id: ID, inPlace: true, wait: true }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(PgBackupError);
    expect((e as Error).message).toMatch(
      /in-place restore of pg-20260601020000-abcd failed, and pg is back on its old volumes: pod pg-0 CrashLoopBackOff/,
    );
    expect(claimVolume(deps)).toBe('pv-1');
    expect(deps.workloadWriter.volumes.get('pv-1')).toMatchObject({ content: 'live', reclaimPolicy: 'Delete', claim: 'db/data-pg-0' });
    // The restored claim's volume is gone, the StatefulSet has its replicas back, no restore record is left.
    expect([...deps.workloadWriter.volumes.keys()]).toEqual(['pv-1']);
    expect(replicas(deps)).toBe(1);
    expect(deps.workloadWriter.get('StatefulSet', 'db', 'pg')?.metadata.annotations).not.toHaveProperty(Annotations.inPlaceRestore);
  });

  it('changes nothing when the pre-restore backup cannot be taken', async () => {
    const deps = await inPlaceWorld(ID);
    deps.database.set('db', 'pg-0', { openError: unavailable('pod pg-0 is not running') });
    const e = await restoreBackup(deps, { namespace: 'db', id: ID, inPlace: true }).then(
      () => undefined,
      (err: unknown) => err as PgBackupError,
    );
    expect(e?.message).toMatch(/the pre-restore backup of pg failed, so nothing was changed: .*pod pg-0 is not running/);
    expect(e?.hint?.options).toEqual([{ option: 'to', value: 'pg-restored' }]);
    expect(deps.journal.filter((j) => j.startsWith('workloads.'))).toEqual([]);
    expect(claimVolume(deps)).toBe('pv-1');
  });

  it('a pre-restore backup that fails after the writers stopped: no volume touched, the StatefulSet scaled back', async () => {
    const deps = await inPlaceWorld(ID);
    deps.snapshots.failures.create = unavailable('injected: the snapshot API is down');
    const e = await restoreBackup(deps, { namespace: 'db', id: ID, inPlace: true }).then(
      () => undefined,
      (err: unknown) => err as PgBackupError,
    );
    expect(e?.message).toMatch(
      /the pre-restore backup of pg failed, so no volume was touched and pg is scaled back: injected: the snapshot API is down/,
    );
    expect(deps.journal.filter((j) => j.startsWith('workloads.'))).toEqual([
      'workloads.scale db/pg 0',
      'workloads.scale db/pg 0',
      'workloads.scale db/pg 1',
    ]);
    expect(claimVolume(deps)).toBe('pv-1');
    expect(replicas(deps)).toBe(1);
    expect(deps.workloadWriter.get('StatefulSet', 'db', 'pg')?.metadata.annotations).not.toHaveProperty(Annotations.inPlaceRestore);
    expect(deps.lock.isHeld('db', 'pg')).toBe(false);
  });

  it('plans without writing on --dry-run, naming the claim it replaces', async () => {
    const deps = await inPlaceWorld(ID);
    const { plan, dryRun } = await restoreBackup(deps, { namespace: 'db', id: ID, inPlace: true, dryRun: true });
    expect(dryRun).toBe(true);
    expect(plan.delete).toEqual([CLAIM]);
    expect(plan.create.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['PersistentVolumeClaim/data-pg-0']);
    expect(plan.notes.join(' ')).toMatch(/pre-restore backup/);
    expect(deps.journal).toEqual([]);
  });

  it('refuses --to together with --in-place, and an unfinished earlier in-place restore', async () => {
    const deps = await inPlaceWorld(ID);
    await expect(restoreBackup(deps, { namespace: 'db', id: ID, inPlace: true, to: 'other' })).rejects.toMatchObject({
      message: expect.stringMatching(/a restore to other contradicts it/),
      hint: {
        options: [
          { option: 'to', omit: true },
          { option: 'inPlace', omit: true },
        ],
      },
    });
    await deps.workloadWriter.annotateStatefulSet('db', 'pg', { [Annotations.inPlaceRestore]: '{"backup":"x"}' });
    await expect(restoreBackup(deps, { namespace: 'db', id: ID, inPlace: true })).rejects.toThrow(/did not finish/);
  });

  it('without --to or --in-place, asks for one of them', async () => {
    const deps = await inPlaceWorld(ID);
    await expect(restoreBackup(deps, { namespace: 'db', id: ID })).rejects.toMatchObject({
      message: expect.stringMatching(/into a new StatefulSet, or in place/),
      hint: { options: [{ option: 'to' }, { option: 'inPlace' }] },
    });
  });

  it('a pre-restore backup carries its type label', async () => {
    const deps = await inPlaceWorld(ID);
    await restoreBackup(deps, { namespace: 'db', id: ID, inPlace: true });
    const types = deps.snapshots.all().map((s) => s.labels[Labels.type]);
    expect(types.sort()).toEqual(['manual', 'pre-restore']);
  });
});
