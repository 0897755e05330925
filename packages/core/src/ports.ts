import type { SnapshotInfo } from './domain/backup.js';
export type { SnapshotInfo };
import type { Schedule } from './domain/schedule.js';
import type { RetentionPolicy } from './domain/retention.js';

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

export interface WorkloadReader {
  /** @throws NotFound when the StatefulSet does not exist. */
  getStatefulSet(namespace: string, name: string): Promise<StatefulSetInfo>;
  listStatefulSetNames(namespace: string): Promise<string[]>;
}

export interface SnapshotClassInfo {
  name: string;
  driver: string;
  isDefault: boolean;
  deletionPolicy: string;
}

export interface NewSnapshot {
  namespace: string;
  name: string;
  pvc: string;
  className: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface SnapshotQuery {
  /** undefined = every namespace. */
  namespace?: string;
  labelSelector: string;
}

export interface SnapshotStore {
  list(query: SnapshotQuery): Promise<SnapshotInfo[]>;
  create(snapshot: NewSnapshot): Promise<SnapshotInfo>;
  /** Merges annotations (a null value removes the key). */
  annotate(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void>;
  /** Merges labels and annotations into a VolumeSnapshot pgbackup did not create (a member of a group snapshot). */
  adopt(namespace: string, name: string, labels: Record<string, string>, annotations: Record<string, string>): Promise<void>;
  delete(namespace: string, name: string): Promise<void>;
  /**
   * Calls `onChange` with the current snapshots matching the query, then on every change, until it
   * returns true (resolves) or the signal aborts (rejects with the signal's reason).
   */
  watch(query: SnapshotQuery, onChange: (snapshots: SnapshotInfo[]) => boolean, signal: AbortSignal): Promise<void>;
  listClasses(): Promise<SnapshotClassInfo[]>;
  /** The VolumeSnapshotContent, or undefined when it does not exist. */
  readContent(name: string): Promise<SnapshotContentInfo | undefined>;
}

/** A VolumeGroupSnapshot to take: the claims it cuts at one instant. */
export interface NewGroupSnapshot {
  namespace: string;
  name: string;
  className: string;
  /** The PersistentVolumeClaims to cut together (labelled so the group's selector picks exactly them). */
  claims: string[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** VolumeGroupSnapshots (groupsnapshot.storage.k8s.io): several volumes cut at one instant by the storage. */
export interface GroupSnapshotStore {
  /** VolumeGroupSnapshotClasses (empty when the API is not served). */
  listClasses(): Promise<SnapshotClassInfo[]>;
  /** Labels the claims with the group's name, then creates the VolumeGroupSnapshot selecting that label. */
  create(group: NewGroupSnapshot): Promise<void>;
  /**
   * Waits until the snapshot controller has made the group's VolumeSnapshots (one per claim, owned by
   * the group) and returns them; rejects with Inconsistent when the group reports an error, or the signal's reason.
   */
  waitMembers(namespace: string, name: string, count: number, signal: AbortSignal): Promise<SnapshotInfo[]>;
  /** Removes the selection label from the claims (absent claims are fine). */
  releaseClaims(namespace: string, claims: string[]): Promise<void>;
  /** Deletes the VolumeGroupSnapshot (its VolumeSnapshots go with it); absent is fine. */
  delete(namespace: string, name: string): Promise<void>;
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

export interface SnapshotContentReader {
  listContents(): Promise<SnapshotContentInfo[]>;
}

export interface ApiSupport {
  /** Served versions of snapshot.storage.k8s.io (empty when the CRDs are absent). */
  snapshotVersions: string[];
  /** Served versions of groupsnapshot.storage.k8s.io. */
  groupSnapshotVersions: string[];
}

export interface Discovery {
  apiSupport(): Promise<ApiSupport>;
}

/** A SQL session inside the database pod (opened through the Kubernetes API). Always close it. */
export interface DatabaseSession {
  /** Runs SQL and returns the rows as arrays of text fields. */
  query(sql: string): Promise<string[][]>;
  close(): Promise<void>;
}

export interface DatabaseConnector {
  /** A session to `database` (default: the pod's PGDATABASE, else `postgres`). */
  open(namespace: string, pod: string, container?: string, options?: { database?: string }): Promise<DatabaseSession>;
}

/** A per-StatefulSet mutual exclusion so two backups never run at once. */
export interface BackupLock {
  /**
   * Held until release; the holder renews it, so a holder that dies frees it after `ttlSeconds`.
   * @throws Conflict naming the current holder when held by someone else.
   */
  acquire(namespace: string, statefulSet: string, holder: string, ttlSeconds: number): Promise<{ release(): Promise<void> }>;
}

/** The stored backup schedule of a StatefulSet (a CronJob in Kubernetes). */
export interface ScheduledBackup {
  statefulSet: string;
  namespace: string;
  schedule: Schedule;
  retention?: RetentionPolicy;
  suspended: boolean;
  lastScheduleTime?: string;
  /** Name of the CronJob, when stored as one. */
  cronJob?: string;
  /** Image the scheduled pod runs. */
  image?: string;
  /** Each run verifies its backup before pruning. */
  verify?: boolean;
}

export interface ScheduleStore {
  get(namespace: string, statefulSet: string): Promise<ScheduledBackup | undefined>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** What a scheduled backup runs and keeps: one CronJob plus the RBAC its pods need. */
export interface ScheduleSpec {
  namespace: string;
  statefulSet: string;
  schedule: Schedule;
  retention?: RetentionPolicy;
  /** Image of the CronJob's pod; runs `kubectl-pgbackup`. */
  image: string;
  suspend?: boolean;
  /** Seconds a scheduled run may wait for its snapshots to become ready. */
  waitTimeoutSeconds?: number;
  /** Verify each scheduled backup (scratch restore + checks) before pruning. */
  verify?: boolean;
}

/** A Kubernetes object as written (apiVersion, kind, metadata, …). */
export type KubernetesObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: unknown }; [k: string]: unknown };

export interface ScheduleWriter {
  /** The objects `apply` would write, without writing them. */
  manifests(spec: ScheduleSpec): KubernetesObject[];
  /** Creates or updates them; returns each object with whether it was created or configured. */
  apply(spec: ScheduleSpec): Promise<{ object: KubernetesObject; action: 'created' | 'configured' }[]>;
  /** Deletes the CronJob and its namespaced RBAC; returns `kind/name` of what was deleted. */
  remove(namespace: string, statefulSet: string, options?: { dryRun?: boolean }): Promise<string[]>;
}

/** One permission to check, as a SelfSubjectAccessReview's resourceAttributes. */
export interface AccessCheck {
  namespace?: string;
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
}

export interface AccessReviewer {
  /** Whether the caller may do each check, in order. */
  review(checks: AccessCheck[]): Promise<{ check: AccessCheck; allowed: boolean; reason?: string }[]>;
}

/** The state of one watched resource of a read cache (an informer), as health checks show it. */
export interface InformerStatus {
  /** e.g. `volumesnapshots` or `statefulsets`, with the namespace when scoped. */
  resource: string;
  /** The initial list succeeded and the watch is running. */
  synced: boolean;
  items: number;
  lastSyncAt?: string;
  lastEventAt?: string;
  lastError?: string;
  /** How many times the list+watch was restarted after an error. */
  restarts: number;
}

/** A list+watch cache in front of the API server: reads are served from memory once synced. */
export interface ReadCache {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Every informer synced. */
  synced(): boolean;
  status(): InformerStatus[];
}

/** Who a bearer token belongs to, as the API server's TokenReview says. */
export interface TokenIdentity {
  authenticated: boolean;
  username?: string;
  groups?: string[];
  error?: string;
}

export interface TokenReviewer {
  review(token: string, audiences?: string[]): Promise<TokenIdentity>;
}

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

/** A PersistentVolumeClaim as stored, with the volume bound to it (what an in-place restore swaps). */
export interface ClaimBinding {
  /** The claim as stored (apiVersion, kind, metadata, spec, status). */
  claim: KubernetesObject;
  /** The bound PersistentVolume, if any. */
  volume?: string;
  /** That volume's persistentVolumeReclaimPolicy. */
  reclaimPolicy?: string;
}

/** Writes workloads (restore, verify): StatefulSets and PersistentVolumeClaims. */
export interface WorkloadWriter {
  /** The StatefulSet as stored (apiVersion, kind, metadata, spec, status). @throws NotFound */
  readStatefulSet(namespace: string, name: string): Promise<KubernetesObject>;
  /** The refs that exist, each with the backup it was restored from (label `pgbackup.io/restored-from`), if any. */
  existing(refs: ObjectRef[]): Promise<ExistingObject[]>;
  /** Creates the object; Conflict when it exists. */
  create(object: KubernetesObject): Promise<void>;
  /** Deletes the object (absent is fine); with `wait`, returns once it is gone (finalizers done). */
  delete(ref: ObjectRef, options?: { wait?: boolean; signal?: AbortSignal }): Promise<void>;
  /**
   * Waits until pod `<statefulSet>-0`… have their `replicas` pods Ready; rejects with Timeout naming what
   * it saw (e.g. a PVC Pending with the provisioner's event) or the signal's reason.
   */
  waitReady(namespace: string, statefulSet: string, replicas: number, options: { timeoutSeconds: number; signal?: AbortSignal }): Promise<void>;
  /** The claim and its bound volume, or undefined when the claim does not exist. */
  readClaim(namespace: string, name: string): Promise<ClaimBinding | undefined>;
  /** Sets spec.replicas and returns the previous count; scaling to 0 returns once the pods are gone. */
  scale(namespace: string, statefulSet: string, replicas: number, options?: { signal?: AbortSignal }): Promise<number>;
  /** Merges annotations into the StatefulSet (a null value removes the key). */
  annotateStatefulSet(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void>;
  /** Sets a PersistentVolume's reclaim policy and merges annotations into it (a null value removes the key). */
  setReclaimPolicy(volume: string, policy: string, annotations?: Record<string, string | null>): Promise<void>;
  /** Clears a Released volume's claimRef, so a new claim that names it (spec.volumeName) binds it again. */
  releaseVolume(volume: string): Promise<void>;
}
