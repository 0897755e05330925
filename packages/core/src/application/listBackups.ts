import { Labels, MANAGED_SELECTOR } from '../contract.js';
import { type Backup, type BackupStatus, groupBackups } from '../domain/backup.js';
import { assertLabelSelector, assertName } from '../domain/names.js';
import type { SnapshotQuery } from '../ports.js';
import type { Deps } from './deps.js';

export interface ListBackupsOptions {
  /** undefined = every namespace. */
  namespace?: string;
  statefulSet?: string;
  /** Extra label selector on the VolumeSnapshots. */
  selector?: string;
  status?: BackupStatus;
  /** Only backups with a snapshot of this PersistentVolumeClaim. */
  pvc?: string;
}

/** Backups newest first, derived from the managed VolumeSnapshots. */
export async function listBackups(deps: Pick<Deps, 'snapshots' | 'clock'>, options: ListBackupsOptions): Promise<Backup[]> {
  const select = backupSelection(options);
  return select.filter(groupBackups(await deps.snapshots.list(select.query), deps.clock.now()));
}

/** The VolumeSnapshots a list reads, and which of the backups made of them it shows (shared with watchBackups). */
export function backupSelection(options: ListBackupsOptions): { query: SnapshotQuery; filter: (backups: Backup[]) => Backup[] } {
  if (options.namespace !== undefined) assertName('namespace', options.namespace);
  const selector = [MANAGED_SELECTOR];
  if (options.statefulSet) selector.push(`${Labels.statefulSet}=${assertName('StatefulSet', options.statefulSet)}`);
  if (options.selector) selector.push(assertLabelSelector(options.selector));
  if (options.pvc) assertName('PersistentVolumeClaim', options.pvc, 'subdomain');
  return {
    query: { namespace: options.namespace, labelSelector: selector.join(',') },
    filter: (backups) =>
      backups
        .filter((b) => !options.status || b.status === options.status)
        .filter((b) => !options.pvc || b.snapshots.some((s) => s.pvc === options.pvc)),
  };
}
