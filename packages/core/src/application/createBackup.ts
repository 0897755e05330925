import { Annotations, CONTRACT_VERSION, GroupSnapshotStorage, Labels, MANAGED_BY } from '../contract.js';
import type { Backup, BackupType, ConsistencyMethod } from '../domain/backup.js';
import { assertName, newBackupId } from '../domain/names.js';
import { recordSource } from '../domain/restore.js';
import { selectSnapshotClass } from '../domain/snapshotClass.js';
import { PgBackupError, inconsistent, invalid, isPgBackupError, timeout, unavailable } from '../errors.js';
import type { SnapshotInfo } from '../domain/backup.js';
import type { PodInfo } from '../domain/readModels.js';
import type { DatabaseSession, HeldLock, NewGroupSnapshot, NewSnapshot, QueryOptions } from '../ports.js';
import type { Deps } from './deps.js';
import { sleep } from '../sleep.js';
import { getBackup } from './getBackup.js';
import { selectPrimary } from './selectPrimary.js';

export interface CreateBackupOptions {
  namespace: string;
  statefulSet: string;
  type?: BackupType;
  method?: ConsistencyMethod;
  snapshotClass?: string;
  /** VolumeGroupSnapshotClass of a group-snapshot backup (default: the driver's default class). */
  groupSnapshotClass?: string;
  /** Back up this pod instead of the detected primary. */
  pod?: string;
  pin?: boolean;
  /** Seconds the consistency step may take before the backup counts as failed. */
  consistencyTimeoutSeconds?: number;
  /** Seconds the storage may take after the cut to make the snapshots ready. */
  readyTimeoutSeconds?: number;
  /** Who takes the backup (lock holder), e.g. `kubectl-pgbackup@host`. */
  holder?: string;
  /** Seconds to wait for another backup of the StatefulSet to finish (0: refuse at once, naming the holder). */
  lockWaitSeconds?: number;
  /**
   * Stops the database's writers after the CHECKPOINT and before the snapshots (an in-place restore
   * scales the StatefulSet to 0), so the backup holds every write up to the shutdown.
   */
  stopWrites?: () => Promise<void>;
  /** The StatefulSet's lock, already held by the caller (an in-place restore holds it throughout): used, not released. */
  heldLock?: HeldLock;
  signal?: AbortSignal;
  onProgress?: (event: CreateProgress) => void;
}

export type CreateProgress =
  | { stage: 'planned'; plan: BackupPlan }
  | { stage: 'waiting-for-lock'; reason: string }
  | { stage: 'checkpoint'; pod: string; lsn: string }
  | { stage: 'snapshots-created'; names: string[] }
  | { stage: 'cut'; cutAt: string };

export interface BackupPlan {
  id: string;
  namespace: string;
  statefulSet: string;
  pod: string;
  container?: string;
  method: ConsistencyMethod;
  /** One per volume; for a group snapshot the controller names them, and these are the labels and annotations they get. */
  snapshots: NewSnapshot[];
  /** The VolumeGroupSnapshot of a group-snapshot backup. */
  group?: NewGroupSnapshot;
}

const DEFAULT_CONSISTENCY_TIMEOUT = 300;
/** The lock is renewed while held; a dead holder blocks the next backup this long at most. */
const LOCK_TTL_SECONDS = 60;
const LOCK_RETRY_MS = 2000;
const DEFAULT_READY_TIMEOUT = 24 * 3600;

/** Validates everything and decides what a backup would create, without creating anything. */
export async function planBackup(
  deps: Pick<Deps, 'workloads' | 'snapshots' | 'groups' | 'discovery' | 'database' | 'clock'>,
  options: CreateBackupOptions,
): Promise<BackupPlan> {
  assertName('namespace', options.namespace);
  assertName('StatefulSet', options.statefulSet);
  if (options.snapshotClass) assertName('VolumeSnapshotClass', options.snapshotClass, 'subdomain');
  if (options.groupSnapshotClass) assertName('VolumeGroupSnapshotClass', options.groupSnapshotClass, 'subdomain');
  const sts = await deps.workloads.getStatefulSet(options.namespace, options.statefulSet);
  const pod = await selectPrimary(deps.database, sts, options.pod);
  assertVolumesBound(sts.name, pod);
  const groupClass = pod.pvcs.length > 1 ? await groupSnapshotClass(deps, sts.name, pod, options) : undefined;
  const method = chooseMethod(pod, options.method);
  const classes = method === 'checkpoint-snapshot' ? await deps.snapshots.listClasses() : [];
  const now = deps.clock.now();
  const id = newBackupId(sts.name, now);
  const type = options.type ?? 'manual';
  const source = sts.manifest && recordSource(sts.manifest);
  const labels = { [Labels.managedBy]: MANAGED_BY, [Labels.backup]: id, [Labels.statefulSet]: sts.name, [Labels.type]: type };
  const snapshots = pod.pvcs.map((pvc): NewSnapshot => ({
    namespace: sts.namespace,
    name: snapshotName(id, pvc.name),
    pvc: pvc.name,
    className: groupClass ? '' : selectSnapshotClass(classes, pvc.driver!, options.snapshotClass).name,
    labels,
    annotations: {
      [Annotations.contractVersion]: CONTRACT_VERSION,
      [Annotations.method]: method,
      [Annotations.volumes]: String(pod.pvcs.length),
      [Annotations.phase]: 'consistency',
      [Annotations.startedAt]: now.toISOString(),
      [Annotations.deadline]: new Date(
        now.getTime() + (options.consistencyTimeoutSeconds ?? DEFAULT_CONSISTENCY_TIMEOUT) * 1000,
      ).toISOString(),
      [Annotations.pod]: pod.name,
      [Annotations.ordinal]: String(pod.ordinal),
      ...(pvc.template ? { [Annotations.claimTemplate]: pvc.template } : {}),
      ...(source ? { [Annotations.statefulSetSpec]: source.spec } : {}),
      ...(source?.redactedEnv.length ? { [Annotations.redactedEnv]: JSON.stringify(source.redactedEnv) } : {}),
      ...(options.pin ? { [Annotations.pinned]: 'true' } : {}),
    },
  }));
  const group: NewGroupSnapshot | undefined =
    groupClass === undefined
      ? undefined
      : {
          namespace: sts.namespace,
          name: id,
          className: groupClass,
          claims: pod.pvcs.map((p) => p.name),
          labels,
          annotations: {
            [Annotations.contractVersion]: CONTRACT_VERSION,
            [Annotations.pod]: pod.name,
            [Annotations.startedAt]: now.toISOString(),
          },
        };
  return {
    id,
    namespace: sts.namespace,
    statefulSet: sts.name,
    pod: pod.name,
    container: pod.container,
    method,
    snapshots,
    ...(group ? { group } : {}),
  };
}

/**
 * Several volumes can only be cut at one instant by a VolumeGroupSnapshot: the API must be served and
 * a VolumeGroupSnapshotClass must serve the volumes' one driver. Otherwise the refusal names the options.
 */
async function groupSnapshotClass(
  deps: Pick<Deps, 'groups' | 'discovery'>,
  statefulSet: string,
  pod: PodInfo,
  options: CreateBackupOptions,
): Promise<string> {
  const volumes = `${pod.pvcs.length} volumes (${pod.pvcs.map((p) => p.name).join(', ')})`;
  if (options.method === 'checkpoint-snapshot')
    throw inconsistent(
      `the checkpoint-snapshot method cannot make a consistent backup of ${volumes}: they would be cut at different instants`,
      { text: 'use a group snapshot, or keep data and WAL on one volume', options: [{ option: 'method', value: 'group-snapshot' }] },
    );
  const { groupSnapshotVersions } = await deps.discovery.apiSupport();
  if (groupSnapshotVersions.length === 0)
    throw inconsistent(
      `pod ${pod.name} of StatefulSet ${statefulSet} keeps PostgreSQL on ${volumes}, which separate snapshots cannot cut at one instant, ` +
        'and the API server does not serve VolumeGroupSnapshots',
      `options: serve the VolumeGroupSnapshot API (${GroupSnapshotStorage.group}, snapshot-controller with --feature-gates=CSIVolumeGroupSnapshot=true) ` +
        'with a VolumeGroupSnapshotClass for the driver, or keep data and WAL on one volume',
    );
  const drivers = [...new Set(pod.pvcs.map((p) => p.driver!))];
  if (drivers.length > 1)
    throw inconsistent(
      `the ${volumes} of pod ${pod.name} belong to ${drivers.length} CSI drivers (${drivers.join(', ')}): no group snapshot can cut them together`,
      "keep PostgreSQL's volumes on one storage driver",
    );
  return selectSnapshotClass(await deps.groups.listClasses(), drivers[0]!, options.groupSnapshotClass, 'VolumeGroupSnapshotClass').name;
}

/**
 * Takes a backup: CHECKPOINT in the primary, then the snapshots, then waits for the storage to cut
 * them. Returns once the cut is recorded (readiness may follow: see waitForBackup). On any failure
 * the backup is recorded as failed; the database session and the lock are released on every path.
 */
export async function createBackup(deps: Deps, options: CreateBackupOptions): Promise<Backup> {
  let plan = await planBackup(deps, options);
  const { lock, waited } = options.heldLock
    ? { lock: options.heldLock, waited: false }
    : await acquireLock(deps, plan, { ...options, onWaiting: (reason) => options.onProgress?.({ stage: 'waiting-for-lock', reason }) });
  const release = () => (options.heldLock ? Promise.resolve() : lock.release().catch(() => undefined));
  try {
    // After waiting for another backup, plan afresh: its id, start time and deadlines count from now.
    if (waited) plan = await planBackup(deps, options);
  } catch (e) {
    await release();
    throw e;
  }
  options.onProgress?.({ stage: 'planned', plan });
  const event = { namespace: plan.namespace, statefulSet: plan.statefulSet };
  await deps.events.record({
    ...event,
    reason: 'BackupStarted',
    note: `backup ${plan.id} started (${options.type ?? 'manual'}, pod ${plan.pod})`,
  });
  // Losing the Lease stops the work like an interrupt: another backup may run now.
  const signal = AbortSignal.any([lock.lost, ...(options.signal ? [options.signal] : [])]);
  const work = { ...options, signal };
  let session: DatabaseSession | undefined;
  const created: string[] = [];
  try {
    session = await deps.database.open(plan.namespace, plan.pod, plan.container);
    const facts = await checkpoint(session, plan.pod, {
      timeoutSeconds: options.consistencyTimeoutSeconds ?? DEFAULT_CONSISTENCY_TIMEOUT,
      signal,
    });
    options.onProgress?.({ stage: 'checkpoint', pod: plan.pod, lsn: facts.lsn });
    for (const s of plan.snapshots) {
      s.annotations[Annotations.lsn] = facts.lsn;
      s.annotations[Annotations.redoLsn] = facts.redoLsn;
      s.annotations[Annotations.pgVersion] = facts.version;
    }
    if (options.stopWrites) {
      await session.close();
      session = undefined;
      await options.stopWrites();
    }
    signal.throwIfAborted();
    if (plan.group) await takeGroupSnapshot(deps, plan, plan.group, work, created);
    else
      for (const s of plan.snapshots) {
        await deps.snapshots.create(s);
        created.push(s.name);
      }
    options.onProgress?.({ stage: 'snapshots-created', names: created });
    const cutAt = await waitForCut(deps, plan, work);
    const deadline = new Date(deps.clock.now().getTime() + (options.readyTimeoutSeconds ?? DEFAULT_READY_TIMEOUT) * 1000).toISOString();
    for (const name of created)
      await deps.snapshots.annotate(plan.namespace, name, {
        [Annotations.phase]: 'cut',
        [Annotations.cutAt]: cutAt,
        [Annotations.deadline]: deadline,
      });
    options.onProgress?.({ stage: 'cut', cutAt });
  } catch (caught) {
    const e: unknown = lock.lost.aborted ? lock.lost.reason : caught;
    const reason = options.signal?.aborted ? `interrupted before the cut was recorded: ${errorMessage(e)}` : errorMessage(e);
    const marked = await Promise.allSettled(
      created.map((name) => deps.snapshots.annotate(plan.namespace, name, { [Annotations.phase]: 'failed', [Annotations.error]: reason })),
    );
    await deps.events.record({ ...event, reason: 'BackupFailed', note: `backup ${plan.id} failed: ${reason}` });
    // The snapshots exist but the failure is not on them: their status follows what the storage did, so say that, not "failed".
    if (isPgBackupError(e) && marked.some((m) => m.status === 'rejected'))
      throw new PgBackupError(
        e.code,
        `${e.message}; backup ${plan.id} could not be marked failed either, so its status follows the storage (it may complete)`,
        { text: 'see what it became', step: { operation: 'status', target: plan.id, namespace: plan.namespace } },
        { cause: e, object: { kind: 'Backup', name: plan.id, namespace: plan.namespace } },
      );
    throw e;
  } finally {
    await session?.close().catch(() => undefined);
    await release();
  }
  return getBackup(deps, plan.namespace, plan.id);
}

/** The StatefulSet's backup lock; while another holds it, retried until `lockWaitSeconds` have passed. */
export async function acquireLock(
  deps: Pick<Deps, 'lock'>,
  target: { namespace: string; statefulSet: string },
  options: { holder?: string; lockWaitSeconds?: number; signal?: AbortSignal; onWaiting?: (reason: string) => void },
): Promise<{ lock: HeldLock; waited: boolean }> {
  const deadline = Date.now() + (options.lockWaitSeconds ?? 0) * 1000;
  for (let attempt = 0; ; attempt++) {
    try {
      return {
        lock: await deps.lock.acquire(target.namespace, target.statefulSet, options.holder ?? 'kubectl-pgbackup', LOCK_TTL_SECONDS),
        waited: attempt > 0,
      };
    } catch (e) {
      if (!isPgBackupError(e, 'Conflict') || Date.now() + LOCK_RETRY_MS > deadline) throw e;
      if (attempt === 0) options.onWaiting?.(e.message);
      await sleep(LOCK_RETRY_MS, options.signal);
    }
  }
}

/**
 * Creates the VolumeGroupSnapshot, waits for the controller's VolumeSnapshots of it and gives them the
 * backup's labels and annotations (from then on they are the backup like any other). The claims'
 * selection label is removed on every path; a group that produced no snapshot is deleted again.
 */
async function takeGroupSnapshot(
  deps: Pick<Deps, 'groups' | 'snapshots'>,
  plan: BackupPlan,
  group: NewGroupSnapshot,
  options: CreateBackupOptions,
  /** Receives each VolumeSnapshot once it carries the backup's labels. */
  adopted: string[],
): Promise<void> {
  const seconds = options.consistencyTimeoutSeconds ?? DEFAULT_CONSISTENCY_TIMEOUT;
  const signal = AbortSignal.any([AbortSignal.timeout(Math.ceil(seconds * 1000)), ...(options.signal ? [options.signal] : [])]);
  try {
    await deps.groups.create(group);
    const members = await deps.groups.waitMembers(plan.namespace, group.name, group.claims.length, signal).catch((e: unknown) => {
      if (isPgBackupError(e) || options.signal?.aborted) throw e;
      throw timeout(
        `the storage did not make the snapshots of VolumeGroupSnapshot ${group.name} within ${seconds}s`,
        `kubectl describe volumegroupsnapshot ${group.name} -n ${plan.namespace}`,
      );
    });
    for (const member of members) {
      const planned = plan.snapshots.find((s) => s.pvc === member.pvc);
      if (!planned) continue;
      await deps.snapshots.adopt(plan.namespace, member.name, planned.labels, {
        ...planned.annotations,
        [Annotations.groupSnapshot]: group.name,
      });
      adopted.push(member.name);
    }
    if (adopted.length < group.claims.length)
      throw inconsistent(
        `VolumeGroupSnapshot ${group.name} cut ${members.map((m) => m.pvc).join(', ')}, not every claim of ${group.claims.join(', ')}`,
      );
  } catch (e) {
    if (adopted.length === 0) await deps.groups.delete(plan.namespace, group.name).catch(() => undefined);
    throw e;
  } finally {
    await deps.groups.releaseClaims(plan.namespace, group.claims).catch(() => undefined);
  }
}

async function checkpoint(
  session: DatabaseSession,
  pod: string,
  options: QueryOptions,
): Promise<{ lsn: string; redoLsn: string; version: string }> {
  const [row] = await session.query(
    "CHECKPOINT; SELECT pg_is_in_recovery()::text, pg_current_wal_lsn()::text, current_setting('server_version'), redo_lsn::text FROM pg_control_checkpoint()",
    options,
  );
  // A failover between selection and here would make us snapshot a standby: refuse rather than guess.
  if (!row || row[0] !== 'false') throw unavailable(`pod ${pod} is no longer the primary`, 'retry the backup');
  return { lsn: row[1]!, version: row[2]!, redoLsn: row[3]! };
}

/** Waits until the storage has cut every snapshot (status.creationTime), and returns the latest cut time. */
async function waitForCut(deps: Pick<Deps, 'snapshots' | 'clock'>, plan: BackupPlan, options: CreateBackupOptions): Promise<string> {
  const seconds = options.consistencyTimeoutSeconds ?? DEFAULT_CONSISTENCY_TIMEOUT;
  const signal = AbortSignal.any([AbortSignal.timeout(Math.ceil(seconds * 1000)), ...(options.signal ? [options.signal] : [])]);
  let cut: SnapshotInfo[] = [];
  try {
    await deps.snapshots.watch(
      { namespace: plan.namespace, labelSelector: `${Labels.backup}=${plan.id}` },
      (snapshots) => {
        const failedSnapshot = snapshots.find((s) => s.error && !s.readyToUse);
        if (failedSnapshot) throw inconsistent(`VolumeSnapshot ${failedSnapshot.name} failed: ${failedSnapshot.error}`);
        cut = snapshots.filter((s) => s.cutAt);
        return cut.length >= plan.snapshots.length;
      },
      signal,
    );
  } catch (e) {
    if (isPgBackupError(e) || options.signal?.aborted) throw e;
    throw timeout(
      `the storage did not cut ${plan.snapshots.length - cut.length} of ${plan.snapshots.length} snapshots within ${seconds}s`,
      'check the CSI driver and the snapshot controller, e.g. kubectl describe volumesnapshot',
    );
  }
  return cut
    .map((s) => s.cutAt!)
    .sort((a, b) => Date.parse(a) - Date.parse(b))
    .at(-1)!;
}

function assertVolumesBound(statefulSet: string, pod: PodInfo): void {
  if (pod.pvcs.length === 0)
    throw invalid(
      `pod ${pod.name} of StatefulSet ${statefulSet} has no PersistentVolumeClaims`,
      'pgbackup backs up the volumes of volumeClaimTemplates',
    );
  const unbound = pod.pvcs.filter((p) => p.phase !== 'Bound');
  if (unbound.length > 0)
    throw invalid(
      `PersistentVolumeClaims of pod ${pod.name} are not Bound: ${unbound.map((p) => `${p.name} (${p.phase})`).join(', ')}`,
      'wait for the volumes to be provisioned',
    );
  const noCsi = pod.pvcs.filter((p) => !p.driver);
  if (noCsi.length > 0)
    throw invalid(
      `volumes of ${noCsi.map((p) => p.name).join(', ')} are not CSI volumes, so they cannot be snapshotted`,
      'use a StorageClass with a CSI provisioner that supports snapshots',
    );
}

/** One volume: its atomic snapshot is a crash image. Several: only a group snapshot cuts them together (checked by groupSnapshotClass). */
function chooseMethod(pod: PodInfo, requested?: ConsistencyMethod): ConsistencyMethod {
  if (pod.pvcs.length > 1) return 'group-snapshot';
  if (requested === 'group-snapshot')
    throw invalid('the group-snapshot method needs several volumes; this pod has one', {
      text: 'let the method be chosen from the volumes',
      options: [{ option: 'method', omit: true }],
    });
  return 'checkpoint-snapshot';
}

/** `<backup id>-<pvc>`, shortened to the 253 characters of an object name. */
function snapshotName(id: string, pvc: string): string {
  return `${id}-${pvc}`.slice(0, 253).replace(/[-.]+$/, '');
}

const errorMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));
