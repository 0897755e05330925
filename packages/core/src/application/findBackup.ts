import { Labels, MANAGED_SELECTOR } from '../contract.js';
import { type Backup, deriveBackup } from '../domain/backup.js';
import { assertName } from '../domain/names.js';
import { conflict, notFound } from '../errors.js';
import type { Deps } from './deps.js';
import { getBackup } from './getBackup.js';

/**
 * A backup by id, in `namespace` or, when undefined, in whichever namespace holds it (ids carry
 * the StatefulSet name and a time, so they are unique in practice).
 * @throws NotFound when no namespace holds it; Conflict when several do.
 */
export async function findBackup(deps: Pick<Deps, 'snapshots' | 'clock'>, id: string, namespace?: string): Promise<Backup> {
  if (namespace !== undefined) return getBackup(deps, namespace, id);
  assertName('backup', id);
  const snapshots = await deps.snapshots.list({ labelSelector: `${MANAGED_SELECTOR},${Labels.backup}=${id}` });
  const namespaces = [...new Set(snapshots.map((s) => s.namespace))].sort();
  if (namespaces.length === 0)
    throw notFound(
      `backup "${id}" not found in any namespace`,
      { text: 'list the backups', step: { operation: 'list', allNamespaces: true } },
      { object: { kind: 'Backup', name: id } },
    );
  if (namespaces.length > 1)
    throw conflict(`backup id "${id}" exists in several namespaces (${namespaces.join(', ')})`, {
      text: 'name the namespace',
      options: [{ option: 'namespace', value: namespaces[0]! }],
    });
  return deriveBackup(id, snapshots, deps.clock.now());
}
