import { type PruneDecision, type RetentionPolicy, planPrune } from '../domain/retention.js';
import { assertName } from '../domain/names.js';
import type { Deps } from './deps.js';
import { deleteBackupObjects } from './deleteBackup.js';
import { listBackups } from './listBackups.js';

export interface PruneOptions {
  namespace: string;
  statefulSet: string;
  policy: RetentionPolicy;
  dryRun?: boolean;
}

/** Applies a retention policy to one StatefulSet's backups; returns every decision with its reasons. */
export async function prune(
  deps: Pick<Deps, 'snapshots' | 'groups' | 'events' | 'clock'>,
  options: PruneOptions,
): Promise<PruneDecision[]> {
  assertName('StatefulSet', options.statefulSet);
  const backups = await listBackups(deps, { namespace: options.namespace, statefulSet: options.statefulSet });
  const decisions = planPrune(backups, options.policy, deps.clock.now());
  const deleted = options.dryRun ? [] : decisions.filter((d) => d.action === 'delete');
  for (const d of deleted) await deleteBackupObjects(deps, d.backup);
  // One Event per run, naming what went: a run that deletes nothing says nothing.
  if (deleted.length > 0)
    await deps.events.record({
      namespace: options.namespace,
      statefulSet: options.statefulSet,
      reason: 'BackupPruned',
      note: `deleted ${deleted.length} backup${deleted.length === 1 ? '' : 's'} by retention: ${deleted.map((d) => d.backup.id).join(', ')}`,
    });
  return decisions;
}
