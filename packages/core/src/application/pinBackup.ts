import { Annotations } from '../contract.js';
import type { Backup } from '../domain/backup.js';
import type { Deps } from './deps.js';
import { getBackup } from './getBackup.js';

/** Pins (exempts from retention and delete) or unpins every snapshot of a backup. */
export async function pinBackup(deps: Pick<Deps, 'snapshots' | 'clock'>, namespace: string, id: string, pinned: boolean): Promise<Backup> {
  const backup = await getBackup(deps, namespace, id);
  for (const s of backup.snapshots) await deps.snapshots.annotate(namespace, s.name, { [Annotations.pinned]: pinned ? 'true' : null });
  return getBackup(deps, namespace, id);
}
