import { type Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { EntityAnnotations } from '@pgbackup/core/isomorphic';
import type { EntityKey, StatefulSetRef } from './api/types.js';

const annotation = (entity: Entity, key: string): string | undefined => entity.metadata.annotations?.[key]?.trim() || undefined;

/**
 * True when the entity names its PostgreSQL StatefulSet (`pgbackup.io/statefulset`; its namespace is
 * `backstage.io/kubernetes-namespace`, as for the Kubernetes plugin). `backstage.io/kubernetes-id` is
 * not needed: pgbackup finds the StatefulSet by name, not by the Kubernetes plugin's label selector.
 * Use it in `EntityLayout.Route if={isPgBackupAvailable}` and `EntitySwitch.Case if={...}`.
 */
export function isPgBackupAvailable(entity: Entity): boolean {
  return annotation(entity, EntityAnnotations.statefulSet) !== undefined;
}

/** The annotations this entity still lacks. */
export function missingAnnotations(entity: Entity): string[] {
  return isPgBackupAvailable(entity) ? [] : [EntityAnnotations.statefulSet];
}

/** The StatefulSet the entity's annotations point at (namespace defaults to `default`, as kubectl's does). */
export function statefulSetOf(entity: Entity): StatefulSetRef | undefined {
  const name = annotation(entity, EntityAnnotations.statefulSet);
  if (!name) return undefined;
  const cluster = annotation(entity, EntityAnnotations.cluster);
  return {
    name,
    namespace: annotation(entity, EntityAnnotations.kubernetesNamespace) ?? 'default',
    ...(cluster ? { cluster } : {}),
  };
}

export function entityKeyOf(entity: Entity): EntityKey {
  return { kind: entity.kind, namespace: entity.metadata.namespace ?? 'default', name: entity.metadata.name };
}

export const entityRefOf = (entity: Entity): string => stringifyEntityRef(entity);
