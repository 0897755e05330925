import { coreServices, createBackendPlugin, createServiceFactory, createServiceRef, type HttpAuthService, type PermissionsService } from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { AuthorizeResult, type BasicPermission, type ResourcePermission } from '@backstage/plugin-permission-common';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { EntityAnnotations, dns1123LabelProblem, notFound } from '@pgbackup/core';
import {
  pgbackupCreatePermission,
  pgbackupDeletePermission,
  pgbackupDirectCreatePermission,
  pgbackupDirectDeletePermission,
  pgbackupDirectReadPermission,
  pgbackupDirectRestorePermission,
  pgbackupPermissions,
  pgbackupReadPermission,
  pgbackupRestorePermission,
} from '@pgbackup/core/permissions';
import type { Request } from 'express';
import { connectClusters, readClusterSettings, startCaches } from './clusters.js';
import { HttpProblem } from './problem.js';
import { type AccessRequest, type Action, type ClusterTarget, createRouter } from './router.js';

/** The clusters the plugin serves. Replace this service (e.g. with in-memory fakes in tests) to change how they connect. */
export interface PgbackupClusters {
  clusters: ClusterTarget[];
}

export const pgbackupClustersServiceRef = createServiceRef<PgbackupClusters>({
  id: 'pgbackup.clusters',
  defaultFactory: async (service) =>
    createServiceFactory({
      service,
      deps: { config: coreServices.rootConfig, logger: coreServices.logger, lifecycle: coreServices.lifecycle },
      async factory({ config, logger, lifecycle }) {
        const clusters = connectClusters(readClusterSettings(config), logger);
        startCaches(clusters, logger);
        lifecycle.addShutdownHook(async () => {
          await Promise.all(clusters.map((c) => c.cache?.stop()));
        });
        return { clusters };
      },
    }),
});

const ENTITY_PERMISSIONS: Record<Action, ResourcePermission<'catalog-entity'>> = {
  read: pgbackupReadPermission,
  create: pgbackupCreatePermission,
  delete: pgbackupDeletePermission,
  restore: pgbackupRestorePermission,
};

const DIRECT_PERMISSIONS: Record<Action, BasicPermission> = {
  read: pgbackupDirectReadPermission,
  create: pgbackupDirectCreatePermission,
  delete: pgbackupDirectDeletePermission,
  restore: pgbackupDirectRestorePermission,
};

/** Checks a pgbackup permission for the caller; answers 403 with the permission's name when denied. */
export function permissionAuthorizer(httpAuth: HttpAuthService, permissions: PermissionsService) {
  return async (req: Request, access: AccessRequest): Promise<string> => {
    const credentials = await httpAuth.credentials(req, { allow: ['user', 'service'] });
    const permission = access.entityRef ? ENTITY_PERMISSIONS[access.action] : DIRECT_PERMISSIONS[access.action];
    const [decision] = access.entityRef
      ? await permissions.authorize([{ permission: permission as ResourcePermission<'catalog-entity'>, resourceRef: access.entityRef }], { credentials })
      : await permissions.authorize([{ permission: permission as BasicPermission }], { credentials });
    if (decision?.result !== AuthorizeResult.ALLOW)
      throw new HttpProblem(
        403,
        'Forbidden',
        `you are not allowed to ${access.action} backups${access.entityRef ? ` of ${access.entityRef}` : ''} (permission ${permission.name} denied)`,
        { code: 'Forbidden', hint: `ask a Backstage admin to allow ${permission.name}${access.entityRef ? ' for this entity' : ''}` },
      );
    const p = credentials.principal as { type: string; userEntityRef?: string; subject?: string };
    return p.userEntityRef ?? p.subject ?? p.type;
  };
}

/** The pgbackup backend plugin: the HTTP API on /api/pgbackup. */
export const pgbackupPlugin = createBackendPlugin({
  pluginId: 'pgbackup',
  register(env) {
    env.registerInit({
      deps: {
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        logger: coreServices.logger,
        config: coreServices.rootConfig,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        auditor: coreServices.auditor,
        catalog: catalogServiceRef,
        pgbackup: pgbackupClustersServiceRef,
      },
      async init({ httpRouter, httpAuth, logger, config, permissions, permissionsRegistry, auditor, catalog, pgbackup }) {
        permissionsRegistry.addPermissions(pgbackupPermissions);
        if (pgbackup.clusters.length === 0) logger.error('pgbackup: no usable cluster; every route answers 503 until the configuration is fixed');
        const router = createRouter({
          clusters: pgbackup.clusters.length > 0 ? pgbackup.clusters : [unavailableCluster()],
          logger,
          bodyLimit: config.getOptionalString('pgbackup.bodyLimit') ?? '16kb',
          authorize: permissionAuthorizer(httpAuth, permissions),
          resolveEntity: async (req, ref) => {
            const credentials = await httpAuth.credentials(req, { allow: ['user', 'service'] });
            const entityRef = stringifyEntityRef(ref);
            const entity = await catalog.getEntityByRef(entityRef, { credentials });
            if (!entity) throw notFound(`entity ${entityRef} not found in the catalog`, 'check the kind, namespace and name, and that you may see it');
            const annotations = entity.metadata.annotations ?? {};
            const statefulSet = annotations[EntityAnnotations.statefulSet];
            if (!statefulSet)
              throw new HttpProblem(404, 'Not Found', `entity ${entityRef} has no ${EntityAnnotations.statefulSet} annotation`, {
                code: 'MissingAnnotation',
                hint: `add metadata.annotations["${EntityAnnotations.statefulSet}"]: <StatefulSet name> (and "${EntityAnnotations.kubernetesNamespace}") to its catalog-info.yaml`,
              });
            const namespace = annotations[EntityAnnotations.kubernetesNamespace];
            for (const [key, value] of [[EntityAnnotations.statefulSet, statefulSet], [EntityAnnotations.kubernetesNamespace, namespace]] as const) {
              const problem = value === undefined ? undefined : dns1123LabelProblem(value);
              if (problem)
                throw new HttpProblem(422, 'Unprocessable Content', `annotation ${key} of ${entityRef} is not a valid name ("${value}"): ${problem}`, { code: 'InvalidAnnotation' });
            }
            return { entityRef, statefulSet, namespace, cluster: annotations[EntityAnnotations.cluster] };
          },
          audit: async (req, eventId, meta) => {
            const event = await auditor.createEvent({ eventId, severityLevel: eventId === 'backup-delete' ? 'high' : 'medium', request: req, meta });
            return { success: (more) => event.success(more ? { meta: more } : undefined), fail: (error) => event.fail({ error }) };
          },
        });
        httpRouter.use(router);
        for (const path of ['/health', '/openapi.json', '/api']) httpRouter.addAuthPolicy({ path, allow: 'unauthenticated' });
      },
    });
  },
});

/** Stands in when no cluster could be configured, so the API explains instead of crashing the backend. */
function unavailableCluster(): ClusterTarget {
  const fail = async (): Promise<never> => {
    throw new HttpProblem(503, 'Service Unavailable', 'pgbackup has no usable Kubernetes cluster', { code: 'Unavailable', hint: 'check pgbackup.clusters in app-config and the backend log' });
  };
  const port = new Proxy({}, { get: () => fail });
  return { name: 'unavailable', deps: new Proxy({}, { get: () => port }) as ClusterTarget['deps'] };
}
