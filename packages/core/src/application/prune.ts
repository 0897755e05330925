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
export async function prune(deps: Pick<Deps, 'snapshots' | 'groups' | 'clock'>, options: PruneOptions): Promise<PruneDecision[]> {
  assertName('StatefulSet', options.statefulSet);
  const backups = await listBackups(deps, { namespace: options.namespace, statefulSet: options.statefulSet });
  const decisions = planPrune(backups, options.policy, deps.clock.now());
  if (!options.dryRun) for (const d of decisions.filter((d) => d.action === 'delete')) await deleteBackupObjects(deps, d.backup);
  return decisions;
}
