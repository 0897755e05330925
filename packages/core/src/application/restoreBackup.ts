import { Annotations, Labels } from '../contract.js';
import type { Backup, RestoreRecord } from '../domain/backup.js';
import type { BackupEvent } from '../domain/events.js';
import { assertName } from '../domain/names.js';
import { type RestorePlan, planRefs, planRestoreToNewStatefulSet, recordedSource } from '../domain/restore.js';
import { conflict, forbidden, invalid, isPgBackupError, notFound } from '../errors.js';
import { podTemplateEscalations } from '../domain/podTemplateTrust.js';
import type { KubernetesObject, ObjectRef, SnapshotContentInfo } from '../domain/readModels.js';
import type { Deps } from './deps.js';
import { findBackup } from './findBackup.js';
import { assertRestorable, previewRestoreInPlace, restoreInPlace } from './restoreInPlace.js';
import { type RestoreOptions, type RestoreProgress, type RestoreResult, createInOrder, deleteRestored, refText } from './restoreObjects.js';
import { waitForPostgres } from './waitForPostgres.js';

const DEFAULT_READY_TIMEOUT = 600;

/** Checks and plans a restore, without changing anything. */
export async function previewRestore(
  deps: Pick<Deps, 'snapshots' | 'clock' | 'workloadWriter'>,
  options: RestoreOptions,
): Promise<{ backup: Backup; plan: RestorePlan }> {
  if (options.to !== undefined) assertName('StatefulSet', options.to);
  if (options.targetNamespace !== undefined) assertName('namespace', options.targetNamespace);
  if (options.inPlace) return previewRestoreInPlace(deps, options);
  const to = options.to;
  if (to === undefined)
    throw invalid('say where to restore: into a new StatefulSet, or in place into the backed-up one (undoable)', {
      options: [{ option: 'to' }, { option: 'inPlace' }],
    });
  if (to.length > 52)
    throw invalid(
      `StatefulSet name "${to}" is too long for a restore target (${to.length} > 52)`,
      'the controller-revision-hash label of its pods must stay within 63 characters',
    );
  const backup = await findBackup(deps, options.id, options.namespace);
  assertRestorable(backup);
  const targetNamespace = options.targetNamespace ?? backup.namespace;
  const live = await deps.workloadWriter.readStatefulSet(backup.namespace, backup.statefulSet).catch((e: unknown) => {
    if (isPgBackupError(e, 'NotFound')) return undefined;
    throw e;
  });
  if (live && to === backup.statefulSet && targetNamespace === backup.namespace)
    throw invalid(
      `the restore target ${to} is the backed-up StatefulSet itself`,
      {
        text: 'to replace its data, restore in place (a pre-restore backup is taken first); or restore next to it',
        options: [{ option: 'inPlace' }, { option: 'to', value: `${backup.statefulSet}-restored` }],
      },
      { object: { kind: 'StatefulSet', name: to, namespace: targetNamespace } },
    );
  // The StatefulSet as it was when the backup was taken matches its data (image, PostgreSQL version, mounts); the live one is the fallback.
  const source = recordedSource(backup, live) ?? live;
  if (!source)
    throw notFound(
      `StatefulSet ${backup.namespace}/${backup.statefulSet} of backup ${backup.id} no longer exists, and the backup does not record it`,
      'a restore clones its spec: re-create it (e.g. from your manifests), then restore',
    );
  if (source !== live && !options.trustRecordedPodTemplate) refuseEscalations(backup, source, live, { ...options, to, targetNamespace });
  const contents = targetNamespace === backup.namespace ? undefined : await snapshotContents(deps, backup);
  const plan = planRestoreToNewStatefulSet({ backup, source, targetNamespace, targetStatefulSet: to, labels: options.labels, contents });
  if (!live) plan.notes.push(`StatefulSet ${backup.statefulSet} no longer exists: cloned from its spec as recorded in the backup`);
  const found = await deps.workloadWriter.existing(planRefs(plan));
  // A Service of that name that no restore made (e.g. the deleted StatefulSet's own) stays the governing Service.
  const keptService = found.find((r) => r.kind === 'Service' && !r.restoredFrom);
  if (keptService) {
    plan.create = plan.create.filter((o) => o.kind !== 'Service');
    plan.notes.push(
      `service/${keptService.name} exists and stays as the governing Service: check that its selector picks the restored pods`,
    );
  }
  const existing = found.filter((r) => r !== keptService);
  if (existing.length > 0) {
    if (!options.replace)
      throw conflict(`the restore target exists: ${existing.map(refText).join(', ')}`, {
        text: 'choose another target, or replace them (their data is lost)',
        options: [{ option: 'to' }, { option: 'replace' }],
      });
    // --replace only replaces an earlier restore: anyone else's volumes are never deleted here.
    const foreign = existing.filter((r) => !r.restoredFrom);
    if (foreign.length > 0)
      throw conflict(
        `a replacing restore only replaces objects an earlier restore created, and these were not: ${foreign.map(refText).join(', ')}`,
        {
          text: 'choose another target; if you really mean to drop that data, back it up and delete it yourself first',
          options: [{ option: 'to' }],
        },
      );
    // The StatefulSet goes first, so its pod releases the volumes; then claims before the snapshot copies they came from.
    plan.delete = [...existing.filter((r) => r.kind === 'StatefulSet'), ...existing.filter((r) => r.kind !== 'StatefulSet').reverse()];
  }
  return { backup, plan };
}

/**
 * The recorded StatefulSet is an annotation anyone with `patch volumesnapshots` can rewrite: its pod
 * template runs only when it grants nothing the live StatefulSet does not (none: nothing beyond the
 * defaults). A caller who accepts it runs it under their own credentials (the CLI), where the API
 * server authorizes the StatefulSet as theirs.
 */
function refuseEscalations(
  backup: Backup,
  recorded: KubernetesObject,
  live: KubernetesObject | undefined,
  options: RestoreOptions & { to: string; targetNamespace: string },
): void {
  const escalations = podTemplateEscalations(recorded, live);
  if (escalations.length === 0) return;
  const against = live
    ? `than the live StatefulSet ${backup.namespace}/${backup.statefulSet}`
    : `than a pod gets by default (StatefulSet ${backup.namespace}/${backup.statefulSet} no longer exists to compare with)`;
  throw forbidden(
    `the pod template recorded on backup ${backup.id} grants more ${against}: ${escalations.join('; ')}`,
    {
      text: live
        ? 'the record was changed after the backup, or the StatefulSet since: compare them; to run the recorded template anyway, restore with your own credentials, accepting it'
        : 're-create the StatefulSet from your manifests and restore again; or, to run the recorded template, restore with your own credentials, accepting it',
      step: {
        operation: 'restore',
        target: backup.id,
        namespace: backup.namespace,
        options: [
          { option: 'to', value: options.to },
          ...(options.targetNamespace !== backup.namespace ? [{ option: 'targetNamespace', value: options.targetNamespace }] : []),
          { option: 'trustRecordedPodTemplate' },
        ],
      },
    },
    { object: { kind: 'Backup', name: backup.id, namespace: backup.namespace } },
  );
}

/** The bound VolumeSnapshotContent of each snapshot, by snapshot name. */
async function snapshotContents(deps: Pick<Deps, 'snapshots'>, backup: Backup): Promise<Record<string, SnapshotContentInfo>> {
  const entries = await Promise.all(
    backup.snapshots.map(async (s) => {
      const content = s.contentName ? await deps.snapshots.readContent(s.contentName) : undefined;
      return content ? [[s.name, content] as const] : [];
    }),
  );
  return Object.fromEntries(entries.flat());
}

/**
 * Restores a completed backup into a new StatefulSet: PVCs from the snapshots (dataSource), named
 * `<template>-<to>-0` so the new StatefulSet adopts them, then the StatefulSet cloned from the
 * source. Refuses when the target exists unless `replace`. If creating fails part-way, what was
 * created is deleted again. With `wait`, returns once PostgreSQL answers in the restored pod.
 */
export async function restoreBackup(deps: Deps, options: RestoreOptions): Promise<RestoreResult> {
  // A scratch restore (verify) reports through the verification; a dry run did nothing to report.
  const reported = !options.labels?.[Labels.scratch] && !options.dryRun;
  let planned: RestorePlan | undefined;
  const onProgress = (p: RestoreProgress) => {
    if (p.stage === 'planned') planned = p.plan;
    options.onProgress?.(p);
  };
  try {
    const result = await (options.inPlace ? restoreInPlace : restoreAside)(deps, { ...options, onProgress });
    if (reported && result.restoreSeconds !== undefined) await recordRestore(deps, result, result.restoreSeconds);
    if (reported) await deps.events.record(restoreEvent(result.plan, 'Restored', result.ready ? 'ready' : 'created, not waited for'));
    return result;
  } catch (e) {
    if (reported && planned) await deps.events.record(restoreEvent(planned, 'RestoreFailed', (e as Error).message));
    throw e;
  }
}

/** `pgbackup.io/restored` on the backup's snapshots (best effort: the restore is done either way). */
async function recordRestore(deps: Pick<Deps, 'snapshots' | 'clock'>, result: RestoreResult, seconds: number): Promise<void> {
  const { target } = result.plan;
  const record: RestoreRecord = { at: deps.clock.now().toISOString(), seconds, target: `${target.namespace}/${target.statefulSet}` };
  await Promise.allSettled(
    result.backup.snapshots.map((s) => deps.snapshots.annotate(s.namespace, s.name, { [Annotations.restored]: JSON.stringify(record) })),
  );
}

function restoreEvent(plan: RestorePlan, reason: 'Restored' | 'RestoreFailed', detail: string): BackupEvent {
  const target = `${plan.target.namespace}/${plan.target.statefulSet}`;
  return {
    ...plan.source,
    reason,
    note:
      reason === 'Restored'
        ? `backup ${plan.backupId} restored into ${target}: ${detail}`
        : `restore of backup ${plan.backupId} into ${target} failed: ${detail}`,
  };
}

async function restoreAside(deps: Deps, options: RestoreOptions): Promise<RestoreResult> {
  const { backup, plan } = await previewRestore(deps, options);
  options.onProgress?.({ stage: 'planned', plan });
  if (options.dryRun) return { backup, plan, dryRun: true, ready: false };
  const writer = deps.workloadWriter;
  for (const ref of plan.delete) {
    await writer.delete(ref, { wait: true, signal: options.signal });
    options.onProgress?.({ stage: 'deleted', ref });
  }
  const started = Date.now();
  const created: ObjectRef[] = [];
  try {
    await createInOrder(writer, plan.create, created, options);
  } catch (e) {
    await undo(deps, created);
    throw e;
  }
  if (!options.wait) return { backup, plan, dryRun: false, ready: false };
  const { namespace, statefulSet } = plan.target;
  await writer.waitReady(namespace, statefulSet, 1, {
    timeoutSeconds: options.timeoutSeconds ?? DEFAULT_READY_TIMEOUT,
    signal: options.signal,
  });
  const pod = `${statefulSet}-0`;
  await waitForPostgres(deps, namespace, pod, { timeoutSeconds: options.timeoutSeconds ?? DEFAULT_READY_TIMEOUT, signal: options.signal });
  const restoreSeconds = Math.round((Date.now() - started) / 100) / 10;
  options.onProgress?.({ stage: 'ready', seconds: restoreSeconds });
  // The claims are bound: the snapshot copies in another namespace have done their job (Retain: the data stays).
  const copies = created.filter((r) => r.kind === 'VolumeSnapshot' || r.kind === 'VolumeSnapshotContent');
  for (const ref of copies.reverse()) {
    await writer.delete(ref, { wait: true, signal: options.signal });
    options.onProgress?.({ stage: 'deleted', ref });
  }
  return { backup, plan, dryRun: false, ready: true, restoreSeconds, pod };
}

async function undo(deps: Pick<Deps, 'workloadWriter'>, created: ObjectRef[]): Promise<void> {
  await deleteRestored(deps, created);
}
