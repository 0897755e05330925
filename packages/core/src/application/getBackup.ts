import { Labels, MANAGED_SELECTOR } from '../contract.js';
import { type Backup, deriveBackup } from '../domain/backup.js';
import { assertName } from '../domain/names.js';
import { notFound } from '../errors.js';
import type { Deps } from './deps.js';

/** @throws NotFound when no VolumeSnapshot carries the backup id in the namespace. */
export async function getBackup(deps: Pick<Deps, 'snapshots' | 'clock'>, namespace: string, id: string): Promise<Backup> {
  assertName('namespace', namespace);
  assertName('backup', id);
  const snapshots = await deps.snapshots.list({ namespace, labelSelector: `${MANAGED_SELECTOR},${Labels.backup}=${id}` });
  if (snapshots.length === 0)
    throw notFound(
      `backup "${id}" not found in namespace "${namespace}"`,
      { text: 'list the backups', step: { operation: 'list', namespace } },
      { object: { kind: 'Backup', name: id, namespace } },
    );
  return deriveBackup(id, snapshots, deps.clock.now());
}
