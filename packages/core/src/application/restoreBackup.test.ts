import { describe, expect, it } from '@jest/globals';
import { Annotations, Labels } from '../contract.js';
import { recordSource } from '../domain/restore.js';
import { type FakeDeps, aBackupSnapshot, aStatefulSetManifest, fakeDeps } from '../testing/index.js';
import { restoreBackup } from './restoreBackup.js';

const ID = 'pg-20260601020000-abcd';

function world(snapshot = aBackupSnapshot({ id: ID })): FakeDeps {
  const deps = fakeDeps({ snapshots: [snapshot] });
  deps.workloadWriter.put(aStatefulSetManifest());
  deps.database.fallback = { inRecovery: false };
  return deps;
}

type Obj = {
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  spec: Record<string, any>;
  status?: unknown;
};

describe('restoreBackup', () => {
  it('plans PVCs from the snapshots named for the new StatefulSet, and the StatefulSet cloned from the source (dry run: nothing written)', async () => {
    const deps = world();
    const result = await restoreBackup(deps, { namespace: 'db', id: ID, to: 'pg-restored', dryRun: true });
    expect(result.dryRun).toBe(true);
    expect(deps.journal.filter((j) => j.startsWith('workloads.'))).toEqual([]);
    const [pvc, service, sts] = result.plan.create as unknown as Obj[];
    expect(service).toMatchObject({
      kind: 'Service',
      metadata: { name: 'pg-restored', namespace: 'db', labels: { app: 'pg-restored', [Labels.restoredFrom]: ID } },
      spec: { clusterIP: 'None', selector: { app: 'pg-restored' }, ports: [{ name: 'postgres', port: 5432 }] },
    });
    expect(pvc).toMatchObject({
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data-pg-restored-0', namespace: 'db', labels: { app: 'pg-restored', [Labels.restoredFrom]: ID } },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: 'fast',
        resources: { requests: { storage: '10Gi' } },
        dataSource: { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: `${ID}-data-pg-0` },
      },
    });
    expect(sts!.kind).toBe('StatefulSet');
    expect(sts!.metadata).toEqual({
      name: 'pg-restored',
      namespace: 'db',
      labels: { app: 'pg-restored', tier: 'db', [Labels.restoredFrom]: ID },
      annotations: { team: 'payments', [Labels.restoredFrom]: ID, 'pgbackup.io/restored-from-statefulset': 'pg' },
    });
    expect(sts!.spec).toMatchObject({
      replicas: 1,
      serviceName: 'pg-restored',
      selector: { matchLabels: { app: 'pg-restored' } },
      template: { metadata: { labels: { app: 'pg-restored', tier: 'db' } } },
    });
    expect(sts!.spec.volumeClaimTemplates).toEqual([
      {
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: { requests: { storage: '10Gi' } } },
      },
    ]);
    expect(JSON.stringify(result.plan.create)).not.toMatch(/uid|resourceVersion|creationTimestamp|last-applied|readyReplicas/);
  });

  it('sizes a PVC to the snapshot restoreSize when it is larger than the template request', async () => {
    const deps = world(aBackupSnapshot({ id: ID, restoreSize: 20 * 1024 ** 3, annotations: { [Annotations.claimTemplate]: 'data' } }));
    const { plan } = await restoreBackup(deps, { namespace: 'db', id: ID, to: 'r', dryRun: true });
    expect((plan.create[0] as unknown as Obj).spec.resources.requests.storage).toBe(String(20 * 1024 ** 3));
  });

  it('adds a selector label and says so when no selector label carries the source name', async () => {
    const deps = world();
    const source = aStatefulSetManifest() as unknown as Obj;
    source.spec.selector = { matchLabels: { role: 'database' } };
    source.spec.template.metadata.labels = { role: 'database' };
    deps.workloadWriter.put(source as never);
    const { plan } = await restoreBackup(deps, { namespace: 'db', id: ID, to: 'r', dryRun: true });
    const sts = plan.create[2] as unknown as Obj;
    expect(sts.spec.selector.matchLabels).toEqual({ role: 'database', 'pgbackup.io/restore-of': 'r' });
    expect(sts.spec.template.metadata.labels).toEqual({ role: 'database', 'pgbackup.io/restore-of': 'r' });
    expect(plan.notes.join()).toMatch(/Services selecting it may route to them/);
  });

  it('creates the PVCs, then the StatefulSet, and with wait returns once PostgreSQL answers', async () => {
    const deps = world();
    const result = await restoreBackup(deps, { namespace: 'db', id: ID, to: 'pg-restored', wait: true });
    expect(deps.journal.filter((j) => j.startsWith('workloads.'))).toEqual([
      'workloads.create PersistentVolumeClaim db/data-pg-restored-0',
      'workloads.create Service db/pg-restored',
      'workloads.create StatefulSet db/pg-restored',
      'workloads.ready db/pg-restored',
    ]);
    expect(result).toMatchObject({ ready: true, pod: 'pg-restored-0' });
    expect(result.restoreSeconds).toBeGreaterThanOrEqual(0);
    expect(deps.database.openSessions).toEqual([]);
    // Recorded on the backup (its last restore, for the metrics) and as an Event on the source StatefulSet.
    const [snapshot] = deps.snapshots.all().filter((s) => s.labels[Labels.backup] === ID);
    expect(JSON.parse(snapshot!.annotations[Annotations.restored]!)).toEqual({
      at: deps.clock.now().toISOString(),
      seconds: result.restoreSeconds,
      target: 'db/pg-restored',
    });
    expect(deps.events.recorded).toMatchObject([
      { namespace: 'db', statefulSet: 'pg', reason: 'Restored', note: `backup ${ID} restored into db/pg-restored: ready` },
    ]);
  });

  it('refuses when the target exists, and with replace deletes the StatefulSet before the PVCs', async () => {
    const deps = world();
    await restoreBackup(deps, { namespace: 'db', id: ID, to: 'pg-restored' });
    await expect(restoreBackup(deps, { namespace: 'db', id: ID, to: 'pg-restored' })).rejects.toMatchObject({
      code: 'Conflict',
      message: 'the restore target exists: persistentvolumeclaim/data-pg-restored-0, service/pg-restored, statefulset/pg-restored',
    });
    deps.journal.length = 0;
    const result = await restoreBackup(deps, { namespace: 'db', id: ID, to: 'pg-restored', replace: true });
    expect(result.plan.delete.map((r) => r.kind)).toEqual(['StatefulSet', 'Service', 'PersistentVolumeClaim']);
    expect(deps.journal.filter((j) => j.startsWith('workloads.'))).toEqual([
      'workloads.delete StatefulSet db/pg-restored',
      'workloads.delete Service db/pg-restored',
      'workloads.delete PersistentVolumeClaim db/data-pg-restored-0',
      'workloads.create PersistentVolumeClaim db/data-pg-restored-0',
      'workloads.create Service db/pg-restored',
      'workloads.create StatefulSet db/pg-restored',
    ]);
  });

  it('keeps a Service of the target name that no restore made as the governing Service, and says so', async () => {
    const deps = world();
    deps.workloadWriter.put({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'r', namespace: 'db', labels: { app: 'r' } } });
    const { plan } = await restoreBackup(deps, { namespace: 'db', id: ID, to: 'r' });
    expect(plan.create.map((o) => o.kind)).toEqual(['PersistentVolumeClaim', 'StatefulSet']);
    expect(plan.notes.join(' ')).toMatch(/service\/r exists and stays as the governing Service/);
    expect(deps.workloadWriter.get('Service', 'db', 'r')?.metadata.labels).toEqual({ app: 'r' });
  });

  it('with replace never deletes objects that no earlier restore created', async () => {
    const deps = world();
    await deps.workloadWriter.create({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data-orders-0', namespace: 'db', labels: { app: 'orders' } },
      spec: {},
    });
    deps.journal.length = 0;
    await expect(restoreBackup(deps, { namespace: 'db', id: ID, to: 'orders', replace: true })).rejects.toMatchObject({
      code: 'Conflict',
      message:
        'a replacing restore only replaces objects an earlier restore created, and these were not: persistentvolumeclaim/data-orders-0',
    });
    expect(deps.journal.filter((j) => j.startsWith('workloads.delete'))).toEqual([]);
  });

  it('deletes what it created when a later create fails', async () => {
    const deps = world();
    deps.workloadWriter.failCreateOf = 'StatefulSet';
    await expect(restoreBackup(deps, { namespace: 'db', id: ID, to: 'r' })).rejects.toMatchObject({ code: 'Unavailable' });
    expect(deps.workloadWriter.get('PersistentVolumeClaim', 'db', 'data-r-0')).toBeUndefined();
  });

  it.each([
    [
      'an in-progress backup',
      aBackupSnapshot({ id: ID, phase: 'consistency', readyToUse: false }),
      'r',
      /is in_progress: only a completed backup can be restored/,
    ],
    ['a failed backup', aBackupSnapshot({ id: ID, phase: 'failed', recordedError: 'boom' }), 'r', /is failed \(boom\)/],
    ['the source itself as target', aBackupSnapshot({ id: ID }), 'pg', /is the backed-up StatefulSet itself/],
    ['a name too long for a StatefulSet', aBackupSnapshot({ id: ID }), 'x'.repeat(53), /too long/],
  ])('refuses %s', async (_, snapshot, to, message) => {
    const deps = world(snapshot);
    await expect(restoreBackup(deps, { namespace: 'db', id: ID, to })).rejects.toMatchObject({
      code: 'Invalid',
      message: expect.stringMatching(message),
    });
    expect(deps.journal.filter((j) => j.startsWith('workloads.'))).toEqual([]);
  });

  it('into another namespace, re-binds each snapshot there first: a Retain content with the same handle, a VolumeSnapshot on it', async () => {
    const deps = world();
    const source = aStatefulSetManifest() as unknown as Obj;
    source.spec.template.spec.serviceAccountName = 'pg-sa';
    source.spec.template.spec.containers[0].env = [
      { name: 'POSTGRES_PASSWORD', valueFrom: { secretKeyRef: { name: 'pg-secret', key: 'password' } } },
    ];
    deps.workloadWriter.put(source as never);
    const { plan } = await restoreBackup(deps, { namespace: 'db', id: ID, to: 'pg', targetNamespace: 'staging', dryRun: true });
    const [content, copy, pvc, , sts] = plan.create as unknown as Obj[];
    const copyName = `pg-${ID}-data-pg-0`;
    expect(content).toMatchObject({
      kind: 'VolumeSnapshotContent',
      metadata: {
        name: `staging-${copyName}`,
        labels: { [Labels.restoredFrom]: ID },
        annotations: { 'pgbackup.io/copy-of': `db/${ID}-data-pg-0` },
      },
      spec: {
        deletionPolicy: 'Retain',
        driver: 'pd.csi.example.com',
        source: { snapshotHandle: `handle-${ID}-data-pg-0` },
        volumeSnapshotClassName: 'fast-snap',
        volumeSnapshotRef: { namespace: 'staging', name: copyName },
      },
    });
    expect(content!.metadata).not.toHaveProperty('namespace');
    expect(copy).toMatchObject({
      kind: 'VolumeSnapshot',
      metadata: { name: copyName, namespace: 'staging' },
      spec: { source: { volumeSnapshotContentName: `staging-${copyName}` } },
    });
    expect(pvc).toMatchObject({
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data-pg-0', namespace: 'staging' },
      spec: { dataSource: { kind: 'VolumeSnapshot', name: copyName } },
    });
    expect(sts).toMatchObject({ kind: 'StatefulSet', metadata: { name: 'pg', namespace: 'staging' } });
    expect(plan.notes.join(' ')).toMatch(/refers to secret\/pg-secret, serviceaccount\/pg-sa: they must exist in namespace staging too/);
  });

  it('after a restore into another namespace is ready, deletes the snapshot copies (claim first, content last) and keeps the backup', async () => {
    const deps = world();
    await restoreBackup(deps, { namespace: 'db', id: ID, to: 'pg', targetNamespace: 'staging', wait: true });
    expect(deps.journal.filter((j) => j.startsWith('workloads.'))).toEqual([
      `workloads.create VolumeSnapshotContent /staging-pg-${ID}-data-pg-0`,
      `workloads.create VolumeSnapshot staging/pg-${ID}-data-pg-0`,
      'workloads.create PersistentVolumeClaim staging/data-pg-0',
      'workloads.create Service staging/pg',
      'workloads.create StatefulSet staging/pg',
      'workloads.ready staging/pg',
      `workloads.delete VolumeSnapshot staging/pg-${ID}-data-pg-0`,
      `workloads.delete VolumeSnapshotContent /staging-pg-${ID}-data-pg-0`,
    ]);
    expect(deps.snapshots.get('db', `${ID}-data-pg-0`)).toBeDefined();
  });

  it('clones the StatefulSet as recorded at backup time, so a deleted source (even under its own name) can be restored', async () => {
    const recorded = aStatefulSetManifest() as unknown as Obj;
    recorded.spec.template.spec.containers[0].image = 'postgres:15.8';
    const deps = world(aBackupSnapshot({ id: ID, annotations: { [Annotations.statefulSetSpec]: recordSource(recorded as never)!.spec } }));
    // The live StatefulSet moved on to another image: the backup's data goes with the recorded one.
    const { plan } = await restoreBackup(deps, { namespace: 'db', id: ID, to: 'r', dryRun: true });
    expect((plan.create.at(-1) as unknown as Obj).spec.template.spec.containers[0].image).toBe('postgres:15.8');
    deps.workloadWriter.objects.clear();
    const again = await restoreBackup(deps, { namespace: 'db', id: ID, to: 'pg', dryRun: true });
    expect(again.plan.create.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'PersistentVolumeClaim/data-pg-0',
      'Service/pg',
      'StatefulSet/pg',
    ]);
    expect(again.plan.notes.join(' ')).toMatch(/no longer exists: cloned from its spec as recorded in the backup/);
  });

  it('refuses a snapshot without a bound content for another namespace, and a deleted source StatefulSet', async () => {
    const deps = world(aBackupSnapshot({ id: ID, annotations: {} }));
    deps.snapshots.update('db', `${ID}-data-pg-0`, { contentName: undefined });
    await expect(restoreBackup(deps, { namespace: 'db', id: ID, to: 'r', targetNamespace: 'other' })).rejects.toMatchObject({
      code: 'Invalid',
      message: expect.stringMatching(/no bound VolumeSnapshotContent/),
    });
    deps.workloadWriter.objects.clear();
    await expect(restoreBackup(deps, { namespace: 'db', id: ID, to: 'r' })).rejects.toMatchObject({
      code: 'NotFound',
      message: expect.stringMatching(/no longer exists/),
    });
  });

  it('fills literal env values the backup left out from the live StatefulSet, and refuses when it is gone', async () => {
    const recorded = aStatefulSetManifest() as unknown as Obj;
    recorded.spec.template.spec.containers[0].env = [{ name: 'POSTGRES_PASSWORD', value: 'at-backup' }];
    const { spec, redactedEnv } = recordSource(recorded as never)!;
    expect(spec).not.toMatch(/at-backup/);
    const deps = world(
      aBackupSnapshot({
        id: ID,
        annotations: { [Annotations.statefulSetSpec]: spec, [Annotations.redactedEnv]: JSON.stringify(redactedEnv) },
      }),
    );
    const live = aStatefulSetManifest() as unknown as Obj;
    live.spec.template.spec.containers[0].env = [{ name: 'POSTGRES_PASSWORD', value: 'live' }];
    deps.workloadWriter.put(live as never);
    const { plan } = await restoreBackup(deps, { namespace: 'db', id: ID, to: 'r', dryRun: true });
    expect((plan.create.at(-1) as unknown as Obj).spec.template.spec.containers[0].env).toEqual([
      { name: 'POSTGRES_PASSWORD', value: 'live' },
    ]);
    deps.workloadWriter.objects.clear();
    await expect(restoreBackup(deps, { namespace: 'db', id: ID, to: 'r', dryRun: true })).rejects.toMatchObject({
      code: 'Invalid',
      message: expect.stringMatching(/without the literal value of env postgres\/POSTGRES_PASSWORD .*no longer exists/),
    });
  });
  it('refuses a recorded pod template that grants more than the live one, unless the caller accepts it', async () => {
    const recorded = aStatefulSetManifest() as unknown as Obj;
    recorded.spec.template.spec.volumes = [{ name: 'host', hostPath: { path: '/' } }];
    recorded.spec.template.spec.containers[0].securityContext = { privileged: true };
    const deps = world(aBackupSnapshot({ id: ID, annotations: { [Annotations.statefulSetSpec]: recordSource(recorded as never)!.spec } }));
    await expect(restoreBackup(deps, { namespace: 'db', id: ID, to: 'r' })).rejects.toMatchObject({
      code: 'Forbidden',
      message: expect.stringMatching(
        /grants more than the live StatefulSet db\/pg: hostPath volume host \(\/\); container postgres: privileged$/,
      ),
      hint: { step: { operation: 'restore', target: ID, options: [{ option: 'to', value: 'r' }, { option: 'trustRecordedPodTemplate' }] } },
    });
    expect(deps.journal.filter((j) => j.startsWith('workloads.create'))).toEqual([]);
    const { plan } = await restoreBackup(deps, { namespace: 'db', id: ID, to: 'r', dryRun: true, trustRecordedPodTemplate: true });
    expect((plan.create.at(-1) as unknown as Obj).spec.template.spec.containers[0].securityContext).toEqual({ privileged: true });
  });

  it('without the live StatefulSet, refuses a recorded pod template beyond the defaults (a non-default ServiceAccount)', async () => {
    const recorded = aStatefulSetManifest() as unknown as Obj;
    recorded.spec.template.spec.serviceAccountName = 'cluster-admin-sa';
    const deps = world(aBackupSnapshot({ id: ID, annotations: { [Annotations.statefulSetSpec]: recordSource(recorded as never)!.spec } }));
    deps.workloadWriter.objects.clear();
    await expect(restoreBackup(deps, { namespace: 'db', id: ID, to: 'pg', dryRun: true })).rejects.toMatchObject({
      code: 'Forbidden',
      message: expect.stringMatching(/than a pod gets by default .*no longer exists.*: serviceAccountName cluster-admin-sa$/),
    });
  });
});
