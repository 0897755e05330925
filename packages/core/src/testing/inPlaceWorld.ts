import { aBackupSnapshot, aSnapshotClass, aStatefulSet, aStatefulSetManifest } from './builders.js';
import { type FakeDeps, fakeDeps } from './fakes.js';

/**
 * The world of an in-place restore: StatefulSet db/pg (`replicas`, primary pg-0) whose claim data-pg-0
 * is bound to volume pv-1 (content "live"), and the completed backup `id`. The journal starts empty.
 */
export async function inPlaceWorld(id: string, replicas = 1): Promise<FakeDeps> {
  const deps = fakeDeps({
    now: '2026-06-01T12:00:00Z',
    statefulSets: [aStatefulSet()],
    classes: [aSnapshotClass({ name: 'fast-snap', isDefault: true })],
    snapshots: [aBackupSnapshot({ id })],
  });
  deps.database.primary('db', 'pg-0');
  deps.workloadWriter.put(aStatefulSetManifest({ replicas }));
  await deps.workloadWriter.create({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data-pg-0', namespace: 'db', labels: { app: 'pg' } },
    spec: { storageClassName: 'fast', resources: { requests: { storage: '10Gi' } } },
  });
  deps.workloadWriter.volumes.get('pv-1')!.content = 'live';
  deps.journal.length = 0;
  return deps;
}
