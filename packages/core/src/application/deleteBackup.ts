import { Annotations, GroupSnapshotStorage, SnapshotStorage } from '../contract.js';
import { type Backup } from '../domain/backup.js';
import type { KubernetesObject } from '../domain/readModels.js';
import { conflict } from '../errors.js';
import type { Deps } from './deps.js';
import { getBackup } from './getBackup.js';
import { listBackups } from './listBackups.js';

export interface DeleteBackupOptions {
  /** Also delete a pinned backup or the last completed backup of its StatefulSet. */
  force?: boolean;
  dryRun?: boolean;
}

/** Deletes every VolumeSnapshot of a backup (and the VolumeGroupSnapshot that made them), refusing to drop the last good one unless forced. */
export async function deleteBackup(
  deps: Pick<Deps, 'snapshots' | 'groups' | 'clock'>,
  namespace: string,
  id: string,
  options: DeleteBackupOptions = {},
): Promise<Backup> {
  const backup = await getBackup(deps, namespace, id);
  if (!options.force) {
    if (backup.pinned)
      throw conflict(
        `backup ${id} is pinned`,
        {
          text: 'unpin it first, or delete it anyway',
          step: { operation: 'unpin', target: id, namespace },
          options: [{ option: 'force' }],
        },
        { object: { kind: 'Backup', name: id, namespace } },
      );
    if (backup.status === 'completed') {
      const completed = (await listBackups(deps, { namespace, statefulSet: backup.statefulSet })).filter((b) => b.status === 'completed');
      if (completed.length <= 1)
        throw conflict(
          `backup ${id} is the last completed backup of StatefulSet ${backup.statefulSet}`,
          { text: 'take a newer backup first, or delete it anyway', options: [{ option: 'force' }] },
          { object: { kind: 'Backup', name: id, namespace } },
        );
    }
  }
  if (options.dryRun) return backup;
  await deleteBackupObjects(deps, backup);
  return backup;
}

/** What a backup is made of: its VolumeGroupSnapshots (which own their VolumeSnapshots), and its other VolumeSnapshots. */
function partsOf(backup: Backup): { groups: string[]; snapshots: string[] } {
  // A group snapshot owns its VolumeSnapshots (and holds them with a finalizer): deleting it deletes them.
  const groups = new Set(backup.snapshots.map((s) => s.annotations[Annotations.groupSnapshot]).filter((g): g is string => !!g));
  return { groups: [...groups], snapshots: backup.snapshots.filter((s) => !s.annotations[Annotations.groupSnapshot]).map((s) => s.name) };
}

/** Deletes what a backup is made of, groups first. */
export async function deleteBackupObjects(deps: Pick<Deps, 'snapshots' | 'groups'>, backup: Backup): Promise<void> {
  const { groups, snapshots } = partsOf(backup);
  for (const group of groups) await deps.groups.delete(backup.namespace, group);
  for (const name of snapshots) await deps.snapshots.delete(backup.namespace, name);
}

/** The objects deleting a backup deletes, as a dry run sends them (a VolumeGroupSnapshot in the newest version pgbackup knows). */
export function backupObjects(backup: Backup): KubernetesObject[] {
  const { groups, snapshots } = partsOf(backup);
  const object = (apiVersion: string, kind: string) => (name: string) => ({
    apiVersion,
    kind,
    metadata: { name, namespace: backup.namespace },
  });
  return [
    ...groups.map(object(`${GroupSnapshotStorage.group}/v1`, 'VolumeGroupSnapshot')),
    ...snapshots.map(object(SnapshotStorage.apiVersion, 'VolumeSnapshot')),
  ];
}
