import { type Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { EntityAnnotations } from '@pgbackup/core/isomorphic';
import type { EntityKey, StatefulSetRef } from './api/types.js';

const annotation = (entity: Entity, key: string): string | undefined => entity.metadata.annotations?.[key]?.trim() || undefined;

/**
 * True when the entity names its PostgreSQL StatefulSet (`pgbackup.io/statefulset`) and, like the
 * Kubernetes plugin, its workload (`backstage.io/kubernetes-id` or `backstage.io/kubernetes-label-selector`).
 * Use it in `EntityLayout.Route if={isPgBackupAvailable}` and `EntitySwitch.Case if={...}`.
 */
export function isPgBackupAvailable(entity: Entity): boolean {
  return (
    annotation(entity, EntityAnnotations.statefulSet) !== undefined &&
    (annotation(entity, EntityAnnotations.kubernetesId) !== undefined ||
      annotation(entity, EntityAnnotations.kubernetesLabelSelector) !== undefined)
  );
}

/** The annotations this entity still lacks. */
export function missingAnnotations(entity: Entity): string[] {
  const missing: string[] = [];
  if (
    annotation(entity, EntityAnnotations.kubernetesId) === undefined &&
    annotation(entity, EntityAnnotations.kubernetesLabelSelector) === undefined
  ) {
    missing.push(EntityAnnotations.kubernetesId);
  }
  if (annotation(entity, EntityAnnotations.statefulSet) === undefined) missing.push(EntityAnnotations.statefulSet);
  return missing;
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

/** The YAML a reader pastes into catalog-info.yaml, with this entity's names as placeholders. */
export function annotationYaml(entity: Entity): string {
  const id = annotation(entity, EntityAnnotations.kubernetesId) ?? entity.metadata.name;
  const ns = annotation(entity, EntityAnnotations.kubernetesNamespace) ?? entity.metadata.namespace ?? 'default';
  const sts = annotation(entity, EntityAnnotations.statefulSet) ?? `${entity.metadata.name}-postgres`;
  return [
    'metadata:',
    '  annotations:',
    `    ${EntityAnnotations.kubernetesId}: ${id}`,
    `    ${EntityAnnotations.kubernetesNamespace}: ${ns}`,
    `    ${EntityAnnotations.statefulSet}: ${sts}`,
    `    # optional, when the backend knows several clusters:`,
    `    # ${EntityAnnotations.cluster}: production`,
  ].join('\n');
}
