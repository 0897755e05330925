import { Annotations, Labels } from '../contract.js';
import { type Backup, deriveBackup } from '../domain/backup.js';
import type { BackupEvent } from '../domain/events.js';
import { assertName } from '../domain/names.js';
import { notFound, timeout } from '../errors.js';
import { bytesIec } from '../format.js';
import type { Deps } from './deps.js';

export interface WaitOptions {
  timeoutSeconds: number;
  signal?: AbortSignal;
  onProgress?: (backup: Backup) => void;
}

/**
 * Follows a backup until it is completed or failed (returned), or the timeout passes (Timeout error).
 * The backup itself goes on either way. Its callers follow the backup they took: the end is theirs to record
 * (BackupCompleted or BackupFailed, and `pgbackup.io/ready-at` unless it is there already).
 */
export async function waitForBackup(
  deps: Pick<Deps, 'snapshots' | 'events' | 'clock'>,
  namespace: string,
  id: string,
  options: WaitOptions,
): Promise<Backup> {
  assertName('namespace', namespace);
  assertName('backup', id);
  let last: Backup | undefined;
  const signal = AbortSignal.any([
    AbortSignal.timeout(Math.ceil(options.timeoutSeconds * 1000)),
    ...(options.signal ? [options.signal] : []),
  ]);
  try {
    await deps.snapshots.watch(
      { namespace, labelSelector: `${Labels.backup}=${id}` },
      (snapshots) => {
        if (snapshots.length === 0) throw notFound(`backup "${id}" not found in namespace "${namespace}"`);
        last = deriveBackup(id, snapshots, deps.clock.now());
        options.onProgress?.(last);
        return last.status !== 'in_progress';
      },
      signal,
    );
  } catch (e) {
    if (options.signal?.aborted || !signal.aborted) throw e;
    const ready = last ? `${last.snapshots.filter((s) => s.readyToUse).length}/${last.volumes} snapshots ready` : 'no snapshot seen';
    throw timeout(
      `backup ${id} is still in progress after ${Number(options.timeoutSeconds.toFixed(2))}s (${ready})`,
      { text: 'it goes on; follow it', step: { operation: 'status', target: id, namespace } },
      { object: { kind: 'Backup', name: id, namespace } },
    );
  }
  const done = last!;
  if (done.status === 'completed' && !done.readyAt) {
    // Kubernetes records no time of readiness: the one who saw it says when (cut → ready in the metrics).
    const readyAt = deps.clock.now().toISOString();
    await Promise.allSettled(done.snapshots.map((s) => deps.snapshots.annotate(namespace, s.name, { [Annotations.readyAt]: readyAt })));
    done.readyAt = readyAt;
  }
  await deps.events.record(completionEvent(done));
  return done;
}

/** BackupCompleted or BackupFailed, with what a reader of `kubectl describe` wants to know. */
function completionEvent(b: Backup): BackupEvent {
  const where = { namespace: b.namespace, statefulSet: b.statefulSet };
  if (b.status === 'failed') return { ...where, reason: 'BackupFailed', note: `backup ${b.id} failed: ${b.error ?? 'unknown error'}` };
  const size = b.size !== undefined ? `, ${bytesIec(b.size)}` : '';
  return {
    ...where,
    reason: 'BackupCompleted',
    note: `backup ${b.id} completed: ${b.volumes} VolumeSnapshot${b.volumes === 1 ? '' : 's'}${size}, cut at ${b.cutAt ?? b.startedAt}`,
  };
}
