/**
 * Backstage permissions of pgbackup, shared by the backend plugin (enforces) and the frontend
 * plugin (hides buttons). A separate entry (`@pgbackup/core/permissions`) so the CLI does not load
 * @backstage/plugin-permission-common.
 *
 * Two resource types, one set of actions each:
 * - `catalog-entity` (entity routes): policies use the catalog's conditions (e.g. isEntityOwner);
 * - `pgbackup-namespace` (routes that name a namespace): policies use pgbackup's conditions
 *   isInNamespace / isInCluster, so "team X may back up in namespace X" is one rule.
 */
import { type ResourcePermission, createPermission } from '@backstage/plugin-permission-common';

/** The catalog's resource type (RESOURCE_TYPE_CATALOG_ENTITY of @backstage/plugin-catalog-common). */
export const CATALOG_ENTITY_RESOURCE_TYPE = 'catalog-entity';

/** A Kubernetes namespace of a configured cluster; its resourceRef is `<cluster>/<namespace>`. */
export const NAMESPACE_RESOURCE_TYPE = 'pgbackup-namespace';

/** What a caller does with backups; each maps to one Kubernetes verb on `backups.pgbackup.io` (see docs/security.md). */
export const BACKUP_ACTIONS = ['read', 'create', 'delete', 'restore', 'verify'] as const;
export type BackupAction = (typeof BACKUP_ACTIONS)[number];

/** The Backstage permission framework's basic action of each of ours. */
const BASIC_ACTION = { read: 'read', create: 'create', delete: 'delete', restore: 'update', verify: 'update' } as const;

const permissionsOf = <T extends string>(prefix: string, resourceType: T) =>
  Object.fromEntries(
    BACKUP_ACTIONS.map((action) => [
      action,
      createPermission({ name: `${prefix}.${action}`, attributes: { action: BASIC_ACTION[action] }, resourceType }),
    ]),
  ) as Record<BackupAction, ResourcePermission<T>>;

/** On the catalog entity whose database it is (entity routes). */
export const entityPermissions = permissionsOf('pgbackup.backup', CATALOG_ENTITY_RESOURCE_TYPE);
/** On the namespace the request names (StatefulSet and backup routes). */
export const namespacePermissions = permissionsOf('pgbackup.namespace.backup', NAMESPACE_RESOURCE_TYPE);

export const pgbackupReadPermission = entityPermissions.read;
export const pgbackupCreatePermission = entityPermissions.create;

export const pgbackupPermissions = [...Object.values(entityPermissions), ...Object.values(namespacePermissions)];

/** `<cluster>/<namespace>`: the resourceRef of a `pgbackup-namespace` permission request. */
export const namespaceResourceRef = (cluster: string, namespace: string): string => `${cluster}/${namespace}`;

export function parseNamespaceResourceRef(ref: string): { cluster: string; namespace: string } | undefined {
  const at = ref.lastIndexOf('/');
  return at > 0 && at < ref.length - 1 ? { cluster: ref.slice(0, at), namespace: ref.slice(at + 1) } : undefined;
}
