import { describe, expect, it } from '@jest/globals';
import { Annotations, Labels } from '../contract.js';
import { type ErrorCode, PgBackupError, forbidden, unavailable } from '../errors.js';
import type { QueryOptions } from '../ports.js';
import { TEST_DRIVER, aPod, aPvc, aSnapshotClass, aStatefulSet, aStatefulSetManifest } from '../testing/builders.js';
import { type FakeDeps, fakeDeps } from '../testing/fakes.js';
import { type CreateProgress, createBackup, planBackup } from './createBackup.js';
import { deleteBackup } from './deleteBackup.js';
import { getBackup } from './getBackup.js';

const NOW = '2026-06-01T12:00:00.000Z';

/** pg-0 standby, pg-1 primary, pg-2 standby; one default snapshot class. */
function setup(options: Parameters<typeof fakeDeps>[0] = {}): FakeDeps {
  const deps = fakeDeps({
    now: NOW,
    statefulSets: [aStatefulSet({ replicas: 3 })],
    classes: [
      aSnapshotClass({ name: 'fast-snap', isDefault: true }),
      aSnapshotClass({ name: 'other', driver: 'other.csi.io', isDefault: true }),
    ],
    ...options,
  });
  deps.database.standby('db', 'pg-0').primary('db', 'pg-1', { lsn: '0/5000028', version: '17.2' }).standby('db', 'pg-2');
  return deps;
}

async function rejection(promise: Promise<unknown>, code: ErrorCode): Promise<PgBackupError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(PgBackupError);
  expect((e as PgBackupError).code).toBe(code);
  return e as PgBackupError;
}

/** Nothing is left behind: no open session, no held lock, no open watch. */
function expectCleanedUp(deps: FakeDeps): void {
  expect(deps.database.openSessions).toEqual([]);
  expect(deps.lock.grants.every((g) => g.released)).toBe(true);
  expect(deps.lock.isHeld('db', 'pg')).toBe(false);
  expect(deps.snapshots.openWatches).toBe(0);
}

describe('createBackup: the happy path', () => {
  it('backs up the primary and returns the backup once the storage cut it', async () => {
    const deps = setup();
    const backup = await createBackup(deps, { namespace: 'db', statefulSet: 'pg' });
    expect(backup).toMatchObject({
      namespace: 'db',
      statefulSet: 'pg',
      type: 'manual',
      method: 'checkpoint-snapshot',
      status: 'completed',
      phase: 'cut',
      volumes: 1,
      pod: 'pg-1',
      lsn: '0/5000028',
      pgVersion: '17.2',
      startedAt: NOW,
      cutAt: NOW,
      pinned: false,
    });
    expect(backup.id).toMatch(/^pg-20260601120000-[0-9a-z]{4}$/);
    expect(backup.snapshots.map((s) => [s.name, s.pvc, s.className])).toEqual([[`${backup.id}-data-pg-1`, 'data-pg-1', 'fast-snap']]);
    expect(deps.events.recorded).toMatchObject([
      { namespace: 'db', statefulSet: 'pg', reason: 'BackupStarted', note: `backup ${backup.id} started (manual, pod pg-1)` },
    ]);
    expectCleanedUp(deps);
  });

  it('skips standbys and unready pods when choosing the primary', async () => {
    const deps = setup({ statefulSets: [aStatefulSet({ pods: [aPod(0, { ready: false }), aPod(1), aPod(2)] })] });
    deps.database.primary('db', 'pg-0').standby('db', 'pg-1').primary('db', 'pg-2');
    const backup = await createBackup(deps, { namespace: 'db', statefulSet: 'pg' });
    expect(backup.pod).toBe('pg-2');
    expect(deps.database.sessions.map((s) => s.pod)).not.toContain('pg-0');
    expectCleanedUp(deps);
  });

  it('runs CHECKPOINT in the primary before creating any snapshot', async () => {
    const deps = setup();
    await createBackup(deps, { namespace: 'db', statefulSet: 'pg' });
    const checkpoint = deps.journal.findIndex((e) => e.startsWith('db.query pg-1 CHECKPOINT'));
    const firstCreate = deps.journal.findIndex((e) => e.startsWith('snapshots.create'));
    expect(checkpoint).toBeGreaterThanOrEqual(0);
    expect(firstCreate).toBeGreaterThan(checkpoint);
  });

  it('holds the lock from before the CHECKPOINT until after the cut is recorded', async () => {
    const deps = setup();
    await createBackup(deps, { namespace: 'db', statefulSet: 'pg', holder: 'alice@laptop' });
    const at = (prefix: string) => deps.journal.findIndex((e) => e.startsWith(prefix));
    const lastAnnotate = deps.journal.map((e) => e.startsWith('snapshots.annotate')).lastIndexOf(true);
    expect(at('lock.acquire db/pg')).toBeLessThan(at('db.query pg-1 CHECKPOINT'));
    expect(at('lock.release db/pg')).toBeGreaterThan(lastAnnotate);
    expect(deps.lock.grants).toEqual([{ namespace: 'db', statefulSet: 'pg', holder: 'alice@laptop', ttlSeconds: 60, released: true }]);
  });

  it('records the contract on the snapshots: labels, method, volumes, cut, pod, lsn', async () => {
    const deps = setup();
    const backup = await createBackup(deps, {
      namespace: 'db',
      statefulSet: 'pg',
      type: 'scheduled',
      pin: true,
      readyTimeoutSeconds: 3600,
    });
    const s = deps.snapshots.get('db', backup.snapshots[0]!.name)!;
    expect(s.labels).toEqual({
      [Labels.managedBy]: 'kubectl-pgbackup',
      [Labels.backup]: backup.id,
      [Labels.statefulSet]: 'pg',
      [Labels.type]: 'scheduled',
    });
    expect(s.annotations).toMatchObject({
      [Annotations.contractVersion]: '1',
      [Annotations.method]: 'checkpoint-snapshot',
      [Annotations.volumes]: '1',
      [Annotations.phase]: 'cut',
      [Annotations.cutAt]: NOW,
      [Annotations.deadline]: '2026-06-01T13:00:00.000Z',
      [Annotations.pod]: 'pg-1',
      [Annotations.ordinal]: '1',
      [Annotations.claimTemplate]: 'data',
      [Annotations.lsn]: '0/5000028',
      [Annotations.pgVersion]: '17.2',
      [Annotations.pinned]: 'true',
    });
    expect(backup.type).toBe('scheduled');
    expect(backup.pinned).toBe(true);
  });

  it('returns once the cut is recorded, before the storage makes the snapshot ready', async () => {
    const deps = setup({ storage: 'cut' });
    const backup = await createBackup(deps, { namespace: 'db', statefulSet: 'pg' });
    expect(backup.status).toBe('in_progress');
    expect(backup.phase).toBe('cut');
    expectCleanedUp(deps);
  });

  it('reports progress in order: planned, checkpoint, snapshots-created, cut', async () => {
    const deps = setup();
    const events: CreateProgress[] = [];
    await createBackup(deps, { namespace: 'db', statefulSet: 'pg', onProgress: (e) => events.push(e) });
    expect(events.map((e) => e.stage)).toEqual(['planned', 'checkpoint', 'snapshots-created', 'cut']);
    expect(events[1]).toEqual({ stage: 'checkpoint', pod: 'pg-1', lsn: '0/5000028' });
  });

  it('uses the requested pod when it is the primary', async () => {
    const deps = setup();
    expect((await createBackup(deps, { namespace: 'db', statefulSet: 'pg', pod: 'pg-1' })).pod).toBe('pg-1');
  });

  it('uses the explicit snapshot class', async () => {
    const deps = setup({ classes: [aSnapshotClass({ name: 'fast-snap', isDefault: true }), aSnapshotClass({ name: 'archive' })] });
    const backup = await createBackup(deps, { namespace: 'db', statefulSet: 'pg', snapshotClass: 'archive' });
    expect(backup.snapshots[0]!.className).toBe('archive');
  });
});

describe('createBackup: failures leave nothing open', () => {
  it('closes the session and releases the lock when creating the snapshot fails, and rethrows', async () => {
    const deps = setup();
    deps.snapshots.failures.create = new Error('admission webhook denied the request');
    await expect(createBackup(deps, { namespace: 'db', statefulSet: 'pg' })).rejects.toThrow('admission webhook denied the request');
    expect(deps.snapshots.all()).toEqual([]);
    expect(deps.database.sessions.some((s) => s.queries.some((q) => q.includes('CHECKPOINT')))).toBe(true);
    expectCleanedUp(deps);
  });

  it('fails with Timeout when the storage never cuts, records the backup as failed, and cleans up', async () => {
    const deps = setup({ storage: 'never' });
    const e = await rejection(createBackup(deps, { namespace: 'db', statefulSet: 'pg', consistencyTimeoutSeconds: 0.05 }), 'Timeout');
    expect(e.message).toBe('the storage did not cut 1 of 1 snapshots within 0.05s');
    expect(e.hint?.text).toMatch(/kubectl describe volumesnapshot/);
    const [snapshot] = deps.snapshots.all();
    expect(snapshot!.annotations[Annotations.phase]).toBe('failed');
    expect(snapshot!.annotations[Annotations.error]).toBe(e.message);
    const backup = await getBackup(deps, 'db', snapshot!.labels[Labels.backup]!);
    expect(backup.status).toBe('failed');
    expect(backup.error).toBe(e.message);
    expect(deps.events.reasons()).toEqual(['BackupStarted', 'BackupFailed']);
    expect(deps.events.recorded[1]!.note).toBe(`backup ${backup.id} failed: ${e.message}`);
    expectCleanedUp(deps);
  });

  it('fails with Inconsistent when a snapshot reports an error while waiting for the cut, and records it', async () => {
    const deps = setup({ storage: 'never' });
    const promise = createBackup(deps, {
      namespace: 'db',
      statefulSet: 'pg',
      consistencyTimeoutSeconds: 5,
      onProgress: (e) => {
        if (e.stage === 'snapshots-created')
          deps.snapshots.update('db', e.names[0]!, { error: 'Failed to create snapshot: quota exceeded' });
      },
    });
    const e = await rejection(promise, 'Inconsistent');
    expect(e.message).toMatch(/^VolumeSnapshot pg-\S+-data-pg-1 failed: Failed to create snapshot: quota exceeded$/);
    expect(deps.snapshots.all()[0]!.annotations[Annotations.phase]).toBe('failed');
    expectCleanedUp(deps);
  });

  it('records an interruption (signal) as the reason of the failure, and cleans up', async () => {
    const deps = setup({ storage: 'never' });
    const controller = new AbortController();
    const promise = createBackup(deps, {
      namespace: 'db',
      statefulSet: 'pg',
      signal: controller.signal,
      onProgress: (e) => {
        if (e.stage === 'snapshots-created') setTimeout(() => controller.abort(new Error('SIGINT')), 5);
      },
    });
    await expect(promise).rejects.toThrow('SIGINT');
    expect(deps.snapshots.all()[0]!.annotations[Annotations.error]).toBe('interrupted before the cut was recorded: SIGINT');
    expectCleanedUp(deps);
  });

  it('losing the Lease while waiting for the cut fails the backup with that reason, and releases everything', async () => {
    const deps = setup({ storage: 'never' });
    const promise = createBackup(deps, {
      namespace: 'db',
      statefulSet: 'pg',
      onProgress: (e) => {
        if (e.stage === 'snapshots-created')
          setTimeout(
            () => deps.lock.lose('db', 'pg', unavailable('lost the backup Lease db/pgbackup-pg: it is held by someone-else now')),
            5,
          );
      },
    });
    const e = await rejection(promise, 'Unavailable');
    expect(e.message).toBe('lost the backup Lease db/pgbackup-pg: it is held by someone-else now');
    expect(deps.snapshots.all()[0]!.annotations).toMatchObject({ [Annotations.phase]: 'failed', [Annotations.error]: e.message });
    expectCleanedUp(deps);
  });

  it('gives the CHECKPOINT the consistency deadline as its timeout, and the Lease as its abort signal', async () => {
    const deps = setup();
    const seen: QueryOptions[] = [];
    deps.database.set('db', 'pg-1', {
      inRecovery: false,
      observe: (sql, options) => sql.includes('CHECKPOINT') && seen.push(options ?? {}),
    });
    await createBackup(deps, { namespace: 'db', statefulSet: 'pg', consistencyTimeoutSeconds: 42 });
    expect(seen).toEqual([{ timeoutSeconds: 42, signal: expect.any(AbortSignal) }]);
  });

  it('refuses with Unavailable when the pod stopped being the primary before the CHECKPOINT, creating nothing', async () => {
    const deps = setup();
    // Primary when selected, in recovery (failed over) by the time of the CHECKPOINT.
    deps.database.set('db', 'pg-1', { answer: (sql) => (sql.includes('pg_current_wal_lsn') ? [['true', '0/1', '17.2']] : undefined) });
    const e = await rejection(createBackup(deps, { namespace: 'db', statefulSet: 'pg' }), 'Unavailable');
    expect(e.message).toBe('pod pg-1 is no longer the primary');
    expect(deps.snapshots.all()).toEqual([]);
    expectCleanedUp(deps);
  });

  it('refuses a requested pod that is a standby', async () => {
    const deps = setup();
    await rejection(createBackup(deps, { namespace: 'db', statefulSet: 'pg', pod: 'pg-2' }), 'Unavailable');
    expect(deps.snapshots.all()).toEqual([]);
    expectCleanedUp(deps);
  });

  it('fails with Conflict naming the holder when another backup holds the lock, creating nothing', async () => {
    const deps = setup();
    deps.lock.hold('db', 'pg', 'cronjob/pg-backup-29000000');
    const e = await rejection(createBackup(deps, { namespace: 'db', statefulSet: 'pg' }), 'Conflict');
    expect(e.message).toMatch(/cronjob\/pg-backup-29000000/);
    expect(deps.snapshots.all()).toEqual([]);
    expect(deps.database.openSessions).toEqual([]);
    expect(deps.database.sessions.flatMap((s) => s.queries).some((q) => q.includes('CHECKPOINT'))).toBe(false);
  });
});

describe('createBackup and planBackup: refusals before anything happens', () => {
  const twoVolumes = () =>
    aStatefulSet({
      pods: [aPod(0, { pvcs: [aPvc({ name: 'data-pg-0', template: 'data' }), aPvc({ name: 'wal-pg-0', template: 'wal' })] })],
      volumeClaimTemplates: ['data', 'wal'],
    });
  const single = (deps: FakeDeps) => deps.database.primary('db', 'pg-0');

  it('refuses a pod whose PostgreSQL spans several volumes when group snapshots are not served, naming the volumes and the options', async () => {
    const deps = setup({ statefulSets: [twoVolumes()] });
    single(deps);
    const e = await rejection(createBackup(deps, { namespace: 'db', statefulSet: 'pg' }), 'Inconsistent');
    expect(e.message).toBe(
      'pod pg-0 of StatefulSet pg keeps PostgreSQL on 2 volumes (data-pg-0, wal-pg-0), which separate snapshots cannot cut at one instant, and the API server does not serve VolumeGroupSnapshots',
    );
    expect(e.hint?.text).toMatch(/VolumeGroupSnapshot/);
    expect(e.hint?.text).toMatch(/one volume/);
    expect(deps.snapshots.all()).toEqual([]);
    expect(deps.lock.grants).toEqual([]);
    expectCleanedUp(deps);
  });

  it('refuses --method checkpoint-snapshot on several volumes with Inconsistent', async () => {
    const deps = setup({ statefulSets: [twoVolumes()] });
    single(deps);
    const e = await rejection(createBackup(deps, { namespace: 'db', statefulSet: 'pg', method: 'checkpoint-snapshot' }), 'Inconsistent');
    expect(e.message).toMatch(/cut at different instants/);
    expect(e.hint?.options).toEqual([{ option: 'method', value: 'group-snapshot' }]);
    expect(deps.snapshots.all()).toEqual([]);
  });

  /** Group snapshots served, with a default VolumeGroupSnapshotClass for the test driver. */
  const groupsServed = (deps: FakeDeps) => {
    deps.discovery.support.groupSnapshotVersions = ['v1'];
    deps.groups.classes.push(aSnapshotClass({ name: 'fast-group', isDefault: true }));
  };

  it('backs up several volumes with one VolumeGroupSnapshot after the CHECKPOINT, its snapshots adopted into the backup', async () => {
    const deps = setup({ statefulSets: [twoVolumes()] });
    single(deps);
    groupsServed(deps);
    const backup = await createBackup(deps, { namespace: 'db', statefulSet: 'pg' });
    expect(backup).toMatchObject({ method: 'group-snapshot', status: 'completed', phase: 'cut', volumes: 2 });
    expect(
      backup.snapshots.map((s) => [
        s.pvc,
        s.annotations[Annotations.claimTemplate],
        s.annotations[Annotations.groupSnapshot],
        s.labels[Labels.backup],
      ]),
    ).toEqual([
      ['data-pg-0', 'data', backup.id, backup.id],
      ['wal-pg-0', 'wal', backup.id, backup.id],
    ]);
    expect(deps.groups.groups.get(`db/${backup.id}`)).toMatchObject({ className: 'fast-group', claims: ['data-pg-0', 'wal-pg-0'] });
    const checkpoint = deps.journal.findIndex((j) => j.includes('CHECKPOINT'));
    const group = deps.journal.findIndex((j) => j.startsWith('groups.create'));
    expect(checkpoint).toBeGreaterThanOrEqual(0);
    expect(group).toBeGreaterThan(checkpoint);
    // The claims' selection label is gone again.
    expect(deps.groups.labelled.size).toBe(0);
    expectCleanedUp(deps);
  });

  it('records the StatefulSet on the backup for restores (without status or server fields)', async () => {
    const deps = setup();
    const manifest = aStatefulSetManifest();
    deps.workloads.set({ ...aStatefulSet({ replicas: 3 }), manifest });
    const backup = await createBackup(deps, { namespace: 'db', statefulSet: 'pg' });
    const recorded = JSON.parse(backup.snapshots[0]!.annotations[Annotations.statefulSetSpec]!) as Record<string, any>;
    expect(recorded.spec).toEqual(manifest.spec);
    expect(recorded.metadata).toEqual({
      name: 'pg',
      namespace: 'db',
      labels: { app: 'pg', tier: 'db' },
      annotations: { team: 'payments' },
    });
    expect(recorded).not.toHaveProperty('status');
  });

  it('records no literal env value, only valueFrom references and the names of what it left out', async () => {
    const deps = setup();
    const manifest = aStatefulSetManifest() as { spec: any } & ReturnType<typeof aStatefulSetManifest>;
    manifest.spec.template.spec.containers[0].env = [
      { name: 'POSTGRES_PASSWORD', value: 'inline-s3cret' },
      { name: 'PGUSER', valueFrom: { secretKeyRef: { name: 'pg', key: 'user' } } },
    ];
    deps.workloads.set({ ...aStatefulSet({ replicas: 3 }), manifest });
    const backup = await createBackup(deps, { namespace: 'db', statefulSet: 'pg' });
    expect(JSON.stringify(deps.snapshots.all())).not.toMatch(/inline-s3cret/);
    expect(JSON.parse(backup.snapshots[0]!.annotations[Annotations.redactedEnv]!)).toEqual(['postgres/POSTGRES_PASSWORD']);
    const recorded = JSON.parse(backup.snapshots[0]!.annotations[Annotations.statefulSetSpec]!) as Record<string, any>;
    expect(recorded.spec.template.spec.containers[0].env).toEqual([
      { name: 'POSTGRES_PASSWORD' },
      { name: 'PGUSER', valueFrom: { secretKeyRef: { name: 'pg', key: 'user' } } },
    ]);
  });

  it('when recording the outcome is forbidden too, it says the status follows the storage instead of claiming failed', async () => {
    const deps = setup();
    deps.snapshots.failures.annotate = forbidden(
      'volumesnapshots.snapshot.storage.k8s.io "x" is forbidden: cannot patch resource "volumesnapshots"',
    );
    const e = await rejection(createBackup(deps, { namespace: 'db', statefulSet: 'pg' }), 'Forbidden');
    expect(e.message).toMatch(
      /cannot patch resource "volumesnapshots"; backup pg-\S+ could not be marked failed either, so its status follows the storage \(it may complete\)/,
    );
    expect(e.hint?.step).toMatchObject({ operation: 'status', target: expect.stringMatching(/^pg-/), namespace: 'db' });
    // And indeed: the storage cut it, so it reads completed.
    const [snapshot] = deps.snapshots.all();
    expect(snapshot!.annotations[Annotations.phase]).toBe('consistency');
    expect((await getBackup(deps, 'db', snapshot!.labels[Labels.backup]!)).status).toBe('completed');
    expectCleanedUp(deps);
  });

  it('with lockWaitSeconds, waits for the running backup to release the lock (saying so once), then backs up', async () => {
    const deps = setup();
    deps.lock.hold('db', 'pg', 'manual@laptop');
    const progress: CreateProgress[] = [];
    const backup = await createBackup(deps, {
      namespace: 'db',
      statefulSet: 'pg',
      lockWaitSeconds: 30,
      onProgress: (p) => {
        progress.push(p);
        if (p.stage === 'waiting-for-lock') {
          deps.clock.advance(600);
          deps.lock.free('db', 'pg');
        }
      },
    });
    expect(backup.status).toBe('completed');
    // Planned afresh after the wait: its start (and so its deadlines) count from when it got the lock.
    expect(backup.startedAt).toBe('2026-06-01T12:10:00.000Z');
    expect(progress.filter((p) => p.stage === 'planned')).toHaveLength(1);
    expect(progress.filter((p) => p.stage === 'waiting-for-lock')).toEqual([
      { stage: 'waiting-for-lock', reason: expect.stringMatching(/held by manual@laptop/) },
    ]);
    expectCleanedUp(deps);
  });

  it('deleting a group-snapshot backup deletes its VolumeGroupSnapshot, which takes its VolumeSnapshots along', async () => {
    const deps = setup({ statefulSets: [twoVolumes()] });
    single(deps);
    groupsServed(deps);
    const backup = await createBackup(deps, { namespace: 'db', statefulSet: 'pg' });
    await deleteBackup(deps, 'db', backup.id, { force: true });
    expect(deps.journal).toContain(`groups.delete db/${backup.id}`);
    expect(deps.groups.groups.size).toBe(0);
    expect(deps.snapshots.all()).toEqual([]);
  });

  it('a group snapshot the storage fails leaves nothing behind: group deleted, claims released, session and lock freed', async () => {
    const deps = setup({ statefulSets: [twoVolumes()] });
    single(deps);
    groupsServed(deps);
    deps.groups.error = 'injected failure';
    const e = await rejection(createBackup(deps, { namespace: 'db', statefulSet: 'pg' }), 'Inconsistent');
    expect(e.message).toMatch(/VolumeGroupSnapshot .* failed: injected failure/);
    expect(deps.groups.groups.size).toBe(0);
    expect(deps.groups.labelled.size).toBe(0);
    expect(deps.snapshots.all()).toEqual([]);
    expectCleanedUp(deps);
  });

  it('refuses several volumes without a VolumeGroupSnapshotClass for the driver, or on two drivers', async () => {
    const deps = setup({ statefulSets: [twoVolumes()] });
    single(deps);
    deps.discovery.support.groupSnapshotVersions = ['v1'];
    const e = await rejection(createBackup(deps, { namespace: 'db', statefulSet: 'pg' }), 'NotFound');
    expect(e.message).toBe(`no VolumeGroupSnapshotClass for CSI driver ${TEST_DRIVER}`);
    expect(e.hint?.options).toEqual([{ option: 'groupSnapshotClass' }]);
    groupsServed(deps);
    deps.workloads.set(
      aStatefulSet({
        pods: [
          aPod(0, {
            pvcs: [aPvc({ name: 'data-pg-0', template: 'data' }), aPvc({ name: 'wal-pg-0', template: 'wal', driver: 'other.csi.io' })],
          }),
        ],
      }),
    );
    expect((await rejection(createBackup(deps, { namespace: 'db', statefulSet: 'pg' }), 'Inconsistent')).message).toMatch(
      /belong to 2 CSI drivers/,
    );
    expect(deps.snapshots.all()).toEqual([]);
  });

  it('refuses --method group-snapshot on a single volume with Invalid', async () => {
    const deps = setup();
    await rejection(createBackup(deps, { namespace: 'db', statefulSet: 'pg', method: 'group-snapshot' }), 'Invalid');
  });

  it('refuses an unbound PVC with Invalid naming it and its phase', async () => {
    const deps = setup({ statefulSets: [aStatefulSet({ pods: [aPod(0, { pvcs: [aPvc({ name: 'data-pg-0', phase: 'Pending' })] })] })] });
    single(deps);
    const e = await rejection(createBackup(deps, { namespace: 'db', statefulSet: 'pg' }), 'Invalid');
    expect(e.message).toBe('PersistentVolumeClaims of pod pg-0 are not Bound: data-pg-0 (Pending)');
    expect(deps.snapshots.all()).toEqual([]);
  });

  it('refuses a volume that is not CSI with Invalid', async () => {
    const deps = setup({ statefulSets: [aStatefulSet({ pods: [aPod(0, { pvcs: [aPvc({ name: 'data-pg-0', driver: undefined })] })] })] });
    single(deps);
    expect((await rejection(createBackup(deps, { namespace: 'db', statefulSet: 'pg' }), 'Invalid')).message).toMatch(/not CSI volumes/);
  });

  it('refuses a pod without PVCs with Invalid', async () => {
    const deps = setup({ statefulSets: [aStatefulSet({ pods: [aPod(0, { pvcs: [] })] })] });
    single(deps);
    expect((await rejection(createBackup(deps, { namespace: 'db', statefulSet: 'pg' }), 'Invalid')).message).toMatch(
      /has no PersistentVolumeClaims/,
    );
  });

  it('refuses invalid names with Invalid before calling the cluster', async () => {
    const deps = setup();
    await rejection(createBackup(deps, { namespace: 'DB', statefulSet: 'pg' }), 'Invalid');
    await rejection(createBackup(deps, { namespace: 'db', statefulSet: 'pg-' }), 'Invalid');
    await rejection(createBackup(deps, { namespace: 'db', statefulSet: 'pg', snapshotClass: 'Fast_Snap' }), 'Invalid');
    expect(deps.database.sessions).toEqual([]);
  });

  it('is NotFound for an unknown StatefulSet', async () => {
    await rejection(createBackup(setup(), { namespace: 'db', statefulSet: 'nope' }), 'NotFound');
  });

  it('is NotFound when no snapshot class serves the volume driver', async () => {
    const deps = setup({ classes: [aSnapshotClass({ name: 'x', driver: 'other.csi.io' })] });
    expect((await rejection(createBackup(deps, { namespace: 'db', statefulSet: 'pg' }), 'NotFound')).message).toBe(
      `no VolumeSnapshotClass for CSI driver ${TEST_DRIVER}`,
    );
    expect(deps.lock.grants).toEqual([]);
  });

  it('is Unavailable when no pod is ready', async () => {
    const deps = setup({ statefulSets: [aStatefulSet({ pods: [aPod(0, { ready: false }), aPod(1, { ready: false })] })] });
    expect((await rejection(createBackup(deps, { namespace: 'db', statefulSet: 'pg' }), 'Unavailable')).message).toBe(
      'StatefulSet db/pg has no ready pod',
    );
  });

  it('is Unavailable listing every pod when no ready pod is a primary', async () => {
    const deps = setup();
    deps.database.standby('db', 'pg-1');
    const e = await rejection(createBackup(deps, { namespace: 'db', statefulSet: 'pg' }), 'Unavailable');
    expect(e.message).toBe(
      'no primary found among the ready pods of pg: pg-0: in recovery (a standby); pg-1: in recovery (a standby); pg-2: in recovery (a standby)',
    );
    expectCleanedUp(deps);
  });

  it('passes on a Forbidden that every pod reports (e.g. pods/exec not allowed)', async () => {
    const deps = setup();
    const forbidden = new PgBackupError('Forbidden', 'cannot create pods/exec in namespace db');
    for (const pod of ['pg-0', 'pg-1', 'pg-2']) deps.database.set('db', pod, { openError: forbidden });
    expect(await rejection(createBackup(deps, { namespace: 'db', statefulSet: 'pg' }), 'Forbidden')).toBe(forbidden);
  });
});

describe('planBackup', () => {
  it('decides what a backup would create without creating anything', async () => {
    const deps = setup();
    const plan = await planBackup(deps, { namespace: 'db', statefulSet: 'pg', consistencyTimeoutSeconds: 60 });
    expect(plan).toMatchObject({ namespace: 'db', statefulSet: 'pg', pod: 'pg-1', container: 'postgres', method: 'checkpoint-snapshot' });
    expect(plan.snapshots).toHaveLength(1);
    expect(plan.snapshots[0]).toMatchObject({
      namespace: 'db',
      name: `${plan.id}-data-pg-1`,
      pvc: 'data-pg-1',
      className: 'fast-snap',
      annotations: { [Annotations.phase]: 'consistency', [Annotations.volumes]: '1', [Annotations.deadline]: '2026-06-01T12:01:00.000Z' },
    });
    expect(deps.snapshots.all()).toEqual([]);
    expect(deps.lock.grants).toEqual([]);
    expect(deps.database.openSessions).toEqual([]);
    expect(deps.database.sessions.flatMap((s) => s.queries).some((q) => q.includes('CHECKPOINT'))).toBe(false);
  });
});
