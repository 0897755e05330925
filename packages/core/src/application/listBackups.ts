import { Labels, MANAGED_SELECTOR } from '../contract.js';
import { type Backup, type BackupStatus, groupBackups } from '../domain/backup.js';
import { assertLabelSelector, assertName } from '../domain/names.js';
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
  if (options.namespace !== undefined) assertName('namespace', options.namespace);
  const selector = [MANAGED_SELECTOR];
  if (options.statefulSet) selector.push(`${Labels.statefulSet}=${assertName('StatefulSet', options.statefulSet)}`);
  if (options.selector) selector.push(assertLabelSelector(options.selector));
  const snapshots = await deps.snapshots.list({ namespace: options.namespace, labelSelector: selector.join(',') });
  const backups = groupBackups(snapshots, deps.clock.now());
  if (options.pvc) assertName('PersistentVolumeClaim', options.pvc, 'subdomain');
  return backups
    .filter((b) => !options.status || b.status === options.status)
    .filter((b) => !options.pvc || b.snapshots.some((s) => s.pvc === options.pvc));
}
