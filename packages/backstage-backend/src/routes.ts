/**
 * The route table of the pgbackup HTTP API: each route declares its method, path, input schemas,
 * the access it needs (a verb on `backups.pgbackup.io`, or a subresource) and a handler that calls
 * one core use case. The same table drives express registration and authorization (router.ts) and
 * the OpenAPI document (openapi.ts).
 */
import {
  type Backup,
  type Deps,
  type ReadCache,
  BackupIdParamsSchema,
  CreateBackupBodySchema,
  CreateEntityBackupBodySchema,
  DeleteBackupQuerySchema,
  EntityParamsSchema,
  ListBackupsQuerySchema,
  NamespaceQuerySchema,
  PvcParamsSchema,
  RestoreBackupBodySchema,
  StatefulSetParamsSchema,
  VerifyBackupBodySchema,
  getBackup,
  getStatefulSetStatus,
  listBackups,
  listSnapshots,
  notFound,
  toBackupResource,
  toSnapshotResource,
  toStatefulSetStatusResource,
} from '@pgbackup/core';
import type { BackupAction } from '@pgbackup/core/permissions';
import type { Logger } from './logger.js';
import { paginate } from './paginate.js';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { toProblem } from './problem.js';

/** Kubernetes verbs on the virtual resource `backups.pgbackup.io` (the API group of docs/security.md). */
export type Verb = 'get' | 'list' | 'create' | 'delete';
export type Subresource = 'restore' | 'verify';

/** The API group, resource and subresources an admin grants with ordinary Roles. */
export const ACCESS_GROUP = 'pgbackup.io';
export const ACCESS_RESOURCE = 'backups';

/** One access a request needs. */
export interface AccessNeed {
  verb: Verb;
  subresource?: Subresource;
  /** '' = every namespace. Default: the request's namespace. */
  namespace?: string;
}

/** The Backstage action of an access (read covers get and list). */
export const actionOf = (need: Pick<AccessNeed, 'verb' | 'subresource'>): BackupAction =>
  need.subresource ?? (need.verb === 'get' || need.verb === 'list' ? 'read' : need.verb);

/** One Kubernetes cluster the API serves. */
export interface ClusterTarget {
  name: string;
  /** Reads (usually from the informer cache). */
  deps: Deps;
  /** Writes and the checks before them, straight on the API server. Defaults to `deps`. */
  writeDeps?: Deps;
  /** Namespace of requests that name none. */
  defaultNamespace?: string;
  cache?: ReadCache;
}

/** What a route's handler is given besides its input: one call per use case, audited where it writes. */
export interface RouteServices {
  cluster: ClusterTarget;
  logger: Logger;
  startBackup(
    ctx: RequestContext,
    input: { namespace: string; statefulSet: string; type: Backup['type']; snapshotClass?: string; pin: boolean },
    meta: AuditMeta,
  ): Promise<void>;
  deleteBackup(
    ctx: RequestContext,
    namespace: string,
    id: string,
    options: { force?: boolean; dryRun?: boolean },
    meta: AuditMeta,
  ): Promise<void>;
  restore(
    ctx: RequestContext,
    namespace: string,
    id: string,
    body: z.output<typeof RestoreBackupBodySchema>,
    meta: AuditMeta,
  ): Promise<void>;
  verify(ctx: RequestContext, namespace: string, id: string, body: z.output<typeof VerifyBackupBodySchema>, meta: AuditMeta): Promise<void>;
}

export type AuditMeta = Record<string, string | number | boolean>;

export interface RequestContext {
  req: Request;
  res: Response;
  principal: string;
}

/** The StatefulSet a catalog entity names, once the cluster side confirmed the link. */
export interface EntityTarget {
  entityRef: string;
  cluster?: string;
  namespace?: string;
  statefulSet: string;
}

export interface RouteContext<P, Q, B> {
  req: Request;
  res: Response;
  params: P;
  query: Q;
  body: B;
  /** The namespace the request acts in ('' = every namespace, for a list that names none). */
  namespace: string;
  /** Who asked (audit lines, idempotency keys). */
  principal: string;
  /** Entity routes: the entity's StatefulSet. */
  entity?: EntityTarget & { namespace: string };
  services: RouteServices;
}

export interface Route<P = unknown, Q = unknown, B = unknown> {
  method: 'get' | 'post' | 'delete';
  /** OpenAPI path template (`{id}`); express's `:id` is derived. */
  path: string;
  summary: string;
  tag: 'backups' | 'entities';
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Accepts an Idempotency-Key header. */
  idempotent?: boolean;
  /** Served only where a catalog resolves entities (the Backstage plugin). */
  entity?: boolean;
  /** The namespace the request acts in: undefined = the cluster's default; '' = every namespace. */
  namespace?: (input: { query: Q; body: B }) => string | undefined;
  /** Every access the request needs, checked in order before the handler runs. */
  access: (input: { query: Q; body: B; namespace: string }) => AccessNeed[];
  /** Success status and the component of its body. */
  ok: [number, string];
  /** Statuses the route answers besides the success (401/403 are added for every route). */
  errors: number[];
  handle: (ctx: RouteContext<P, Q, B>) => Promise<void>;
}

/** Infers a route's types from its schemas. */
const route = <P, Q, B>(r: Route<P, Q, B>): Route => r as unknown as Route;

const entityIdParams = EntityParamsSchema.extend({ id: BackupIdParamsSchema.shape.id });
const entityDeleteQuery = DeleteBackupQuerySchema.omit({ namespace: true });

/**
 * Routes outside the Kubernetes access model: the probes and the documents need no credentials;
 * `/metrics` has its own (open by default, or a scrape bearer token).
 */
export const PUBLIC_ROUTES: {
  method: 'get';
  path: string;
  summary: string;
  tag: 'health' | 'docs' | 'metrics';
  ok: [number, string | undefined];
  errors: number[];
}[] = [
  { method: 'get', path: '/health/live', summary: 'Liveness: the process answers', tag: 'health', ok: [200, 'Health'], errors: [] },
  {
    method: 'get',
    path: '/health/ready',
    summary: 'Readiness: caches synced, API server reachable, snapshot CRDs served',
    tag: 'health',
    ok: [200, 'Health'],
    errors: [503],
  },
  {
    method: 'get',
    path: '/health/startup',
    summary: 'Startup: every informer cache synced once',
    tag: 'health',
    ok: [200, 'Health'],
    errors: [503],
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document (OpenAPI 3.1, generated from the route table and the zod schemas)',
    tag: 'docs',
    ok: [200, undefined],
    errors: [],
  },
  {
    method: 'get',
    path: '/metrics',
    summary:
      'Prometheus metrics (text exposition format), computed from the informer cache: no Kubernetes API request per scrape. Open by default; with PGBACKUP_METRICS_AUTH=bearer (Backstage: pgbackup.metrics.auth) it needs one of the scrape tokens',
    tag: 'metrics',
    ok: [200, undefined],
    errors: [401],
  },
];

/** The routes in the order of the README: StatefulSet and backup routes, then entity routes. */
export const ROUTES: Route[] = [
  route({
    method: 'post',
    path: '/backup',
    summary: 'Start a backup of a StatefulSet (the seed body)',
    tag: 'backups',
    query: z.strictObject({}),
    body: CreateBackupBodySchema,
    idempotent: true,
    namespace: ({ body }) => body.namespace,
    access: () => [{ verb: 'create' }],
    ok: [202, 'Backup'],
    errors: [400, 404, 409, 413, 415, 422, 503],
    handle: async ({ body, namespace, services, ...ctx }) =>
      services.startBackup(
        ctx,
        { namespace, statefulSet: body.databaseName, type: body.backupType, snapshotClass: body.snapshotClass, pin: body.pin },
        {},
      ),
  }),
  route({
    method: 'get',
    path: '/backup/{id}',
    summary: 'A backup with every VolumeSnapshot and its verification',
    tag: 'backups',
    params: BackupIdParamsSchema,
    query: NamespaceQuerySchema,
    namespace: ({ query }) => query.namespace,
    access: () => [{ verb: 'get' }],
    ok: [200, 'Backup'],
    errors: [400, 404],
    handle: async ({ res, params, namespace, services }) => {
      res.json(toBackupResource(await getBackup(services.cluster.deps, namespace, params.id)));
    },
  }),
  route({
    method: 'get',
    path: '/backup/statefulset/{name}/status',
    summary: 'Replicas, newest backups, freshness (RPO) and next run of a StatefulSet',
    tag: 'backups',
    params: StatefulSetParamsSchema,
    query: NamespaceQuerySchema,
    namespace: ({ query }) => query.namespace,
    access: () => [{ verb: 'get' }],
    ok: [200, 'StatefulSetStatus'],
    errors: [400, 404],
    handle: async ({ res, params, namespace, services }) => {
      res.json(toStatefulSetStatusResource(await getStatefulSetStatus(services.cluster.deps, namespace, params.name)));
    },
  }),
  route({
    method: 'get',
    path: '/backup/snapshots/{pvcName}',
    summary: 'The managed VolumeSnapshots of one PersistentVolumeClaim',
    tag: 'backups',
    params: PvcParamsSchema,
    query: NamespaceQuerySchema,
    namespace: ({ query }) => query.namespace,
    access: () => [{ verb: 'list' }],
    ok: [200, 'SnapshotList'],
    errors: [400, 404],
    handle: async ({ res, params, namespace, services }) => {
      const items = await listSnapshots(services.cluster.deps, namespace, params.pvcName);
      res.json({ namespace, pvc: params.pvcName, items: items.map(toSnapshotResource) });
    },
  }),
  route({
    method: 'get',
    path: '/backups',
    summary: 'Backups, newest first, paginated (every namespace when none is named: needs list in all of them)',
    tag: 'backups',
    query: ListBackupsQuerySchema,
    namespace: ({ query }) => query.namespace ?? '',
    access: () => [{ verb: 'list' }],
    ok: [200, 'BackupPage'],
    errors: [400, 404],
    handle: async ({ res, query, namespace, services }) => {
      const backups = await listBackups(services.cluster.deps, {
        namespace: namespace || undefined,
        statefulSet: query.statefulset,
        status: query.status,
      });
      // Only the page is rendered: a namespace with thousands of backups costs one page per request.
      const page = paginate(backups, query.limit, query.continue);
      res.json({ ...page, items: page.items.map(toBackupResource) });
    },
  }),
  route({
    method: 'delete',
    path: '/backup/{id}',
    summary: 'Delete a backup (refuses the last completed or a pinned one unless force=true)',
    tag: 'backups',
    params: BackupIdParamsSchema,
    query: DeleteBackupQuerySchema,
    namespace: ({ query }) => query.namespace,
    access: () => [{ verb: 'delete' }],
    ok: [200, 'Backup'],
    errors: [400, 404, 409],
    handle: async ({ params, query, namespace, services, ...ctx }) => services.deleteBackup(ctx, namespace, params.id, query, {}),
  }),
  route({
    method: 'post',
    path: '/backup/{id}/restore',
    summary:
      "Restore a completed backup into a new StatefulSet (PVCs from its snapshots + the cloned StatefulSet); 200 with the plan for dryRun. Needs backups/restore in the backup's namespace and in targetNamespace",
    tag: 'backups',
    params: BackupIdParamsSchema,
    query: NamespaceQuerySchema,
    body: RestoreBackupBodySchema,
    namespace: ({ query }) => query.namespace,
    access: ({ body, namespace }) => restoreAccess(body.targetNamespace, namespace),
    ok: [201, 'RestoreResult'],
    errors: [400, 404, 409, 415, 422],
    handle: async ({ params, body, namespace, services, ...ctx }) => services.restore(ctx, namespace, params.id, body, {}),
  }),
  route({
    method: 'post',
    path: '/backup/{id}/verify',
    summary:
      "Verify a backup: restore it aside and run the named checks; runs in the background, the result appears as the backup's verification",
    tag: 'backups',
    params: BackupIdParamsSchema,
    query: NamespaceQuerySchema,
    body: VerifyBackupBodySchema,
    namespace: ({ query }) => query.namespace,
    access: () => [{ verb: 'create', subresource: 'verify' }],
    ok: [202, 'Backup'],
    errors: [400, 404, 409, 415, 422],
    handle: async ({ params, body, namespace, services, ...ctx }) => services.verify(ctx, namespace, params.id, body, {}),
  }),

  // ---- Entity routes: the StatefulSet comes from the catalog entity, confirmed by the StatefulSet's annotation.

  route({
    method: 'get',
    path: '/entity/{kind}/{namespace}/{name}',
    summary: 'Backups and status of the database of a catalog entity (the StatefulSet must name the entity back)',
    tag: 'entities',
    params: EntityParamsSchema,
    query: z.strictObject({}),
    entity: true,
    access: () => [{ verb: 'get' }],
    ok: [200, 'EntityBackups'],
    errors: [400, 404],
    handle: async ({ res, entity, services }) => {
      const target = entity!;
      const { deps } = services.cluster;
      const errors: { part: string; status: number; detail: string }[] = [];
      const partial = <T>(part: string, p: Promise<T>) =>
        p.catch((e: unknown) => {
          const problem = toProblem(e);
          if (problem.isServerError) services.logger.error(`reading ${part} of ${target.entityRef} failed`, e as Error);
          errors.push({ part, status: problem.status, detail: problem.detail });
          return undefined;
        });
      // One failing part (the StatefulSet deleted, a cluster down) must not blank the others.
      const [status, backups] = await Promise.all([
        partial('statefulset', getStatefulSetStatus(deps, target.namespace, target.statefulSet)),
        partial('backups', listBackups(deps, { namespace: target.namespace, statefulSet: target.statefulSet })),
      ]);
      res.json({
        entityRef: target.entityRef,
        cluster: services.cluster.name,
        namespace: target.namespace,
        statefulSet: target.statefulSet,
        ...(status ? { status: toStatefulSetStatusResource(status) } : {}),
        backups: (backups ?? []).map(toBackupResource),
        errors,
      });
    },
  }),
  route({
    method: 'post',
    path: '/entity/{kind}/{namespace}/{name}/backups',
    summary: "Back up a catalog entity's database now",
    tag: 'entities',
    params: EntityParamsSchema,
    query: z.strictObject({}),
    body: CreateEntityBackupBodySchema,
    idempotent: true,
    entity: true,
    access: () => [{ verb: 'create' }],
    ok: [202, 'Backup'],
    errors: [400, 404, 409, 413, 415, 422],
    handle: async ({ body, entity, services, ...ctx }) =>
      services.startBackup(
        ctx,
        {
          namespace: entity!.namespace,
          statefulSet: entity!.statefulSet,
          type: 'manual',
          snapshotClass: body.snapshotClass,
          pin: body.pin,
        },
        { entityRef: entity!.entityRef },
      ),
  }),
  route({
    method: 'delete',
    path: '/entity/{kind}/{namespace}/{name}/backups/{id}',
    summary: "Delete a backup of a catalog entity's database",
    tag: 'entities',
    params: entityIdParams,
    query: entityDeleteQuery,
    entity: true,
    access: () => [{ verb: 'delete' }],
    ok: [200, 'Backup'],
    errors: [400, 404, 409],
    handle: async ({ params, query, entity, services, ...ctx }) => {
      await entityBackup(services, entity!, params.id);
      await services.deleteBackup(ctx, entity!.namespace, params.id, query, { entityRef: entity!.entityRef });
    },
  }),
  route({
    method: 'post',
    path: '/entity/{kind}/{namespace}/{name}/backups/{id}/restore',
    summary: "Restore a backup of an entity's database into a new StatefulSet (targetNamespace needs its own restore permission)",
    tag: 'entities',
    params: entityIdParams,
    query: z.strictObject({}),
    body: RestoreBackupBodySchema,
    entity: true,
    access: ({ body, namespace }) => restoreAccess(body.targetNamespace, namespace),
    ok: [201, 'RestoreResult'],
    errors: [400, 404, 409, 415, 422],
    handle: async ({ params, body, entity, services, ...ctx }) => {
      await entityBackup(services, entity!, params.id);
      await services.restore(ctx, entity!.namespace, params.id, body, { entityRef: entity!.entityRef });
    },
  }),
  route({
    method: 'post',
    path: '/entity/{kind}/{namespace}/{name}/backups/{id}/verify',
    summary: "Verify a backup of an entity's database (in the background)",
    tag: 'entities',
    params: entityIdParams,
    query: z.strictObject({}),
    body: VerifyBackupBodySchema,
    entity: true,
    access: () => [{ verb: 'create', subresource: 'verify' }],
    ok: [202, 'Backup'],
    errors: [400, 404, 409, 415, 422],
    handle: async ({ params, body, entity, services, ...ctx }) => {
      await entityBackup(services, entity!, params.id);
      await services.verify(ctx, entity!.namespace, params.id, body, { entityRef: entity!.entityRef });
    },
  }),
];

/** A restore acts in the backup's namespace and, when it differs, in the target namespace: each authorized on its own. */
function restoreAccess(targetNamespace: string | undefined, namespace: string): AccessNeed[] {
  const needs: AccessNeed[] = [{ verb: 'create', subresource: 'restore' }];
  if (targetNamespace !== undefined && targetNamespace !== namespace)
    needs.push({ verb: 'create', subresource: 'restore', namespace: targetNamespace });
  return needs;
}

/** The backup, if it is one of the entity's StatefulSet (else 404: an entity reaches only its own backups). */
async function entityBackup(services: RouteServices, target: EntityTarget & { namespace: string }, id: string) {
  const backup = await getBackup(services.cluster.deps, target.namespace, id);
  if (backup.statefulSet !== target.statefulSet)
    throw notFound(`backup "${id}" is not a backup of ${target.entityRef} (StatefulSet ${target.namespace}/${target.statefulSet})`);
  return backup;
}
