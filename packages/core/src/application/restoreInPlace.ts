import { Annotations, Labels } from '../contract.js';
import type { Backup } from '../domain/backup.js';
import { type InPlaceRestoreRecord, formatInPlaceRestoreRecord, parseInPlaceRestoreRecord } from '../domain/inPlaceRestoreRecord.js';
import { type InPlaceRestorePlan, planRestoreInPlace, planRefs } from '../domain/restore.js';
import { type Hint, PgBackupError, invalid, isPgBackupError, notFound } from '../errors.js';
import type { ClaimBinding, KubernetesObject, ObjectRef } from '../domain/readModels.js';
import type { HeldLock } from '../ports.js';
import { acquireLock, createBackup } from './createBackup.js';
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
  const unfinished = readRecord(source);
  if (unfinished)
    throw invalid(
      `an in-place restore of ${backup.statefulSet} (backup ${unfinished.backup}) did not finish: it stopped at step ${unfinished.step}`,
      {
        text: 'take it on first: it is finished or rolled back',
        step: { operation: 'recover', target: backup.statefulSet, namespace: backup.namespace },
      },
      { object: { kind: 'StatefulSet', name: backup.statefulSet, namespace: backup.namespace } },
    );
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

/** The lock holder of an in-place restore (and of its recovery). */
export const IN_PLACE_HOLDER = 'kubectl-pgbackup restore --in-place';

/** The record of an unfinished in-place restore on this StatefulSet, if any. */
export function readRecord(statefulSet: KubernetesObject): InPlaceRestoreRecord | undefined {
  return parseInPlaceRestoreRecord((statefulSet.metadata.annotations as Record<string, string> | undefined)?.[Annotations.inPlaceRestore]);
}

/** Where an in-place restore runs, and what it reports. */
export interface InPlaceTarget {
  namespace: string;
  statefulSet: string;
  signal?: AbortSignal;
  onProgress?: RestoreOptions['onProgress'];
}

/**
 * Restores a backup into the StatefulSet it was taken from, holding the StatefulSet's Lease throughout.
 * First a pinned `pre-restore` backup of the current data (restoring it in place undoes this restore);
 * then the StatefulSet is scaled to 0, each claim is replaced by one from the backup's snapshot (the old
 * volume kept with reclaim policy Retain), and the StatefulSet is scaled back. Only once PostgreSQL
 * answers are the old volumes given back to their reclaim policy; on any failure or interrupt before
 * that, the old claims are bound to them again. Each step is recorded on the StatefulSet before it
 * starts (with what undoing it needs), so a restore killed at any point is finished or rolled back
 * by recoverInPlaceRestore.
 */
export async function restoreInPlace(deps: Deps, options: RestoreOptions): Promise<RestoreResult> {
  if (options.dryRun) {
    const { backup, plan } = await previewRestoreInPlace(deps, options);
    options.onProgress?.({ stage: 'planned', plan });
    return { backup, plan, dryRun: true, ready: false };
  }
  const found = await findBackup(deps, options.id, options.namespace);
  const { lock } = await acquireLock(deps, { namespace: found.namespace, statefulSet: found.statefulSet }, { holder: IN_PLACE_HOLDER });
  // Losing the Lease stops the restore like an interrupt: someone else may act on the StatefulSet now.
  const signal = AbortSignal.any([lock.lost, ...(options.signal ? [options.signal] : [])]);
  try {
    const { backup, plan } = await previewRestoreInPlace(deps, options);
    options.onProgress?.({ stage: 'planned', plan });
    return await run(deps, { ...options, signal }, backup, plan, lock);
  } finally {
    await lock.release().catch(() => undefined);
  }
}

async function run(deps: Deps, options: RestoreOptions, backup: Backup, plan: InPlaceRestorePlan, lock: HeldLock): Promise<RestoreResult> {
  const { namespace, statefulSet } = plan.target;
  const target: InPlaceTarget = { namespace, statefulSet, signal: options.signal, onProgress: options.onProgress };
  const writer = deps.workloadWriter;
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_TIMEOUT;
  const replaced = new Map(plan.inPlace.replaced.map((c) => [c.claim, c]));
  const record: InPlaceRestoreRecord = {
    backup: backup.id,
    step: 'stopping',
    replicas: plan.inPlace.replicas,
    restoreReplicas: plan.inPlace.restoreReplicas,
    // Every claim the restore creates, with the old one it replaces (if any): a rollback deletes the first and rebinds the second.
    claims: plan.create.map((c) => replaced.get(c.metadata.name) ?? { claim: c.metadata.name }),
    startedAt: deps.clock.now().toISOString(),
  };
  await saveRecord(deps, target, record);
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
        holder: IN_PLACE_HOLDER,
        heldLock: lock,
        signal: options.signal,
        stopWrites,
      })
    ).id;
    const preDone = await waitForBackup(deps, namespace, pre, { timeoutSeconds, signal: options.signal });
    if (preDone.status !== 'completed')
      throw invalid(`backup ${pre} ${preDone.status === 'failed' ? `failed (${preDone.error})` : 'did not complete'}`);
  } catch (e) {
    const failures = stopped ? await rollBack(deps, target, record) : await clearRecord(deps, target);
    // Interrupted and undone: the interrupt is the whole story.
    if (options.signal?.aborted && failures.length === 0) throw options.signal.reason;
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
  try {
    await saveRecord(deps, target, { ...record, step: 'swapping', preRestoreBackup: pre });
    record.step = 'swapping';
    record.preRestoreBackup = pre;
    await swapClaims(deps, target, record, plan);
    await saveRecord(deps, target, { ...record, step: 'starting' });
    record.step = 'starting';
    await startRestored(deps, target, record, timeoutSeconds);
  } catch (e) {
    const failures = await rollBack(deps, target, record);
    if (options.signal?.aborted && failures.length === 0) throw options.signal.reason;
    throw wrap(
      e,
      failures.length === 0
        ? `in-place restore of ${backup.id} failed, and ${statefulSet} is back on its old volumes`
        : `in-place restore of ${backup.id} failed, and putting the old volumes back failed too (${failures.join('; ')}); the data from before is in the pinned backup ${pre}`,
      failures.length === 0 ? undefined : recoverHint(target),
    );
  }
  const restoreSeconds = Math.round((Date.now() - started) / 100) / 10;
  options.onProgress?.({ stage: 'ready', seconds: restoreSeconds });
  await finishRestore(deps, target, record);
  return { backup, plan, dryRun: false, ready: true, restoreSeconds, pod: `${statefulSet}-0`, preRestoreBackup: pre };
}

export const recoverHint = (target: InPlaceTarget): Hint => ({
  text: 'the restore is recorded on the StatefulSet: recovering finishes it or rolls it back',
  step: { operation: 'recover', target: target.statefulSet, namespace: target.namespace },
});

async function saveRecord(deps: Pick<Deps, 'workloadWriter'>, target: InPlaceTarget, record: InPlaceRestoreRecord): Promise<void> {
  await deps.workloadWriter.annotateStatefulSet(target.namespace, target.statefulSet, {
    [Annotations.inPlaceRestore]: formatInPlaceRestoreRecord(record),
  });
}

/** Removes the record: the restore is over. Returns what failed (nothing, or the one write). */
async function clearRecord(deps: Pick<Deps, 'workloadWriter'>, target: InPlaceTarget): Promise<string[]> {
  return deps.workloadWriter.annotateStatefulSet(target.namespace, target.statefulSet, { [Annotations.inPlaceRestore]: null }).then(
    () => [],
    (e: unknown) => [`clearing the restore record: ${(e as Error).message}`],
  );
}

/** Keeps each old volume (Retain, marked with its claim) before its claim goes, then creates the claims from the snapshots. */
async function swapClaims(
  deps: Pick<Deps, 'workloadWriter'>,
  target: InPlaceTarget,
  record: InPlaceRestoreRecord,
  plan: InPlaceRestorePlan,
): Promise<void> {
  const writer = deps.workloadWriter;
  for (const ref of plan.delete) {
    const old = record.claims.find((c) => c.claim === ref.name);
    if (old?.volume)
      await writer.setReclaimPolicy(old.volume, 'Retain', {
        [Annotations.keptForClaim]: `${ref.namespace}/${ref.name}`,
        [Annotations.keptReclaimPolicy]: old.reclaimPolicy ?? 'Delete',
      });
    await writer.delete(ref, { wait: true, signal: target.signal });
    target.onProgress?.({ stage: 'deleted', ref });
  }
  await createInOrder(writer, plan.create, [], target);
}

/** Scales the StatefulSet up on the restored claims and waits until PostgreSQL answers. */
export async function startRestored(
  deps: Pick<Deps, 'workloadWriter' | 'database'>,
  target: InPlaceTarget,
  record: InPlaceRestoreRecord,
  timeoutSeconds: number,
): Promise<void> {
  const { namespace, statefulSet, signal } = target;
  await deps.workloadWriter.scale(namespace, statefulSet, record.restoreReplicas, { signal });
  target.onProgress?.({ stage: 'scaled', replicas: record.restoreReplicas });
  await deps.workloadWriter.waitReady(namespace, statefulSet, 1, { timeoutSeconds, signal });
  await waitForPostgres(deps, namespace, `${statefulSet}-0`, { timeoutSeconds, signal });
}

/** Whether every claim of the record is the restore's own (step `starting` is then resumable). */
export async function restoredClaimsInPlace(
  deps: Pick<Deps, 'workloadWriter'>,
  target: InPlaceTarget,
  record: InPlaceRestoreRecord,
): Promise<boolean> {
  const claims = await Promise.all(record.claims.map((c) => deps.workloadWriter.readClaim(target.namespace, c.claim)));
  return claims.every((b) => b !== undefined && isRestored(b, record));
}

/** The restored database answered: the old volumes go back to their own reclaim policy, and the record goes. */
export async function finishRestore(
  deps: Pick<Deps, 'workloadWriter'>,
  target: InPlaceTarget,
  record: InPlaceRestoreRecord,
): Promise<void> {
  await saveRecord(deps, target, { ...record, step: 'finishing' });
  for (const { volume, reclaimPolicy } of record.claims)
    if (volume)
      await deps.workloadWriter
        .setReclaimPolicy(volume, reclaimPolicy ?? 'Delete', { [Annotations.keptForClaim]: null, [Annotations.keptReclaimPolicy]: null })
        .catch((e: unknown) => {
          // Given back once already (a finish taken on again): the PV controller may have deleted it since.
          if (!isPgBackupError(e, 'NotFound')) throw e;
        });
  const failures = await clearRecord(deps, target);
  if (failures.length > 0) throw new PgBackupError('Unavailable', failures.join('; '), recoverHint(target));
}

/**
 * Undoes an in-place restore from whatever step it reached, reading what is there rather than trusting
 * the step: scaled to 0, each restored claim deleted and the old claim bound to its kept volume again,
 * the old reclaim policies, the old replica count, the record removed. Best effort: returns what failed;
 * on any failure the StatefulSet stays at 0 (its pods would otherwise start on fresh empty claims) and
 * the record stays, so the rollback can be taken on again.
 */
export async function rollBack(deps: Pick<Deps, 'workloadWriter'>, target: InPlaceTarget, record: InPlaceRestoreRecord): Promise<string[]> {
  const writer = deps.workloadWriter;
  const { namespace, statefulSet } = target;
  const failures: string[] = [];
  const step = async (what: string, fn: () => Promise<unknown>): Promise<boolean> => {
    try {
      await fn();
      return true;
    } catch (e) {
      failures.push(`${what}: ${(e as Error).message}`);
      return false;
    }
  };
  if (!(await step(`scaling ${statefulSet} to 0`, () => writer.scale(namespace, statefulSet, 0)))) return report();
  for (const old of record.claims) {
    let binding: ClaimBinding | undefined;
    if (!(await step(`reading claim ${old.claim}`, async () => (binding = await writer.readClaim(namespace, old.claim))))) continue;
    const volume = old.volume;
    if (binding && !isRestored(binding, record)) {
      if (binding.volume !== volume) {
        failures.push(`claim ${old.claim} is bound to ${binding.volume ?? 'no volume'}, and not by this restore: left alone`);
        continue;
      }
    } else if (binding) {
      const claim: ObjectRef = { kind: 'PersistentVolumeClaim', namespace, name: old.claim };
      if (!(await step(`deleting the restored claim ${old.claim}`, () => writer.delete(claim, { wait: true })))) continue;
      target.onProgress?.({ stage: 'deleted', ref: claim });
      binding = undefined;
    }
    if (!volume) continue;
    if (!binding) {
      const rebind = old.rebind;
      if (!rebind) {
        failures.push(`claim ${old.claim}: the record does not say how to bind ${volume} again`);
        continue;
      }
      if (!(await step(`releasing ${volume}`, () => writer.releaseVolume(volume)))) continue;
      if (!(await step(`binding ${old.claim} to ${volume}`, () => writer.create(rebind)))) continue;
    }
    // Set again even when it looks right: the volume may still carry the marks of a kept volume.
    if (record.step !== 'stopping')
      await step(`resetting the reclaim policy of ${volume}`, () =>
        writer.setReclaimPolicy(volume, old.reclaimPolicy ?? 'Delete', {
          [Annotations.keptForClaim]: null,
          [Annotations.keptReclaimPolicy]: null,
        }),
      );
  }
  if (
    failures.length === 0 &&
    (await step(`scaling ${statefulSet} to ${record.replicas}`, () => writer.scale(namespace, statefulSet, record.replicas)))
  )
    failures.push(...(await clearRecord(deps, target)));
  return report();

  function report(): string[] {
    target.onProgress?.({ stage: 'put-back', failures });
    return failures;
  }
}

const isRestored = (binding: ClaimBinding, record: InPlaceRestoreRecord) =>
  (binding.claim.metadata.labels as Record<string, string> | undefined)?.[Labels.restoredFrom] === record.backup;

function wrap(e: unknown, message: string, hint?: Hint): PgBackupError {
  const reason = e instanceof Error ? e.message : String(e);
  const code = isPgBackupError(e) ? e.code : 'Unavailable';
  return new PgBackupError(code, `${message}: ${reason}`, hint ?? (isPgBackupError(e) ? e.hint : undefined));
}
