import type { InPlaceRestoreRecord } from '../domain/inPlaceRestoreRecord.js';
import { assertName } from '../domain/names.js';
import { PgBackupError, isPgBackupError } from '../errors.js';
import { acquireLock } from './createBackup.js';
import type { Deps } from './deps.js';
import {
  IN_PLACE_HOLDER,
  type InPlaceTarget,
  finishRestore,
  readRecord,
  recoverHint,
  restoredClaimsInPlace,
  rollBack,
  startRestored,
} from './restoreInPlace.js';
import type { RestoreProgress } from './restoreObjects.js';

export interface RecoverOptions {
  namespace: string;
  statefulSet: string;
  /** Roll back even when the restore could be finished. */
  rollBack?: boolean;
  /** Seconds the restored database may take to answer when the restore is finished (default 600). */
  timeoutSeconds?: number;
  /** Seconds to wait for the Lease (a killed restore's Lease expires within a minute). */
  lockWaitSeconds?: number;
  signal?: AbortSignal;
  onProgress?: (event: RestoreProgress) => void;
}

export interface RecoverResult {
  namespace: string;
  statefulSet: string;
  /** `none`: no unfinished in-place restore; `restored`: finished, the backup's data is in place; `rolled-back`: the data from before is. */
  outcome: 'none' | 'restored' | 'rolled-back';
  /** The unfinished restore as it was recorded. */
  record?: InPlaceRestoreRecord;
  /** Why it was rolled back rather than finished. */
  reason?: string;
}

/**
 * Takes on an in-place restore that did not finish (killed, or its rollback failed), under the
 * StatefulSet's Lease: a restore whose restored claims all exist is finished (PostgreSQL awaited,
 * the old volumes given back); anything earlier, a restore that does not come up, or `rollBack`,
 * is rolled back onto the old volumes. Either way the StatefulSet holds one of the two databases,
 * never neither: the old volumes are kept until the restored database answers.
 */
export async function recoverInPlaceRestore(deps: Deps, options: RecoverOptions): Promise<RecoverResult> {
  assertName('namespace', options.namespace);
  assertName('StatefulSet', options.statefulSet);
  const { namespace, statefulSet } = options;
  const { lock } = await acquireLock(
    deps,
    { namespace, statefulSet },
    { holder: `${IN_PLACE_HOLDER} (recover)`, lockWaitSeconds: options.lockWaitSeconds, signal: options.signal },
  ).catch((e: unknown) => {
    if (!isPgBackupError(e, 'Conflict')) throw e;
    throw new PgBackupError(
      'Conflict',
      `${e.message}: the restore may still be running; a killed one's Lease expires within a minute`,
      'wait a minute, then recover again',
    );
  });
  const signal = AbortSignal.any([lock.lost, ...(options.signal ? [options.signal] : [])]);
  const target: InPlaceTarget = { namespace, statefulSet, signal, onProgress: options.onProgress };
  try {
    const record = readRecord(await deps.workloadWriter.readStatefulSet(namespace, statefulSet));
    if (!record) return { namespace, statefulSet, outcome: 'none' };
    const done = { namespace, statefulSet, record };
    if (record.step === 'finishing') {
      // The restored database answered already; some old volumes may be gone: only forward is left.
      await finishRestore(deps, target, record);
      return { ...done, outcome: 'restored', ...(options.rollBack ? { reason: 'the restored database had answered already' } : {}) };
    }
    let reason = options.rollBack ? 'asked to roll back' : `it stopped at step ${record.step}, before every restored claim existed`;
    if (!options.rollBack && record.step === 'starting' && (await restoredClaimsInPlace(deps, target, record)))
      try {
        await startRestored(deps, target, record, options.timeoutSeconds ?? 600);
        await finishRestore(deps, target, record);
        return { ...done, outcome: 'restored' };
      } catch (e) {
        if (signal.aborted) throw e;
        reason = `the restored database did not come up: ${(e as Error).message}`;
      }
    const failures = await rollBack(deps, { ...target, signal: undefined }, record);
    if (failures.length > 0)
      throw new PgBackupError(
        'Unavailable',
        `rolling back the in-place restore of ${statefulSet} failed (${failures.join('; ')})${record.preRestoreBackup ? `; the data from before is in the pinned backup ${record.preRestoreBackup}` : ''}`,
        recoverHint(target),
      );
    return { ...done, outcome: 'rolled-back', reason };
  } finally {
    await lock.release().catch(() => undefined);
  }
}
