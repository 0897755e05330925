/**
 * The label/annotation contract: a backup is the set of VolumeSnapshots that carry the same
 * `pgbackup.io/backup` label. Everything pgbackup shows is derived from these keys, so the CLI,
 * the CronJob, the HTTP API and the portal agree without a database of their own.
 * Bump CONTRACT_VERSION on any incompatible change; readers accept every version they know.
 */
export const CONTRACT_VERSION = '1';

export const GROUP = 'pgbackup.io';

export const Labels = {
  managedBy: 'app.kubernetes.io/managed-by',
  backup: `${GROUP}/backup`,
  statefulSet: `${GROUP}/statefulset`,
  type: `${GROUP}/type`,
} as const;

export const MANAGED_BY = 'kubectl-pgbackup';

export const Annotations = {
  contractVersion: `${GROUP}/contract-version`,
  method: `${GROUP}/method`,
  volumes: `${GROUP}/volumes`,
  phase: `${GROUP}/phase`,
  error: `${GROUP}/error`,
  startedAt: `${GROUP}/started-at`,
  cutAt: `${GROUP}/cut-at`,
  deadline: `${GROUP}/deadline`,
  pod: `${GROUP}/pod`,
  claimTemplate: `${GROUP}/claim-template`,
  ordinal: `${GROUP}/ordinal`,
  lsn: `${GROUP}/lsn`,
  pgVersion: `${GROUP}/pg-version`,
  pinned: `${GROUP}/pinned`,
  verified: `${GROUP}/verified`,
  /** The StatefulSet as it was at backup time (JSON, server fields stripped): what a restore clones. */
  statefulSetSpec: `${GROUP}/statefulset-spec`,
  /** On each VolumeSnapshot of a group-snapshot backup: the VolumeGroupSnapshot that cut it (deleted with the backup). */
  groupSnapshot: `${GROUP}/group-snapshot`,
} as const;

/** On the PersistentVolumeClaims of a group snapshot while it is taken: the group's name (its selector). */
export const GROUP_CLAIM_LABEL = `${GROUP}/group-snapshot`;

/** Catalog annotations the Backstage plugins read from an entity. */
export const EntityAnnotations = {
  statefulSet: `${GROUP}/statefulset`,
  cluster: `${GROUP}/cluster`,
  kubernetesId: 'backstage.io/kubernetes-id',
  kubernetesNamespace: 'backstage.io/kubernetes-namespace',
  kubernetesLabelSelector: 'backstage.io/kubernetes-label-selector',
} as const;

/** Selects every VolumeSnapshot pgbackup made. */
export const MANAGED_SELECTOR = `${Labels.managedBy}=${MANAGED_BY}`;
