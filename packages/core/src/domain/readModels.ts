/**
 * The read models: what pgbackup reads from the cluster (and the objects it writes), as plain data.
 * Ports return them, the domain computes on them; they hold no behaviour.
 */
import type { Schedule } from './schedule.js';
import type { RetentionPolicy } from './retention.js';

/** A PersistentVolumeClaim of a pod, with what the backup needs to know about its volume. */
export interface PvcInfo {
  name: string;
  /** The volumeClaimTemplate it comes from (`<template>-<sts>-<ordinal>`), if any. */
  template?: string;
  phase: string;
  storageClassName?: string;
  /** CSI driver of the bound PersistentVolume. */
  driver?: string;
  volumeName?: string;
  capacityBytes?: number;
}

export interface PodInfo {
  name: string;
  ordinal: number;
  phase: string;
  ready: boolean;
  /** Container that runs PostgreSQL (first container whose image mentions postgres, else the first). */
  container?: string;
  pvcs: PvcInfo[];
}

export interface StatefulSetInfo {
  name: string;
  namespace: string;
  replicas: number;
  readyReplicas: number;
  currentReplicas: number;
  updatedReplicas: number;
  volumeClaimTemplates: string[];
  pods: PodInfo[];
  /** The StatefulSet object as stored (what a backup records for restores), when read from the API server. */
  manifest?: KubernetesObject;
}

export interface SnapshotClassInfo {
  name: string;
  driver: string;
  isDefault: boolean;
  deletionPolicy: string;
}

/** A VolumeSnapshotContent (cluster-scoped), as the orphan check of doctor sees it. */
export interface SnapshotContentInfo {
  name: string;
  /** The VolumeSnapshot it is bound to (spec.volumeSnapshotRef). */
  snapshotNamespace?: string;
  snapshotName?: string;
  deletionPolicy?: string;
  driver?: string;
  /** The storage's id of the snapshot (status.snapshotHandle): what a copy in another namespace binds to. */
  snapshotHandle?: string;
  sourceVolumeMode?: string;
  className?: string;
  createdAt?: string;
  deleting?: boolean;
}

export interface ApiSupport {
  /** Served versions of snapshot.storage.k8s.io (empty when the CRDs are absent). */
  snapshotVersions: string[];
  /** Served versions of groupsnapshot.storage.k8s.io. */
  groupSnapshotVersions: string[];
}

/** The stored backup schedule of a StatefulSet (a CronJob in Kubernetes). */
export interface ScheduledBackup {
  statefulSet: string;
  namespace: string;
  schedule: Schedule;
  retention?: RetentionPolicy;
  suspended: boolean;
  lastScheduleTime?: string;
  /** When the schedule was set (the CronJob's creation). */
  createdAt?: string;
  /** Name of the CronJob, when stored as one. */
  cronJob?: string;
  /** Image the scheduled pod runs. */
  image?: string;
  /** Each run verifies its backup before pruning. */
  verify?: boolean;
}

/** A Kubernetes object as written (apiVersion, kind, metadata, …). */
export type KubernetesObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
};

/** An object pgbackup creates or deletes when it restores. */
export interface ObjectRef {
  kind: 'StatefulSet' | 'PersistentVolumeClaim' | 'Service' | 'VolumeSnapshot' | 'VolumeSnapshotContent';
  /** '' for cluster-scoped kinds (VolumeSnapshotContent). */
  namespace: string;
  name: string;
}

export interface ExistingObject extends ObjectRef {
  restoredFrom?: string;
}

/** What long work (an in-place restore, a verification) may have left in a namespace, for doctor. */
export interface Leftovers {
  /** StatefulSets carrying an in-place restore record: spec.replicas and the record as written. */
  inPlaceRestores: { statefulSet: string; replicas: number; record: string }[];
  /** StatefulSets, claims and Services of scratch restores (label `pgbackup.io/scratch`). */
  scratch: (ObjectRef & { createdAt?: string; restoredFrom?: string })[];
  /** PersistentVolumes kept for a claim of the namespace (annotation `pgbackup.io/kept-for-claim`); undefined when they may not be listed. */
  keptVolumes?: { name: string; claim: string; reclaimPolicy?: string; keptReclaimPolicy?: string; phase?: string }[];
  /** Why keptVolumes is undefined. */
  keptVolumesProblem?: string;
}

/** A PersistentVolumeClaim as stored, with the volume bound to it (what an in-place restore swaps). */
export interface ClaimBinding {
  /** The claim as stored (apiVersion, kind, metadata, spec, status). */
  claim: KubernetesObject;
  /** The bound PersistentVolume, if any. */
  volume?: string;
  /** That volume's persistentVolumeReclaimPolicy. */
  reclaimPolicy?: string;
}
