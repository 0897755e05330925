import { MANAGED_SELECTOR } from '../contract.js';
import type { SnapshotInfo } from '../domain/backup.js';
import { assertName } from '../domain/names.js';
import type { Deps } from './deps.js';

/** The managed VolumeSnapshots of one PersistentVolumeClaim, newest first. */
export async function listSnapshots(deps: Pick<Deps, 'snapshots'>, namespace: string, pvc: string): Promise<SnapshotInfo[]> {
  assertName('namespace', namespace);
  assertName('PersistentVolumeClaim', pvc, 'subdomain');
  const all = await deps.snapshots.list({ namespace, labelSelector: MANAGED_SELECTOR });
  return all.filter((s) => s.pvc === pvc).sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
}
