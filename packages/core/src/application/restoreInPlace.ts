import { Annotations } from '../contract.js';
import type { Backup } from '../domain/backup.js';
import { type InPlaceRestorePlan, planRestoreInPlace, planRefs, rebindClaim } from '../domain/restore.js';
import { type Hint, PgBackupError, invalid, isPgBackupError, notFound } from '../errors.js';
import type { ClaimBinding, ObjectRef } from '../domain/readModels.js';
import { createBackup } from './createBackup.js';
import type { Deps } from './deps.js';
import { findBackup } from './findBackup.js';
import { type RestoreOptions, type RestoreResult, createInOrder } from './restoreObjects.js';
import { waitForBackup } from './waitForBackup.js';
import { waitForPostgres } from './waitForPostgres.js';

const DEFAULT_TIMEOUT = 600;

/** Checks and plans an in-place restore, without changing anything. */
export async function previewRestoreInPlace(
  deps: Pick<Deps, 'snapshots' | 'clock' | 'workloadWriter'>,
  options: RestoreOptions,
): Promise<{ backup: Backup; plan: InPlaceRestorePlan }> {
  const backup = await findBackup(deps, options.id, options.namespace);
  assertRestorable(backup);
  if (options.targetNamespace !== undefined && options.targetNamespace !== backup.namespace)
    throw invalid('an in-place restore goes into the backed-up StatefulSet itself: it cannot be combined with a target namespace', {
      options: [{ option: 'targetNamespace', omit: true }],
    });
  if (options.to !== undefined && options.to !== backup.statefulSet)
    throw invalid(`an in-place restore goes into StatefulSet ${backup.statefulSet} itself: a restore to ${options.to} contradicts it`, {
      text: 'restore in place, or into a new StatefulSet, not both',
      options: [
        { option: 'to', omit: true },
        { option: 'inPlace', omit: true },
      ],
    });
  const source = await deps.workloadWriter.readStatefulSet(backup.namespace, backup.statefulSet).catch((e: unknown) => {
    if (isPgBackupError(e, 'NotFound'))
      throw notFound(
        `StatefulSet ${backup.namespace}/${backup.statefulSet} of backup ${backup.id} does not exist`,
        { text: 'restore into a new StatefulSet instead', options: [{ option: 'to', value: backup.statefulSet }] },
        { object: { kind: 'StatefulSet', name: backup.statefulSet, namespace: backup.namespace } },
      );
    throw e;
  });
  const inProgress = (source.metadata.annotations as Record<string, string> | undefined)?.[Annotations.inPlaceRestore];
  if (inProgress)
    throw invalid(`an in-place restore of ${backup.statefulSet} did not finish (annotation ${Annotations.inPlaceRestore}: ${inProgress})`, {
      text: `doctor shows what it left; the volumes it kept carry the annotation ${Annotations.keptForClaim}`,
      step: { operation: 'doctor', namespace: backup.namespace },
    });
  // Ask for the claims the plan replaces, by name: planning twice keeps the names in one place.
  const names = planRefs(planRestoreInPlace({ backup, source, current: [] })).map((r) => r.name);
  const current = (await Promise.all(names.map((n) => deps.workloadWriter.readClaim(backup.namespace, n)))).filter(
    (c): c is ClaimBinding => !!c,
  );
  return { backup, plan: planRestoreInPlace({ backup, source, current }) };
}

export function assertRestorable(backup: Backup): void {
  if (backup.status !== 'completed')
    throw invalid(
      `backup ${backup.id} is ${backup.status}${backup.error ? ` (${backup.error})` : ''}: only a completed backup can be restored`,
      backup.status === 'in_progress'
        ? {
            text: 'wait for it',
            step: { operation: 'status', target: backup.id, namespace: backup.namespace, options: [{ option: 'watch' }] },
          }
        : { text: 'restore another backup', step: { operation: 'list', target: backup.statefulSet, namespace: backup.namespace } },
      { object: { kind: 'Backup', name: backup.id, namespace: backup.namespace } },
    );
}

/**
 * Restores a backup into the StatefulSet it was taken from. First a pinned `pre-restore` backup of
 * the current data (restoring it in place undoes this restore); then the StatefulSet is scaled to 0,
 * each claim is replaced by one from the backup's snapshot (the old volume kept with reclaim policy
 * Retain), and the StatefulSet is scaled back. Only once PostgreSQL answers are the old volumes given
 * back to their reclaim policy; on any failure before that, the old claims are bound to them again.
 */
export async function restoreInPlace(deps: Deps, options: RestoreOptions): Promise<RestoreResult> {
  const { backup, plan } = await previewRestoreInPlace(deps, options);
  options.onProgress?.({ stage: 'planned', plan });
  if (options.dryRun) return { backup, plan, dryRun: true, ready: false };
  const { namespace, statefulSet } = plan.target;
  const writer = deps.workloadWriter;
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_TIMEOUT;

  const record = JSON.stringify({ backup: backup.id, replicas: plan.inPlace.replicas, claims: plan.inPlace.replaced });
  await writer.annotateStatefulSet(namespace, statefulSet, { [Annotations.inPlaceRestore]: record });
  // The pre-restore backup is cut after the StatefulSet is scaled to 0, so it holds every write up to the shutdown.
  let stopped = false;
  const stopWrites = async () => {
    stopped = true;
    await writer.scale(namespace, statefulSet, 0, { signal: options.signal });
    options.onProgress?.({ stage: 'scaled', replicas: 0 });
  };
  const started = Date.now();
  let pre: string;
  try {
    pre = (
      await createBackup(deps, {
        namespace,
        statefulSet,
        type: 'pre-restore',
        pin: true,
        holder: 'kubectl-pgbackup restore --in-place',
        signal: options.signal,
        stopWrites,
      })
    ).id;
    const preDone = await waitForBackup(deps, namespace, pre, { timeoutSeconds, signal: options.signal });
    if (preDone.status !== 'completed')
      throw invalid(`backup ${pre} ${preDone.status === 'failed' ? `failed (${preDone.error})` : 'did not complete'}`);
  } catch (e) {
    const failures = stopped ? await putBack(deps, plan, [], []) : [];
    if (!stopped) await writer.annotateStatefulSet(namespace, statefulSet, { [Annotations.inPlaceRestore]: null }).catch(() => undefined);
    const state = !stopped
      ? 'nothing was changed'
      : failures.length === 0
        ? `no volume was touched and ${statefulSet} is scaled back`
        : `no volume was touched, but scaling ${statefulSet} back failed (${failures.join('; ')})`;
    throw wrap(e, `the pre-restore backup of ${statefulSet} failed, so ${state}`, {
      text: 'a database that cannot be backed up can still be restored next to it',
      options: [{ option: 'to', value: `${statefulSet}-restored` }],
    });
  }
  options.onProgress?.({ stage: 'pre-restore-backup', id: pre });
  const kept: { binding: ClaimBinding }[] = [];
  const created: ObjectRef[] = [];
  try {
    for (const ref of plan.delete) {
      const binding = await writer.readClaim(ref.namespace, ref.name);
      if (!binding) continue;
      if (binding.volume)
        await writer.setReclaimPolicy(binding.volume, 'Retain', {
          [Annotations.keptForClaim]: `${ref.namespace}/${ref.name}`,
          [Annotations.keptReclaimPolicy]: binding.reclaimPolicy ?? 'Delete',
        });
      kept.push({ binding });
      await writer.delete(ref, { wait: true, signal: options.signal });
      options.onProgress?.({ stage: 'deleted', ref });
    }
    await createInOrder(writer, plan.create, created, options);
    await writer.scale(namespace, statefulSet, plan.inPlace.restoreReplicas);
    options.onProgress?.({ stage: 'scaled', replicas: plan.inPlace.restoreReplicas });
    await writer.waitReady(namespace, statefulSet, 1, { timeoutSeconds, signal: options.signal });
    await waitForPostgres(deps, namespace, `${statefulSet}-0`, { timeoutSeconds, signal: options.signal });
  } catch (e) {
    const failures = await putBack(deps, plan, kept, created);
    options.onProgress?.({ stage: 'put-back', failures });
    if (options.signal?.aborted && failures.length === 0) throw e;
    const where = `the data from before is in the pinned backup ${pre}`;
    throw wrap(
      e,
      failures.length === 0
        ? `in-place restore of ${backup.id} failed, and ${statefulSet} is back on its old volumes`
        : `in-place restore of ${backup.id} failed, and putting the old volumes back failed too (${failures.join('; ')}); ${where}`,
      failures.length === 0
        ? undefined
        : {
            text: 'restore the pre-restore backup in place',
            step: { operation: 'restore', target: pre, namespace, options: [{ option: 'inPlace' }] },
          },
    );
  }
  const restoreSeconds = Math.round((Date.now() - started) / 100) / 10;
  options.onProgress?.({ stage: 'ready', seconds: restoreSeconds });
  // The restored database answers: the old volumes go back to their own reclaim policy.
  for (const { binding } of kept)
    if (binding.volume)
      await writer.setReclaimPolicy(binding.volume, binding.reclaimPolicy ?? 'Delete', {
        [Annotations.keptForClaim]: null,
        [Annotations.keptReclaimPolicy]: null,
      });
  await writer.annotateStatefulSet(namespace, statefulSet, { [Annotations.inPlaceRestore]: null });
  return { backup, plan, dryRun: false, ready: true, restoreSeconds, pod: `${statefulSet}-0`, preRestoreBackup: pre };
}

/** Undoes the volume swap: restored claims deleted, the old claims bound to their kept volumes, the old replica count. */
async function putBack(
  deps: Pick<Deps, 'workloadWriter'>,
  plan: InPlaceRestorePlan,
  kept: { binding: ClaimBinding }[],
  created: ObjectRef[],
): Promise<string[]> {
  const writer = deps.workloadWriter;
  const { namespace, statefulSet } = plan.target;
  const failures: string[] = [];
  const step = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (e) {
      failures.push(`${what}: ${(e as Error).message}`);
    }
  };
  await step(`scaling ${statefulSet} to 0`, () => writer.scale(namespace, statefulSet, 0));
  for (const ref of created) await step(`deleting ${ref.name}`, () => writer.delete(ref, { wait: true }));
  for (const { binding } of kept) {
    const volume = binding.volume;
    if (!volume) continue;
    await step(`releasing ${volume}`, () => writer.releaseVolume(volume));
    await step(`binding ${binding.claim.metadata.name} to ${volume}`, () => writer.create(rebindClaim(binding.claim, volume)));
    await step(`resetting the reclaim policy of ${volume}`, () =>
      writer.setReclaimPolicy(volume, binding.reclaimPolicy ?? 'Delete', {
        [Annotations.keptForClaim]: null,
        [Annotations.keptReclaimPolicy]: null,
      }),
    );
  }
  await step(`scaling ${statefulSet} to ${plan.inPlace.replicas}`, () => writer.scale(namespace, statefulSet, plan.inPlace.replicas));
  if (failures.length === 0)
    await step('clearing the restore record', () =>
      writer.annotateStatefulSet(namespace, statefulSet, { [Annotations.inPlaceRestore]: null }),
    );
  return failures;
}

function wrap(e: unknown, message: string, hint?: Hint): PgBackupError {
  const reason = e instanceof Error ? e.message : String(e);
  const code = isPgBackupError(e) ? e.code : 'Unavailable';
  return new PgBackupError(code, `${message}: ${reason}`, hint ?? (isPgBackupError(e) ? e.hint : undefined));
}
