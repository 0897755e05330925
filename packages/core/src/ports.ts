/**
 * The ports of the use cases: the stores, readers and writers core's application/ calls, each implemented by an
 * adapter in kubernetes/ and by an in-memory fake in testing/. Their data shapes are in domain/readModels.ts.
 */
import type { SnapshotInfo } from './domain/backup.js';
import type { BackupEvent, RecordedEvent } from './domain/events.js';
import type {
  ApiSupport,
  ClaimBinding,
  ExistingObject,
  KubernetesObject,
  Leftovers,
  ObjectRef,
  ScheduledBackup,
  SnapshotClassInfo,
  SnapshotContentInfo,
  StatefulSetInfo,
} from './domain/readModels.js';
import type { RetentionPolicy } from './domain/retention.js';
import type { Schedule } from './domain/schedule.js';

export interface WorkloadReader {
  /** @throws NotFound when the StatefulSet does not exist. */
  getStatefulSet(namespace: string, name: string): Promise<StatefulSetInfo>;
  listStatefulSetNames(namespace: string): Promise<string[]>;
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

export interface SnapshotContentReader {
  listContents(): Promise<SnapshotContentInfo[]>;
}

export interface Discovery {
  apiSupport(): Promise<ApiSupport>;
}

/** How one SQL runs: every query has a deadline. */
export interface QueryOptions {
  /** In a read-only transaction (for SQL pgbackup did not write). */
  readOnly?: boolean;
  /** The server's statement_timeout, and the deadline of the exec that runs it (default DEFAULT_QUERY_TIMEOUT_SECONDS). */
  timeoutSeconds?: number;
  /** Aborts the query (the exec is closed); rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** What a query may take unless told otherwise. */
export const DEFAULT_QUERY_TIMEOUT_SECONDS = 30;
/** A query's output beyond this is refused (rows are read into memory). */
export const MAX_QUERY_OUTPUT_BYTES = 1024 * 1024;

/** A SQL session inside the database pod (opened through the Kubernetes API). Always close it. */
export interface DatabaseSession {
  /**
   * Runs SQL and returns the rows as arrays of text fields.
   * @throws Timeout past its deadline, Invalid when its output exceeds MAX_QUERY_OUTPUT_BYTES.
   */
  query(sql: string, options?: QueryOptions): Promise<string[][]>;
  close(): Promise<void>;
}

export interface DatabaseConnector {
  /** A session to `database` (default: the pod's PGDATABASE, else `postgres`). */
  open(namespace: string, pod: string, container?: string, options?: { database?: string }): Promise<DatabaseSession>;
}

export interface HeldLock {
  release(): Promise<void>;
  lost: AbortSignal;
}

/** A per-StatefulSet mutual exclusion so two backups never run at once. */
export interface BackupLock {
  /**
   * Held until release; the holder renews it, so a holder that dies frees it after `ttlSeconds`.
   * `lost` aborts (its reason says why) when the hold ends without release: renewal failed until the
   * lock was about to expire, or someone else holds it now. Work done under the lock must stop then.
   * @throws Conflict naming the current holder when held by someone else.
   */
  acquire(namespace: string, statefulSet: string, holder: string, ttlSeconds: number): Promise<HeldLock>;
}

export interface ScheduleStore {
  get(namespace: string, statefulSet: string): Promise<ScheduledBackup | undefined>;
}

export interface Clock {
  now(): Date;
}

/** Sends a webhook request; resolves with the HTTP status, rejects when there was no answer (or `signal` aborted). */
export interface WebhookSender {
  post(url: string, body: string, signal: AbortSignal): Promise<number>;
}

/** Kubernetes Events on StatefulSets: a courtesy to whoever runs `kubectl describe`, never a reason to fail. */
export interface EventRecorder {
  /** Records the event (aggregated with the same reason's within its window); never throws, and returns within a few seconds. */
  record(event: BackupEvent): Promise<void>;
  /** The StatefulSet's recent pgbackup Events, newest first. */
  recent(namespace: string, statefulSet: string, limit: number): Promise<RecordedEvent[]>;
}

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

export interface ScheduleWriter {
  /** The objects `apply` would write, without writing them. */
  manifests(spec: ScheduleSpec): KubernetesObject[];
  /** Creates or updates them; returns each object with whether it was created or configured. */
  apply(spec: ScheduleSpec): Promise<{ object: KubernetesObject; action: 'created' | 'configured' }[]>;
  /** Deletes the CronJob and its namespaced RBAC; returns `kind/name` of what was deleted. */
  remove(namespace: string, statefulSet: string, options?: { dryRun?: boolean }): Promise<string[]>;
}

/**
 * The API server's dry run (kubectl's --dry-run=server, the request parameter dryRun=All): authentication,
 * admission and validation run as for the real request, and nothing is stored.
 */
export interface ServerDryRun {
  /** The object as the API server would create it; rejects with its refusal (Invalid, Forbidden, Conflict, NotFound). */
  create(object: KubernetesObject): Promise<KubernetesObject>;
  /** The object as a server-side apply would leave it. */
  apply(object: KubernetesObject): Promise<KubernetesObject>;
  /** Rejects when the API server would not delete it (NotFound when absent, Forbidden). */
  delete(object: KubernetesObject): Promise<void>;
}

/** One permission to check, as a SelfSubjectAccessReview's resourceAttributes. */
export interface AccessCheck {
  namespace?: string;
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  /** One object by name (a Role may grant a verb only on named objects). */
  name?: string;
}

export interface AccessReviewer {
  /** Whether the caller may do each check, in order. */
  review(checks: AccessCheck[]): Promise<{ check: AccessCheck; allowed: boolean; reason?: string }[]>;
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
  waitReady(
    namespace: string,
    statefulSet: string,
    replicas: number,
    options: { timeoutSeconds: number; signal?: AbortSignal },
  ): Promise<void>;
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
  /** What in-place restores and verifications left in the namespace (see Leftovers). */
  leftovers(namespace: string): Promise<Leftovers>;
}
