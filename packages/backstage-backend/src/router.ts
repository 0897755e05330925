import {
  type Backup,
  BackupIdParamsSchema,
  CreateBackupBodySchema,
  CreateEntityBackupBodySchema,
  DeleteBackupQuerySchema,
  type Deps,
  EntityParamsSchema,
  ListBackupsQuerySchema,
  NamespaceQuerySchema,
  PvcParamsSchema,
  type ReadCache,
  RestoreBackupBodySchema,
  VerifyBackupBodySchema,
  restoreBackup,
  verifyBackup,
  StatefulSetParamsSchema,
  deleteBackup,
  findBackup,
  getBackup,
  getStatefulSetStatus,
  listBackups,
  listSnapshots,
  notFound,
  toBackupResource,
} from '@pgbackup/core';
import express, { type NextFunction, type Request, type RequestHandler, type Response, Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import { z } from 'zod';
import { type HealthOptions, healthRoutes } from './health.js';
import { type BackupRef, IdempotencyKeys } from './idempotency.js';
import type { Logger } from './logger.js';
import { openApiDocument } from './openapi.js';
import { HttpProblem, problemHandler, sendProblem, toProblem, validationProblem } from './problem.js';
import { BackupRunner } from './runner.js';

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

export type Action = 'read' | 'create' | 'delete' | 'restore';

/** What a request wants to do: on an entity (resource permission) or on a namespace/StatefulSet it names (basic permission). */
export interface AccessRequest {
  action: Action;
  entityRef?: string;
}

/** Where an entity's database lives, from its annotations. */
export interface EntityTarget {
  entityRef: string;
  cluster?: string;
  /** Kubernetes namespace; undefined = the cluster's default namespace. */
  namespace?: string;
  statefulSet: string;
}

export interface AuditEvent {
  success(meta?: Record<string, string | number | boolean>): Promise<void>;
  fail(error: Error): Promise<void>;
}

export interface RouterOptions {
  clusters: ClusterTarget[];
  logger: Logger;
  /**
   * Throws (401/403) unless the caller may do `access`; returns who the caller is (scopes
   * idempotency keys). Default: everyone may do everything.
   */
  authorize?: (req: Request, access: AccessRequest) => Promise<string | void>;
  /** Loads a catalog entity with the caller's credentials. Without it, entity routes answer 501. */
  resolveEntity?: (req: Request, ref: { kind: string; namespace: string; name: string }) => Promise<EntityTarget>;
  /** Records a write. Default: a log line. */
  audit?: (req: Request, eventId: string, meta: Record<string, string | number | boolean>) => Promise<AuditEvent>;
  runner?: BackupRunner;
  /** Request body limit (express.json `limit`). Default 16 KiB. */
  bodyLimit?: string | number;
  idempotency?: IdempotencyKeys;
  /** Health checks' behaviour (API reachability cache). */
  health?: HealthOptions;
  /** Who takes backups (the lock holder name). */
  holder?: string;
}

const EmptyQuerySchema = z.strictObject({});

type Handler = (req: Request, res: Response) => Promise<void>;

const wrap =
  (fn: Handler): RequestHandler =>
  (req: Request, res: Response, next: NextFunction) => {
    fn(req, res).catch(next);
  };

function parse<T extends z.ZodType>(schema: T, value: unknown, where: 'body' | 'query' | 'path' | 'header'): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationProblem(result.error, where);
  return result.data;
}

/** Query without the cross-cutting `cluster` parameter (each route's own query schema is strict). */
function splitCluster(req: Request): { cluster?: string; query: Record<string, unknown> } {
  const { cluster, ...query } = req.query as Record<string, unknown>;
  if (cluster !== undefined && typeof cluster !== 'string')
    throw new HttpProblem(400, 'Bad Request', 'query.cluster: must be a single string', {
      code: 'ValidationFailed',
      errors: [{ path: 'query.cluster', message: 'must be a single string' }],
    });
  return { cluster, query };
}

function requireJson(req: Request): void {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !req.is('application/json') && !req.is('application/*+json'))
    throw new HttpProblem(
      415,
      'Unsupported Media Type',
      `the request body must be application/json, not ${req.headers['content-type'] ?? 'untyped'}`,
      { code: 'UnsupportedMediaType' },
    );
}

/**
 * The pgbackup HTTP API. Routes are thin: parse with core's zod schemas, authorize, call one use
 * case, render. Every error leaves as `application/problem+json` through one mapper.
 */
export function createRouter(options: RouterOptions): Router {
  if (options.clusters.length === 0) throw new Error('pgbackup: at least one cluster is needed');
  const { logger } = options;
  const runner = options.runner ?? new BackupRunner(logger);
  const idempotency = options.idempotency ?? new IdempotencyKeys();
  const authorize = options.authorize ?? (async () => undefined);
  const audit =
    options.audit ??
    (async (_req: Request, eventId: string, meta: Record<string, string | number | boolean>): Promise<AuditEvent> => ({
      success: async (more) => logger.info(`audit ${eventId} succeeded`, { audit: eventId, ...meta, ...more }),
      fail: async (error) => logger.warn(`audit ${eventId} failed: ${error.message}`, { audit: eventId, ...meta }),
    }));
  const byName = new Map(options.clusters.map((c) => [c.name, c]));
  const cluster = (name?: string): ClusterTarget => {
    if (name === undefined) return options.clusters[0]!;
    const c = byName.get(name);
    if (!c) throw notFound(`cluster "${name}" is not configured`, `configured clusters: ${[...byName.keys()].join(', ')}`);
    return c;
  };
  const ns = (c: ClusterTarget, namespace?: string) => namespace ?? c.defaultNamespace ?? 'default';
  const writes = (c: ClusterTarget) => c.writeDeps ?? c.deps;

  const router = Router();
  router.use(express.json({ limit: options.bodyLimit ?? '16kb', strict: false, type: ['application/json', 'application/*+json'] }));

  const document = openApiDocument();
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  router.use('/api', swaggerUi.serve, swaggerUi.setup(document, { customSiteTitle: 'pgbackup API' }));
  router.use('/health', healthRoutes(options.clusters, options.health));

  /** Starts a backup (once per Idempotency-Key) and answers 202 with it as soon as its VolumeSnapshots exist. */
  const startBackup = async (
    req: Request,
    res: Response,
    c: ClusterTarget,
    input: { namespace: string; statefulSet: string; type: Backup['type']; snapshotClass?: string; pin: boolean },
    principal: string,
    auditMeta: Record<string, string | number | boolean>,
    locate: (ref: BackupRef) => string,
  ) => {
    const rawKey = req.get('Idempotency-Key');
    const event = await audit(req, 'backup-create', {
      cluster: c.name,
      namespace: input.namespace,
      statefulSet: input.statefulSet,
      ...auditMeta,
    });
    const create = async (): Promise<BackupRef> => {
      const backup = await runner.start(writes(c), { ...input, holder: options.holder ?? `pgbackup-api/${principal || 'anonymous'}` });
      return { namespace: backup.namespace, id: backup.id };
    };
    let ref: BackupRef;
    let replayed = false;
    try {
      if (rawKey !== undefined) {
        const key = IdempotencyKeys.validate(rawKey);
        const run = idempotency.run(`${c.name}\n${principal}`, key, input, create);
        replayed = run.replayed;
        ref = await run.result;
        res.setHeader('Idempotency-Key', key);
      } else ref = await create();
    } catch (e) {
      await event.fail(e instanceof Error ? e : new Error(String(e)));
      throw e;
    }
    await event.success({ backup: ref.id, replayed });
    const backup = await getBackup(writes(c), ref.namespace, ref.id);
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(202).location(locate(ref)).json(toBackupResource(backup));
  };

  const backupLocation = (req: Request, c: ClusterTarget) => (ref: BackupRef) =>
    `${req.baseUrl}/backup/${ref.id}?namespace=${ref.namespace}${c === options.clusters[0] ? '' : `&cluster=${encodeURIComponent(c.name)}`}`;

  // ---- Seed routes: addressed by namespace and StatefulSet, guarded by basic permissions.

  router.post(
    '/backup',
    wrap(async (req, res) => {
      requireJson(req);
      const { cluster: clusterName, query } = splitCluster(req);
      parse(EmptyQuerySchema, query, 'query');
      const body = parse(CreateBackupBodySchema, req.body, 'body');
      const principal = (await authorize(req, { action: 'create' })) ?? '';
      const c = cluster(clusterName);
      await startBackup(
        req,
        res,
        c,
        {
          namespace: body.namespace,
          statefulSet: body.databaseName,
          type: body.backupType,
          snapshotClass: body.snapshotClass,
          pin: body.pin,
        },
        principal,
        {},
        backupLocation(req, c),
      );
    }),
  );

  router.get(
    '/backup/statefulset/:name/status',
    wrap(async (req, res) => {
      const { cluster: clusterName, query } = splitCluster(req);
      const { name } = parse(StatefulSetParamsSchema, req.params, 'path');
      const { namespace } = parse(NamespaceQuerySchema, query, 'query');
      await authorize(req, { action: 'read' });
      const c = cluster(clusterName);
      const status = await getStatefulSetStatus(c.deps, ns(c, namespace), name);
      res.json(renderStatus(status));
    }),
  );

  router.get(
    '/backup/snapshots/:pvcName',
    wrap(async (req, res) => {
      const { cluster: clusterName, query } = splitCluster(req);
      const { pvcName } = parse(PvcParamsSchema, req.params, 'path');
      const { namespace } = parse(NamespaceQuerySchema, query, 'query');
      await authorize(req, { action: 'read' });
      const c = cluster(clusterName);
      const items = await listSnapshots(c.deps, ns(c, namespace), pvcName);
      res.json({ namespace: ns(c, namespace), pvc: pvcName, items });
    }),
  );

  router.get(
    '/backup/:id',
    wrap(async (req, res) => {
      const { cluster: clusterName, query } = splitCluster(req);
      const { id } = parse(BackupIdParamsSchema, req.params, 'path');
      const { namespace } = parse(NamespaceQuerySchema, query, 'query');
      await authorize(req, { action: 'read' });
      const backup = await findBackup(cluster(clusterName).deps, id, namespace);
      res.json(toBackupResource(backup));
    }),
  );

  router.get(
    '/backups',
    wrap(async (req, res) => {
      const { cluster: clusterName, query } = splitCluster(req);
      const q = parse(ListBackupsQuerySchema, query, 'query');
      await authorize(req, { action: 'read' });
      const backups = await listBackups(cluster(clusterName).deps, {
        namespace: q.namespace,
        statefulSet: q.statefulset,
        status: q.status,
      });
      // Only the page is rendered: a namespace with thousands of backups costs one page per request.
      const page = paginate(backups, q.limit, q.continue);
      res.json({ ...page, items: page.items.map(toBackupResource) });
    }),
  );

  router.delete(
    '/backup/:id',
    wrap(async (req, res) => {
      const { cluster: clusterName, query } = splitCluster(req);
      const { id } = parse(BackupIdParamsSchema, req.params, 'path');
      const q = parse(DeleteBackupQuerySchema, query, 'query');
      await authorize(req, { action: 'delete' });
      const c = cluster(clusterName);
      const namespace = q.namespace ?? (await findBackup(c.deps, id)).namespace;
      const event = await audit(req, 'backup-delete', {
        cluster: c.name,
        namespace,
        backup: id,
        force: q.force ?? false,
        dryRun: q.dryRun ?? false,
      });
      const deleted = await deleteBackup(writes(c), namespace, id, { force: q.force, dryRun: q.dryRun }).catch(async (e: unknown) => {
        await event.fail(e as Error);
        throw e;
      });
      await event.success();
      res.json(toBackupResource(deleted));
    }),
  );

  /** Restores (creates the PVCs and the StatefulSet; readiness follows) and answers the plan: 201, or 200 for a dry run. */
  const startRestore = async (
    req: Request,
    res: Response,
    c: ClusterTarget,
    namespace: string,
    id: string,
    meta: Record<string, string | number | boolean>,
  ) => {
    const body = parse(RestoreBackupBodySchema, req.body ?? {}, 'body');
    const event = await audit(req, 'backup-restore', {
      cluster: c.name,
      namespace,
      backup: id,
      to: body.to ?? '',
      inPlace: body.inPlace,
      replace: body.replace,
      dryRun: body.dryRun,
      ...meta,
    });
    const result = await restoreBackup(writes(c), {
      namespace,
      id,
      to: body.to,
      inPlace: body.inPlace,
      targetNamespace: body.targetNamespace,
      replace: body.replace,
      dryRun: body.dryRun,
    }).catch(async (e: unknown) => {
      await event.fail(e as Error);
      throw e;
    });
    await event.success();
    const { plan } = result;
    res
      .status(result.dryRun ? 200 : 201)
      .json({
        backupId: plan.backupId,
        dryRun: result.dryRun,
        source: plan.source,
        target: plan.target,
        delete: plan.delete,
        create: plan.create,
        notes: plan.notes,
        ...(result.preRestoreBackup ? { preRestoreBackup: result.preRestoreBackup } : {}),
      });
  };

  /**
   * Checks the backup can be verified (exists, completed, a scratch name is free), then verifies it
   * in the background and answers 202: the result appears on the backup (`verification`).
   */
  const startVerify = async (
    req: Request,
    res: Response,
    c: ClusterTarget,
    namespace: string,
    id: string,
    locate: string,
    meta: Record<string, string | number | boolean>,
  ) => {
    const body = parse(VerifyBackupBodySchema, req.body ?? {}, 'body');
    const backup = await getBackup(writes(c), namespace, id);
    if (backup.status !== 'completed')
      throw new HttpProblem(409, 'Conflict', `backup ${id} is ${backup.status}: only a completed backup can be verified`, {
        code: 'Conflict',
      });
    const event = await audit(req, 'backup-verify', { cluster: c.name, namespace, backup: id, ...meta });
    runner.track(`verification of ${namespace}/${id}`, async (signal) => {
      try {
        const report = await verifyBackup(writes(c), { namespace, id, sql: body.sql, database: body.database, signal });
        await event.success({ result: report.verification.result, restoreSeconds: report.verification.restoreSeconds ?? -1 });
        logger.info(`verification of ${namespace}/${id} ${report.verification.result}`, {
          backup: id,
          namespace,
          result: report.verification.result,
        });
      } catch (e) {
        await event.fail(e as Error);
        throw e;
      }
    });
    res
      .status(202)
      .location(locate)
      .json({ ...toBackupResource(backup), verifying: true });
  };

  router.post(
    '/backup/:id/restore',
    wrap(async (req, res) => {
      requireJson(req);
      const { cluster: clusterName, query } = splitCluster(req);
      const { id } = parse(BackupIdParamsSchema, req.params, 'path');
      const { namespace } = parse(NamespaceQuerySchema, query, 'query');
      await authorize(req, { action: 'restore' });
      const c = cluster(clusterName);
      await startRestore(req, res, c, namespace ?? (await findBackup(c.deps, id)).namespace, id, {});
    }),
  );

  router.post(
    '/backup/:id/verify',
    wrap(async (req, res) => {
      requireJson(req);
      const { cluster: clusterName, query } = splitCluster(req);
      const { id } = parse(BackupIdParamsSchema, req.params, 'path');
      const { namespace } = parse(NamespaceQuerySchema, query, 'query');
      await authorize(req, { action: 'read' });
      const c = cluster(clusterName);
      const resolved = namespace ?? (await findBackup(c.deps, id)).namespace;
      await startVerify(req, res, c, resolved, id, backupLocation(req, c)({ namespace: resolved, id }), {});
    }),
  );

  // ---- Entity routes: the StatefulSet comes from the catalog entity's annotations, never from the request.

  const entity = async (req: Request, action: Action) => {
    if (!options.resolveEntity)
      throw new HttpProblem(501, 'Not Implemented', 'entity routes need the Backstage catalog; this server runs standalone', {
        code: 'NotImplemented',
        hint: 'use /backup/statefulset/NAME/status and /backups?statefulset=NAME',
      });
    const ref = parse(EntityParamsSchema, { kind: req.params.kind, namespace: req.params.namespace, name: req.params.name }, 'path');
    const resolved = await options.resolveEntity(req, ref);
    const principal = (await authorize(req, { action, entityRef: resolved.entityRef })) ?? '';
    const c = cluster(resolved.cluster);
    const target = { ...resolved, namespace: ns(c, resolved.namespace) };
    return { target, principal, c };
  };

  router.get(
    '/entity/:kind/:namespace/:name',
    wrap(async (req, res) => {
      const { target, c } = await entity(req, 'read');
      const errors: { part: string; status: number; detail: string }[] = [];
      const partial = <T>(part: string, p: Promise<T>) =>
        p.catch((e: unknown) => {
          const problem = toProblem(e);
          if (problem.isServerError) logger.error(`reading ${part} of ${target.entityRef} failed`, e as Error);
          errors.push({ part, status: problem.status, detail: problem.detail });
          return undefined;
        });
      // One failing part (the StatefulSet deleted, a cluster down) must not blank the others.
      const [status, backups] = await Promise.all([
        partial('statefulset', getStatefulSetStatus(c.deps, target.namespace, target.statefulSet)),
        partial('backups', listBackups(c.deps, { namespace: target.namespace, statefulSet: target.statefulSet })),
      ]);
      res.json({
        entityRef: target.entityRef,
        cluster: c.name,
        namespace: target.namespace,
        statefulSet: target.statefulSet,
        ...(status ? { status: renderStatus(status) } : {}),
        backups: (backups ?? []).map(toBackupResource),
        errors,
      });
    }),
  );

  router.post(
    '/entity/:kind/:namespace/:name/backups',
    wrap(async (req, res) => {
      requireJson(req);
      const body = parse(CreateEntityBackupBodySchema, req.body ?? {}, 'body');
      const { target, principal, c } = await entity(req, 'create');
      await startBackup(
        req,
        res,
        c,
        { namespace: target.namespace, statefulSet: target.statefulSet, type: 'manual', snapshotClass: body.snapshotClass, pin: body.pin },
        principal,
        { entityRef: target.entityRef },
        backupLocation(req, c),
      );
    }),
  );

  const entityBackup = async (c: ClusterTarget, target: EntityTarget & { namespace: string }, id: string) => {
    const backup = await getBackup(c.deps, target.namespace, id);
    if (backup.statefulSet !== target.statefulSet)
      throw notFound(`backup "${id}" is not a backup of ${target.entityRef} (StatefulSet ${target.namespace}/${target.statefulSet})`);
    return backup;
  };

  router.delete(
    '/entity/:kind/:namespace/:name/backups/:id',
    wrap(async (req, res) => {
      const { id } = parse(BackupIdParamsSchema, { id: req.params.id }, 'path');
      const q = parse(DeleteBackupQuerySchema.omit({ namespace: true }), req.query, 'query');
      const { target, c } = await entity(req, 'delete');
      await entityBackup(c, target, id);
      const event = await audit(req, 'backup-delete', {
        cluster: c.name,
        namespace: target.namespace,
        backup: id,
        entityRef: target.entityRef,
        force: q.force ?? false,
      });
      const deleted = await deleteBackup(writes(c), target.namespace, id, { force: q.force, dryRun: q.dryRun }).catch(
        async (e: unknown) => {
          await event.fail(e as Error);
          throw e;
        },
      );
      await event.success();
      res.json(toBackupResource(deleted));
    }),
  );

  router.post(
    '/entity/:kind/:namespace/:name/backups/:id/restore',
    wrap(async (req, res) => {
      requireJson(req);
      const { id } = parse(BackupIdParamsSchema, { id: req.params.id }, 'path');
      const { target, c } = await entity(req, 'restore');
      await entityBackup(c, target, id);
      await startRestore(req, res, c, target.namespace, id, { entityRef: target.entityRef });
    }),
  );

  router.post(
    '/entity/:kind/:namespace/:name/backups/:id/verify',
    wrap(async (req, res) => {
      requireJson(req);
      const { id } = parse(BackupIdParamsSchema, { id: req.params.id }, 'path');
      const { target, c } = await entity(req, 'read');
      await entityBackup(c, target, id);
      await startVerify(req, res, c, target.namespace, id, backupLocation(req, c)({ namespace: target.namespace, id }), {
        entityRef: target.entityRef,
      });
    }),
  );

  router.use((req, res) => {
    sendProblem(
      res,
      {
        type: 'https://pgbackup.io/problems/not-found',
        title: 'Not Found',
        status: 404,
        detail: `no route ${req.method} ${req.path}`,
        code: 'NotFound',
        hint: `the routes are listed at ${req.baseUrl}/openapi.json`,
      },
      req.originalUrl,
    );
  });
  router.use(problemHandler(logger));
  return router;
}

function renderStatus(status: Awaited<ReturnType<typeof getStatefulSetStatus>>) {
  return {
    ...status,
    newestBackup: status.newestBackup && toBackupResource(status.newestBackup),
    newestCompletedBackup: status.newestCompletedBackup && toBackupResource(status.newestCompletedBackup),
  };
}

interface Cursor {
  id: string;
  startedAt: string;
}

/** Newest-first pages; the cursor names the last item, so new backups do not shift later pages. */
export function paginate<T extends { id: string; startedAt: string }>(
  items: T[],
  limit: number,
  token?: string,
): { items: T[]; continue?: string; total: number } {
  let start = 0;
  if (token) {
    const cursor = decodeCursor(token);
    const at = items.findIndex((b) => b.id === cursor.id);
    start = at >= 0 ? at + 1 : items.findIndex((b) => Date.parse(b.startedAt) < Date.parse(cursor.startedAt));
    if (start < 0) start = items.length;
  }
  const page = items.slice(start, start + limit);
  const last = page.at(-1);
  const more = start + limit < items.length && last;
  return { items: page, total: items.length, ...(more ? { continue: encodeCursor({ id: last.id, startedAt: last.startedAt }) } : {}) };
}

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');

function decodeCursor(token: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(token, 'base64url').toString()) as Cursor;
    if (typeof c.id === 'string' && typeof c.startedAt === 'string') return c;
  } catch {
    // fall through
  }
  throw new HttpProblem(400, 'Bad Request', 'query.continue: not a cursor this API returned', {
    code: 'ValidationFailed',
    errors: [{ path: 'query.continue', message: 'not a cursor this API returned' }],
  });
}
