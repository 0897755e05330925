import { type Backup, groupBackups } from '../domain/backup.js';
import type { Deps } from './deps.js';
import { type ListBackupsOptions, backupSelection } from './listBackups.js';

/**
 * kubectl get -w for backups: calls `onChange` with what listBackups answers (newest first) at once,
 * then after every change of their VolumeSnapshots (the list+watch that waitForBackup follows), until
 * the signal aborts; then rejects with the signal's reason.
 */
export async function watchBackups(
  deps: Pick<Deps, 'snapshots' | 'clock'>,
  options: ListBackupsOptions,
  onChange: (backups: Backup[]) => void,
  signal: AbortSignal,
): Promise<void> {
  const select = backupSelection(options);
  await deps.snapshots.watch(
    select.query,
    (snapshots) => {
      onChange(select.filter(groupBackups(snapshots, deps.clock.now())));
      return false;
    },
    signal,
  );
}
