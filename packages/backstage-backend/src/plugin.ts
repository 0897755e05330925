import {
  type BackstageCredentials,
  type HttpAuthService,
  type PermissionsService,
  coreServices,
  createBackendPlugin,
  createServiceFactory,
  createServiceRef,
} from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { AuthorizeResult, type ResourcePermission } from '@backstage/plugin-permission-common';
import {
  createConditionAuthorizer,
  createConditionExports,
  createPermissionResourceRef,
  createPermissionRule,
} from '@backstage/plugin-permission-node';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { EntityAnnotations, dns1123LabelProblem, notFound } from '@pgbackup/core';
import { NAMESPACE_RESOURCE_TYPE, entityPermissions, namespacePermissions, parseNamespaceResourceRef } from '@pgbackup/core/permissions';
import { z } from 'zod';
import { connectClusters, readClusterSettings, startCaches } from './clusters.js';
import { HttpProblem } from './problem.js';
import { MetricsEndpoint, metricsAuth } from './metrics.js';
import { type Caller, type Guard, createRouter } from './router.js';
import { type ClusterTarget, actionOf } from './routes.js';

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

/** A namespace of a configured cluster: what a `pgbackup-namespace` permission is about. */
export interface PgbackupNamespace {
  cluster: string;
  namespace: string;
}

export const pgbackupNamespaceResourceRef = createPermissionResourceRef<PgbackupNamespace, never>().with({
  pluginId: 'pgbackup',
  resourceType: NAMESPACE_RESOURCE_TYPE,
});

const checkedOneAtATime = (): never => {
  throw new Error('pgbackup namespaces are checked one at a time, never queried');
};

/** `isInNamespace({ namespaces: ['orders'] })`: the request acts in one of these Kubernetes namespaces. */
export const isInNamespace = createPermissionRule({
  name: 'IS_IN_NAMESPACE',
  description: 'Allow when the request acts in one of these Kubernetes namespaces',
  resourceRef: pgbackupNamespaceResourceRef,
  paramsSchema: z.object({ namespaces: z.array(z.string()).describe('Kubernetes namespaces') }),
  apply: (resource, { namespaces }) => namespaces.includes(resource.namespace),
  toQuery: checkedOneAtATime,
});

/** `isInCluster({ clusters: ['prod'] })`: the request acts in one of these configured clusters. */
export const isInCluster = createPermissionRule({
  name: 'IS_IN_CLUSTER',
  description: 'Allow when the request acts in one of these configured clusters (pgbackup.clusters[].name)',
  resourceRef: pgbackupNamespaceResourceRef,
  paramsSchema: z.object({ clusters: z.array(z.string()).describe('Cluster names from pgbackup.clusters') }),
  apply: (resource, { clusters }) => clusters.includes(resource.cluster),
  toQuery: checkedOneAtATime,
});

export const pgbackupNamespaceRules = [isInNamespace, isInCluster];

/** For permission policies: `createConditionalDecision(permission, pgbackupConditions.isInNamespace({ namespaces: ['orders'] }))`. */
export const { conditions: pgbackupConditions, createConditionalDecision: createPgbackupConditionalDecision } = createConditionExports({
  resourceRef: pgbackupNamespaceResourceRef,
  rules: { isInNamespace, isInCluster },
});

const applyConditions = createConditionAuthorizer(pgbackupNamespaceRules);

interface BackstageCaller extends Caller {
  credentials: BackstageCredentials;
}

/**
 * Backstage authentication and permissions: entity routes check the entity permission on the
 * entity (catalog conditions apply); the others check the namespace permission, conditional on
 * pgbackup's rules (isInNamespace, isInCluster). Denied → 403 naming the permission.
 */
export function permissionGuard(httpAuth: HttpAuthService, permissions: PermissionsService): Guard<BackstageCaller> {
  return {
    async authenticate(req) {
      const credentials = await httpAuth.credentials(req, { allow: ['user', 'service'] });
      const p = credentials.principal as { type: string; userEntityRef?: string; subject?: string };
      return { name: p.userEntityRef ?? p.subject ?? p.type, credentials };
    },
    async authorize(_req, { credentials }, access) {
      const action = actionOf(access);
      let allowed: boolean;
      let permission: ResourcePermission<string>;
      if (access.entityRef) {
        permission = entityPermissions[action];
        const [decision] = await permissions.authorize([{ permission: entityPermissions[action], resourceRef: access.entityRef }], {
          credentials,
        });
        allowed = decision?.result === AuthorizeResult.ALLOW;
      } else {
        permission = namespacePermissions[action];
        const [decision] = await permissions.authorizeConditional([{ permission: namespacePermissions[action] }], { credentials });
        // '' (a list over every namespace) matches no isInNamespace rule: only an unconditional ALLOW covers it.
        allowed = decision !== undefined && applyConditions(decision, { cluster: access.cluster, namespace: access.namespace || '*' });
      }
      if (!allowed) {
        const what = access.entityRef
          ? `backups of ${access.entityRef}`
          : `backups in ${access.namespace ? `namespace ${access.namespace}` : 'every namespace'} of cluster ${access.cluster}`;
        throw new HttpProblem(403, 'Forbidden', `you are not allowed to ${action} ${what} (permission ${permission.name} denied)`, {
          code: 'Forbidden',
          hint: `ask a Backstage admin to allow ${permission.name}${access.entityRef ? ' for this entity' : ' in this namespace'}`,
        });
      }
    },
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
        permissionsRegistry.addPermissions(Object.values(entityPermissions));
        permissionsRegistry.addResourceType({
          resourceRef: pgbackupNamespaceResourceRef,
          permissions: Object.values(namespacePermissions),
          rules: pgbackupNamespaceRules,
          getResources: async (refs) => refs.map(parseNamespaceResourceRef),
        });
        if (pgbackup.clusters.length === 0)
          logger.error('pgbackup: no usable cluster; every route answers 503 until the configuration is fixed');
        const router = createRouter({
          clusters: pgbackup.clusters.length > 0 ? pgbackup.clusters : [unavailableCluster()],
          logger,
          metrics: {
            endpoint: new MetricsEndpoint(pgbackup.clusters),
            auth: metricsAuth(config.getOptionalString('pgbackup.metrics.auth'), config.getOptionalStringArray('pgbackup.metrics.tokens')),
          },
          bodyLimit: config.getOptionalString('pgbackup.bodyLimit') ?? '16kb',
          guard: permissionGuard(httpAuth, permissions),
          resolveEntity: async (req, ref) => {
            const credentials = await httpAuth.credentials(req, { allow: ['user', 'service'] });
            const entityRef = stringifyEntityRef(ref);
            const entity = await catalog.getEntityByRef(entityRef, { credentials });
            if (!entity)
              throw notFound(`entity ${entityRef} not found in the catalog`, 'check the kind, namespace and name, and that you may see it');
            const annotations = entity.metadata.annotations ?? {};
            const statefulSet = annotations[EntityAnnotations.statefulSet];
            if (!statefulSet)
              throw new HttpProblem(404, 'Not Found', `entity ${entityRef} has no ${EntityAnnotations.statefulSet} annotation`, {
                code: 'MissingAnnotation',
                hint: `add metadata.annotations["${EntityAnnotations.statefulSet}"]: <StatefulSet name> (and "${EntityAnnotations.kubernetesNamespace}") to its catalog-info.yaml`,
              });
            const namespace = annotations[EntityAnnotations.kubernetesNamespace];
            for (const [key, value] of [
              [EntityAnnotations.statefulSet, statefulSet],
              [EntityAnnotations.kubernetesNamespace, namespace],
            ] as const) {
              const problem = value === undefined ? undefined : dns1123LabelProblem(value);
              if (problem)
                throw new HttpProblem(
                  422,
                  'Unprocessable Content',
                  `annotation ${key} of ${entityRef} is not a valid name ("${value}"): ${problem}`,
                  { code: 'InvalidAnnotation' },
                );
            }
            return { entityRef, statefulSet, namespace, cluster: annotations[EntityAnnotations.cluster] };
          },
          audit: async (req, eventId, meta) => {
            const event = await auditor.createEvent({
              eventId,
              severityLevel: eventId === 'backup-delete' ? 'high' : 'medium',
              request: req,
              meta,
            });
            return { success: (more) => event.success(more ? { meta: more } : undefined), fail: (error) => event.fail({ error }) };
          },
        });
        httpRouter.use(router);
        // The probes and the documentation; /metrics checks its own scrape token; every other route authenticates in its guard.
        for (const path of ['/health', '/openapi.json', '/api', '/metrics']) httpRouter.addAuthPolicy({ path, allow: 'unauthenticated' });
      },
    });
  },
});

/** Stands in when no cluster could be configured, so the API explains instead of crashing the backend. */
function unavailableCluster(): ClusterTarget {
  const fail = async (): Promise<never> => {
    throw new HttpProblem(503, 'Service Unavailable', 'pgbackup has no usable Kubernetes cluster', {
      code: 'Unavailable',
      hint: 'check pgbackup.clusters in app-config and the backend log',
    });
  };
  const port = new Proxy({}, { get: () => fail });
  return { name: 'unavailable', deps: new Proxy({}, { get: () => port }) as ClusterTarget['deps'] };
}
