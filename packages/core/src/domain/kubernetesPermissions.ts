import { GroupSnapshotStorage, SnapshotStorage } from '../contract.js';

/**
 * The Kubernetes permissions pgbackup uses, in one list: the CronJob's Role is generated from it
 * and `doctor` checks the caller against it, so the two cannot drift apart.
 */
export interface Permission {
  group: string;
  resource: string;
  subresource?: string;
  verbs: string[];
  /** Cluster-scoped resources need a ClusterRole. */
  clusterScoped?: boolean;
  /** What fails without it. */
  usedFor: string;
}

export const PERMISSIONS: Permission[] = [
  {
    group: SnapshotStorage.group,
    resource: 'volumesnapshots',
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
    usedFor: 'backups are VolumeSnapshots',
  },
  {
    group: SnapshotStorage.group,
    resource: 'volumesnapshotclasses',
    verbs: ['get', 'list'],
    clusterScoped: true,
    usedFor: 'choosing the VolumeSnapshotClass of a volume',
  },
  { group: 'apps', resource: 'statefulsets', verbs: ['get', 'list'], usedFor: 'finding the pods and volumes to back up' },
  { group: '', resource: 'pods', verbs: ['get', 'list'], usedFor: 'finding the primary pod' },
  { group: '', resource: 'pods', subresource: 'exec', verbs: ['create', 'get'], usedFor: 'CHECKPOINT in the primary before the snapshot' },
  {
    group: '',
    resource: 'persistentvolumeclaims',
    verbs: ['get', 'list', 'patch'],
    usedFor: 'finding the volumes of a pod; labelling them for a group snapshot',
  },
  {
    group: GroupSnapshotStorage.group,
    resource: 'volumegroupsnapshots',
    verbs: ['get', 'create', 'delete'],
    usedFor: 'backups of a pod with several volumes',
  },
  { group: '', resource: 'persistentvolumes', verbs: ['get'], clusterScoped: true, usedFor: "finding a volume's CSI driver" },
  {
    group: GroupSnapshotStorage.group,
    resource: 'volumegroupsnapshotclasses',
    verbs: ['list'],
    clusterScoped: true,
    usedFor: 'choosing the VolumeGroupSnapshotClass of the volumes',
  },
  {
    group: 'coordination.k8s.io',
    resource: 'leases',
    verbs: ['get', 'create', 'update', 'delete'],
    usedFor: 'one backup at a time per StatefulSet',
  },
  { group: 'batch', resource: 'cronjobs', verbs: ['get', 'list'], usedFor: 'schedule and freshness in status' },
  {
    group: 'events.k8s.io',
    resource: 'events',
    verbs: ['get', 'list', 'create', 'patch'],
    usedFor: 'Events on the StatefulSet (get + patch count repeats in a series; list shows them in status)',
  },
];

/**
 * What a scheduled run that also verifies needs beyond PERMISSIONS: a scratch restore (StatefulSet,
 * claims and headless Service created and deleted again) next to the source.
 */
export const VERIFY_PERMISSIONS: Permission[] = [
  { group: 'apps', resource: 'statefulsets', verbs: ['create', 'delete'], usedFor: 'verify: the scratch StatefulSet' },
  { group: '', resource: 'persistentvolumeclaims', verbs: ['create', 'delete'], usedFor: 'verify: the scratch volumes from the snapshots' },
  { group: '', resource: 'services', verbs: ['get', 'create', 'delete'], usedFor: 'verify: the scratch headless Service' },
];

/** `resource/subresource.group`, as RBAC errors name it. */
export const permissionName = (p: Pick<Permission, 'group' | 'resource' | 'subresource'>): string =>
  `${p.resource}${p.subresource ? `/${p.subresource}` : ''}${p.group ? `.${p.group}` : ''}`;
