/**
 * Backstage permissions of pgbackup, shared by the backend plugin (enforces) and the frontend
 * plugin (hides buttons). Resource permissions on `catalog-entity` let an admin write owner-only
 * policies with the catalog's conditions (e.g. isEntityOwner). A separate entry
 * (`@pgbackup/core/permissions`) so the CLI does not load @backstage/plugin-permission-common.
 */
import { createPermission } from '@backstage/plugin-permission-common';

/** The catalog's resource type (RESOURCE_TYPE_CATALOG_ENTITY of @backstage/plugin-catalog-common). */
export const CATALOG_ENTITY_RESOURCE_TYPE = 'catalog-entity';

export const pgbackupReadPermission = createPermission({
  name: 'pgbackup.backup.read',
  attributes: { action: 'read' },
  resourceType: CATALOG_ENTITY_RESOURCE_TYPE,
});

export const pgbackupCreatePermission = createPermission({
  name: 'pgbackup.backup.create',
  attributes: { action: 'create' },
  resourceType: CATALOG_ENTITY_RESOURCE_TYPE,
});

export const pgbackupDeletePermission = createPermission({
  name: 'pgbackup.backup.delete',
  attributes: { action: 'delete' },
  resourceType: CATALOG_ENTITY_RESOURCE_TYPE,
});

export const pgbackupRestorePermission = createPermission({
  name: 'pgbackup.backup.restore',
  attributes: { action: 'update' },
  resourceType: CATALOG_ENTITY_RESOURCE_TYPE,
});

/**
 * The API's body-addressed routes (`POST /backup`, `GET /backups`, …) name a namespace and a
 * StatefulSet, not an entity: they are guarded by these basic permissions, allow or deny only.
 */
export const pgbackupDirectCreatePermission = createPermission({
  name: 'pgbackup.backup.direct.create',
  attributes: { action: 'create' },
});

export const pgbackupDirectReadPermission = createPermission({
  name: 'pgbackup.backup.direct.read',
  attributes: { action: 'read' },
});

export const pgbackupDirectDeletePermission = createPermission({
  name: 'pgbackup.backup.direct.delete',
  attributes: { action: 'delete' },
});

export const pgbackupDirectRestorePermission = createPermission({
  name: 'pgbackup.backup.direct.restore',
  attributes: { action: 'update' },
});

export const pgbackupPermissions = [
  pgbackupReadPermission,
  pgbackupCreatePermission,
  pgbackupDeletePermission,
  pgbackupRestorePermission,
  pgbackupDirectCreatePermission,
  pgbackupDirectReadPermission,
  pgbackupDirectDeletePermission,
  pgbackupDirectRestorePermission,
];
