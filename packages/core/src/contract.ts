/**
 * The label/annotation contract: a backup is the set of VolumeSnapshots that carry the same
 * `pgbackup.io/backup` label. Everything pgbackup shows is derived from these keys, so the CLI,
 * the CronJob, the HTTP API and the portal agree without a database of their own.
 * Every key pgbackup reads or writes is here, its own and other projects', named after its owner
 * (a unit test fails on a key written anywhere else).
 * Bump CONTRACT_VERSION on any incompatible change; readers accept every version they know.
 */
export const CONTRACT_VERSION = '1';

/** The prefix of every key pgbackup owns. */
export const PGBACKUP_KEY_PREFIX = 'pgbackup.io/';

/** Keys Kubernetes itself defines (well-known labels and annotations). */
export const KubernetesKeys = {
  /** Recommended label: the tool that manages the object. */
  managedBy: 'app.kubernetes.io/managed-by',
  /** Written by `kubectl apply`; never copied to a restored object. */
  lastAppliedConfiguration: 'kubectl.kubernetes.io/last-applied-configuration',
  /** Written by the Deployment/StatefulSet controllers; not part of a clone. */
  deploymentPrefix: 'deployment.kubernetes.io/',
  /** Written on a claim when it is bound or provisioned (`pv.kubernetes.io/bind-completed`, `volume.kubernetes.io/selected-node`, …). */
  claimBindingPrefixes: ['pv.kubernetes.io/', 'volume.'],
} as const;

/** The external-snapshotter's VolumeSnapshot API (kubernetes-csi). */
export const SnapshotStorage = {
  group: 'snapshot.storage.k8s.io',
  version: 'v1',
  apiVersion: 'snapshot.storage.k8s.io/v1',
  /** On a VolumeSnapshotClass: the default class of its driver. */
  isDefaultClass: 'snapshot.storage.kubernetes.io/is-default-class',
} as const;

/** The external-snapshotter's VolumeGroupSnapshot API (kubernetes-csi); the version is discovered. */
export const GroupSnapshotStorage = {
  group: 'groupsnapshot.storage.k8s.io',
  /** On a VolumeGroupSnapshotClass: the default class of its driver. Note the API group says k8s.io, the annotation kubernetes.io. */
  isDefaultClass: 'groupsnapshot.storage.kubernetes.io/is-default-class',
} as const;

/** The value of KubernetesKeys.managedBy on everything pgbackup creates. */
export const MANAGED_BY = 'kubectl-pgbackup';

/** The labels pgbackup writes (managedBy is Kubernetes' key, the rest are pgbackup's). */
export const Labels = {
  managedBy: KubernetesKeys.managedBy,
  backup: 'pgbackup.io/backup',
  statefulSet: 'pgbackup.io/statefulset',
  type: 'pgbackup.io/type',
  /** On every object of a restore: the backup it was restored from (a restore replaces only objects carrying it). */
  restoredFrom: 'pgbackup.io/restored-from',
  /** Selector label of a restored StatefulSet when no selector label carries the source's name: the target's name. */
  restoreOf: 'pgbackup.io/restore-of',
  /** On the objects of a scratch restore (verify): what made them. */
  scratch: 'pgbackup.io/scratch',
  /** On the PersistentVolumeClaims of a group snapshot while it is taken: the group's name (its selector). */
  groupSnapshotClaim: 'pgbackup.io/group-snapshot',
} as const;

/** The annotations pgbackup writes. */
export const Annotations = {
  contractVersion: 'pgbackup.io/contract-version',
  method: 'pgbackup.io/method',
  volumes: 'pgbackup.io/volumes',
  phase: 'pgbackup.io/phase',
  error: 'pgbackup.io/error',
  startedAt: 'pgbackup.io/started-at',
  cutAt: 'pgbackup.io/cut-at',
  deadline: 'pgbackup.io/deadline',
  pod: 'pgbackup.io/pod',
  claimTemplate: 'pgbackup.io/claim-template',
  ordinal: 'pgbackup.io/ordinal',
  lsn: 'pgbackup.io/lsn',
  /** The redo point of the backup's CHECKPOINT: where replaying archived WAL onto its snapshots starts. */
  redoLsn: 'pgbackup.io/redo-lsn',
  pgVersion: 'pgbackup.io/pg-version',
  pinned: 'pgbackup.io/pinned',
  verified: 'pgbackup.io/verified',
  /** When the process that waited for the backup saw every snapshot readyToUse (the storage records no such time). */
  readyAt: 'pgbackup.io/ready-at',
  /** JSON of the last restore of the backup that waited for PostgreSQL: `{at, seconds, target}`. */
  restored: 'pgbackup.io/restored',
  /** The StatefulSet as it was at backup time (JSON, server fields stripped): what a restore clones. */
  statefulSetSpec: 'pgbackup.io/statefulset-spec',
  /** JSON list of `container/VARIABLE`: literal env values left out of statefulSetSpec (a restore takes them from the live StatefulSet). */
  redactedEnv: 'pgbackup.io/redacted-env',
  /** On each VolumeSnapshot of a group-snapshot backup: the VolumeGroupSnapshot that cut it (deleted with the backup). */
  groupSnapshot: 'pgbackup.io/group-snapshot',
  /** On a restored StatefulSet: the backup it was restored from (the same key as the label). */
  restoredFrom: Labels.restoredFrom,
  /** On a restored StatefulSet: the StatefulSet the backup was taken of. */
  restoredFromStatefulSet: 'pgbackup.io/restored-from-statefulset',
  /** On a restored claim: the snapshot (`namespace/name`) it was provisioned from. */
  snapshot: 'pgbackup.io/snapshot',
  /** On a copy of a snapshot in another namespace: the snapshot it copies (`namespace/name`). */
  copyOf: 'pgbackup.io/copy-of',
  /** On a StatefulSet while an in-place restore runs: the restore's record (JSON), so an interrupted one is found. */
  inPlaceRestore: 'pgbackup.io/in-place-restore',
  /** On a PersistentVolume an in-place restore keeps: the claim (`namespace/name`) it belonged to. */
  keptForClaim: 'pgbackup.io/kept-for-claim',
  /** On a PersistentVolume an in-place restore keeps: its reclaim policy before, restored afterwards. */
  keptReclaimPolicy: 'pgbackup.io/kept-reclaim-policy',
  /** On a backup CronJob: its retention policy (JSON). */
  retention: 'pgbackup.io/retention',
  /** On a backup CronJob: "true" when each scheduled backup is verified. */
  verify: 'pgbackup.io/verify',
  /** On a StatefulSet, set by its owner: the SQL checks a verification may run (JSON `{"name": "SQL"}` or `{"name": {"sql", "database"}}`). */
  verifyChecks: 'pgbackup.io/verify-checks',
  /**
   * On a StatefulSet: the Backstage entity allowed to manage its backups (`component:default/orders`).
   * Set by whoever may edit the StatefulSet, so a catalog entity alone cannot claim a database.
   */
  backstageEntity: 'pgbackup.io/backstage-entity',
} as const;

/** The Kubernetes plugin's entity annotation pgbackup reads too (backstage.io): the StatefulSet's namespace. */
export const BackstageAnnotations = {
  kubernetesNamespace: 'backstage.io/kubernetes-namespace',
} as const;

/** Catalog annotations the Backstage plugins read from an entity: pgbackup's own and the Kubernetes plugin's. */
export const EntityAnnotations = {
  statefulSet: 'pgbackup.io/statefulset',
  cluster: 'pgbackup.io/cluster',
  ...BackstageAnnotations,
} as const;

/** `reportingController` of every Event pgbackup records (events.k8s.io/v1: a qualified name). */
export const EVENT_REPORTING_CONTROLLER = 'pgbackup.io/kubectl-pgbackup';

/** Selects every VolumeSnapshot pgbackup made. */
export const MANAGED_SELECTOR = `${Labels.managedBy}=${MANAGED_BY}`;
