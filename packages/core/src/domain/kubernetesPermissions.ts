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
  /** Where a Role is written for one StatefulSet: the only objects it needs (RBAC `resourceNames`). */
  resourceNames?: (statefulSet: string) => string[];
}

/**
 * How many pods of a StatefulSet its Role lets exec (`<sts>-0` … `<sts>-9`): RBAC names objects and has
 * no patterns, and a primary is looked for from ordinal 0 up, so a larger StatefulSet still backs up.
 */
export const EXEC_ORDINALS = 10;

/** The Lease that keeps backups of one StatefulSet one at a time. */
export const backupLeaseName = (statefulSet: string): string => `pgbackup-${statefulSet}`.slice(0, 253);

const statefulSetPods = (statefulSet: string) => Array.from({ length: EXEC_ORDINALS }, (_, i) => `${statefulSet}-${i}`);

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
  {
    group: '',
    resource: 'pods',
    subresource: 'exec',
    verbs: ['create', 'get'],
    usedFor: 'CHECKPOINT in the primary before the snapshot',
    resourceNames: statefulSetPods,
  },
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
    verbs: ['get', 'update', 'delete'],
    usedFor: 'one backup at a time per StatefulSet',
    resourceNames: (statefulSet) => [backupLeaseName(statefulSet)],
  },
  // Creating cannot be limited to a name (RBAC authorizes a create before the object has one).
  { group: 'coordination.k8s.io', resource: 'leases', verbs: ['create'], usedFor: 'one backup at a time per StatefulSet' },
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
  // The scratch pod's name is random, so not named; creating StatefulSets already lets this Role run any pod here.
  { group: '', resource: 'pods', subresource: 'exec', verbs: ['create', 'get'], usedFor: 'verify: the checks in the scratch pod' },
];

/** An RBAC PolicyRule. */
export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

/** The rules that grant `permissions`; for a Role of one StatefulSet, limited to its objects where they can be. */
export function rbacRules(permissions: Permission[], statefulSet?: string): RbacRule[] {
  return permissions.map((p) => ({
    apiGroups: [p.group],
    resources: [p.subresource ? `${p.resource}/${p.subresource}` : p.resource],
    ...(statefulSet && p.resourceNames ? { resourceNames: p.resourceNames(statefulSet) } : {}),
    verbs: p.verbs,
  }));
}

/** `resource/subresource.group`, as RBAC errors name it. */
export const permissionName = (p: Pick<Permission, 'group' | 'resource' | 'subresource'>): string =>
  `${p.resource}${p.subresource ? `/${p.subresource}` : ''}${p.group ? `.${p.group}` : ''}`;
