/** Builders of domain and port values with sensible defaults, for tests. */
import { Annotations, CONTRACT_VERSION, KubernetesKeys, Labels, MANAGED_BY } from '../contract.js';
import type { Backup, BackupStatus, BackupType, RecordedPhase, SnapshotInfo, Verification } from '../domain/backup.js';
import type { KubernetesObject, PodInfo, PvcInfo, SnapshotClassInfo, StatefulSetInfo } from '../domain/readModels.js';

export const TEST_DRIVER = 'pd.csi.example.com';
export const TEST_NAMESPACE = 'db';
export const TEST_STATEFULSET = 'pg';

export function aPvc(overrides: Partial<PvcInfo> & { name: string }): PvcInfo {
  return {
    phase: 'Bound',
    storageClassName: 'fast',
    driver: TEST_DRIVER,
    volumeName: `pv-${overrides.name}`,
    capacityBytes: 10 * 1024 ** 3,
    ...overrides,
  };
}

/** Pod `<sts>-<ordinal>`, ready, with one PVC `data-<sts>-<ordinal>` from template `data`. */
export function aPod(ordinal: number, overrides: Partial<PodInfo> & { statefulSet?: string } = {}): PodInfo {
  const { statefulSet = TEST_STATEFULSET, ...rest } = overrides;
  const name = `${statefulSet}-${ordinal}`;
  return {
    name,
    ordinal,
    phase: 'Running',
    ready: true,
    container: 'postgres',
    pvcs: [aPvc({ name: `data-${name}`, template: 'data' })],
    ...rest,
  };
}

/** A StatefulSet with `replicas` ready pods (each one data volume), unless `pods` is given. */
export function aStatefulSet(overrides: Partial<StatefulSetInfo> = {}): StatefulSetInfo {
  const name = overrides.name ?? TEST_STATEFULSET;
  const pods = overrides.pods ?? Array.from({ length: overrides.replicas ?? 1 }, (_, i) => aPod(i, { statefulSet: name }));
  return {
    name,
    namespace: TEST_NAMESPACE,
    replicas: pods.length,
    readyReplicas: pods.filter((p) => p.ready).length,
    currentReplicas: pods.length,
    updatedReplicas: pods.length,
    volumeClaimTemplates: ['data'],
    ...overrides,
    pods,
  };
}

export function aSnapshotClass(overrides: Partial<SnapshotClassInfo> & { name: string }): SnapshotClassInfo {
  return { driver: TEST_DRIVER, isDefault: false, deletionPolicy: 'Delete', ...overrides };
}

export interface BackupSnapshotOptions {
  id: string;
  pvc?: string;
  namespace?: string;
  statefulSet?: string;
  type?: BackupType;
  /** Recorded phase annotation; omitted when undefined. Default `cut`. */
  phase?: RecordedPhase | undefined;
  volumes?: number;
  startedAt?: string;
  /** status.creationTime: when the storage cut this snapshot. */
  cutAt?: string;
  readyToUse?: boolean;
  restoreSize?: number;
  error?: string;
  recordedError?: string;
  deadline?: string;
  pinned?: boolean;
  verified?: Verification;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

/** One managed VolumeSnapshot of a backup, as pgbackup writes it; defaults describe a completed backup. */
export function aBackupSnapshot(o: BackupSnapshotOptions): SnapshotInfo {
  const statefulSet = o.statefulSet ?? TEST_STATEFULSET;
  const pvc = o.pvc ?? `data-${statefulSet}-0`;
  const startedAt = o.startedAt ?? '2026-06-01T02:00:00Z';
  const phase = 'phase' in o ? o.phase : 'cut';
  const cutAt = 'cutAt' in o ? o.cutAt : phase === 'cut' ? startedAt : undefined;
  const ready = o.readyToUse ?? phase === 'cut';
  return {
    name: `${o.id}-${pvc}`,
    namespace: o.namespace ?? TEST_NAMESPACE,
    pvc,
    createdAt: startedAt,
    readyToUse: ready,
    ...(cutAt ? { cutAt, contentName: `content-${o.id}-${pvc}` } : {}),
    ...(o.restoreSize !== undefined ? { restoreSize: o.restoreSize } : ready ? { restoreSize: 1024 ** 3 } : {}),
    ...(o.error ? { error: o.error } : {}),
    className: 'fast-snap',
    labels: {
      [Labels.managedBy]: MANAGED_BY,
      [Labels.backup]: o.id,
      [Labels.statefulSet]: statefulSet,
      [Labels.type]: o.type ?? 'manual',
      ...o.labels,
    },
    annotations: {
      [Annotations.contractVersion]: CONTRACT_VERSION,
      [Annotations.method]: 'checkpoint-snapshot',
      [Annotations.volumes]: String(o.volumes ?? 1),
      [Annotations.startedAt]: startedAt,
      ...(phase ? { [Annotations.phase]: phase } : {}),
      ...(o.recordedError ? { [Annotations.error]: o.recordedError } : {}),
      ...(o.deadline ? { [Annotations.deadline]: o.deadline } : {}),
      ...(o.pinned ? { [Annotations.pinned]: 'true' } : {}),
      ...(o.verified ? { [Annotations.verified]: JSON.stringify(o.verified) } : {}),
      ...o.annotations,
    },
  };
}

/** A derived Backup (as groupBackups would return it), for tests of retention and freshness. */
export function aBackup(id: string, at: string, overrides: Partial<Backup> & { status?: BackupStatus } = {}): Backup {
  const status = overrides.status ?? 'completed';
  return {
    id,
    namespace: TEST_NAMESPACE,
    statefulSet: TEST_STATEFULSET,
    type: 'scheduled',
    method: 'checkpoint-snapshot',
    status,
    phase: status === 'failed' ? 'failed' : status === 'completed' ? 'cut' : 'consistency',
    volumes: 1,
    snapshots: [],
    startedAt: at,
    ...(status === 'completed' ? { cutAt: at } : {}),
    pinned: false,
    ...overrides,
  };
}

/** A StatefulSet as the API server stores it (what a restore clones): selector app=<name>, template `data`. */
export function aStatefulSetManifest(
  overrides: { name?: string; namespace?: string; replicas?: number; templates?: string[]; storage?: string } = {},
): KubernetesObject {
  const name = overrides.name ?? TEST_STATEFULSET;
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: {
      name,
      namespace: overrides.namespace ?? TEST_NAMESPACE,
      uid: '6f1c1d8e-0000-4000-8000-000000000001',
      resourceVersion: '4242',
      creationTimestamp: '2026-05-01T00:00:00Z',
      labels: { app: name, tier: 'db' },
      annotations: { [KubernetesKeys.lastAppliedConfiguration]: '{}', team: 'payments' },
    },
    spec: {
      serviceName: name,
      replicas: overrides.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, tier: 'db' } },
        spec: {
          containers: [
            {
              name: 'postgres',
              image: 'postgres:17',
              volumeMounts: (overrides.templates ?? ['data']).map((t) => ({ name: t, mountPath: `/var/lib/postgresql/${t}` })),
            },
          ],
        },
      },
      volumeClaimTemplates: (overrides.templates ?? ['data']).map((t) => ({
        metadata: { name: t },
        spec: {
          accessModes: ['ReadWriteOnce'],
          storageClassName: 'fast',
          resources: { requests: { storage: overrides.storage ?? '10Gi' } },
        },
        status: { phase: 'Pending' },
      })),
    },
    status: { replicas: 1, readyReplicas: 1 },
  };
}
