import { SnapshotStorage } from '../contract.js';
import type { KubernetesObject, ObjectRef } from '../domain/readModels.js';
import type { ServerDryRun } from '../ports.js';

/** A change as a verb plans it: what it would delete, then create, then server-side apply. */
export interface PlannedChange {
  delete?: KubernetesObject[];
  create?: KubernetesObject[];
  apply?: KubernetesObject[];
}

const API_VERSIONS: Record<ObjectRef['kind'], string> = {
  StatefulSet: 'apps/v1',
  PersistentVolumeClaim: 'v1',
  Service: 'v1',
  VolumeSnapshot: SnapshotStorage.apiVersion,
  VolumeSnapshotContent: SnapshotStorage.apiVersion,
};

/** A restore plan's reference as the object the API server is asked to delete. */
export const refObject = (ref: ObjectRef): KubernetesObject => ({
  apiVersion: API_VERSIONS[ref.kind],
  kind: ref.kind,
  metadata: ref.namespace ? { name: ref.name, namespace: ref.namespace } : { name: ref.name },
});

const key = (o: KubernetesObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/**
 * Sends a planned change to the API server with dryRun=All, in the order a real run writes it, so its
 * authorization, admission and validation answer; nothing is stored. Returns the objects it would create or
 * apply as the API server answered them (defaults, generated fields). An object deleted and created again under
 * its name (a replace) is checked by its delete only: in a dry run the old one stays, so its create would be refused.
 */
export async function serverDryRun(deps: { serverDryRun: ServerDryRun }, change: PlannedChange): Promise<KubernetesObject[]> {
  const replaced = new Set((change.delete ?? []).map(key));
  for (const object of change.delete ?? []) await deps.serverDryRun.delete(object);
  const answered: KubernetesObject[] = [];
  for (const object of change.create ?? []) answered.push(replaced.has(key(object)) ? object : await deps.serverDryRun.create(object));
  for (const object of change.apply ?? []) answered.push(await deps.serverDryRun.apply(object));
  return answered;
}
