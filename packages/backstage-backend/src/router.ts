import { confirmEntityLink, getBackup, notFound, restoreBackup, toBackupResource, verifyBackup, deleteBackup } from '@pgbackup/core';
import express, { type NextFunction, type Request, type RequestHandler, type Response, Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import type { z } from 'zod';
import { type HealthOptions, healthRoutes } from './health.js';
import { type BackupRef, IdempotencyKeys } from './idempotency.js';
import type { Logger } from './logger.js';
import { type MetricsAuth, MetricsEndpoint, authorizeScrape } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { HttpProblem, problemHandler, sendProblem, validationProblem } from './problem.js';
import {
  type AccessNeed,
  type AuditMeta,
  type ClusterTarget,
  type EntityTarget,
  PUBLIC_ROUTES,
  ROUTES,
  type RequestContext,
  type Route,
  type RouteServices,
} from './routes.js';
import { BackupRunner } from './runner.js';

export type { ClusterTarget, EntityTarget } from './routes.js';

/** Who is calling, as the guard authenticated them. */
export interface Caller {
  /** Shown on audit lines and scoping idempotency keys (a username, a user entity ref). */
  name: string;
}

/** One access a request needs, resolved: which cluster and namespace, and the entity for entity routes. */
export interface Access extends Required<Pick<AccessNeed, 'verb' | 'namespace'>> {
  subresource?: AccessNeed['subresource'];
  cluster: string;
  entityRef?: string;
}

/** Authentication and authorization of every route that is not a probe or the documentation. */
export interface Guard<C extends Caller = Caller> {
  /** Who is calling; throws 401 without valid credentials. Runs before the request is even parsed. */
  authenticate(req: Request): Promise<C>;
  /** Throws 403 unless the caller may have `access`. */
  authorize(req: Request, caller: C, access: Access): Promise<void>;
}

/** Everyone may do everything (tests, and servers that sit behind their own guard). */
export const openGuard: Guard = { authenticate: async () => ({ name: 'anonymous' }), authorize: async () => undefined };

export interface AuditEvent {
  success(meta?: Record<string, string | number | boolean>): Promise<void>;
  fail(error: Error): Promise<void>;
}

export interface RouterOptions {
  clusters: ClusterTarget[];
  logger: Logger;
  guard?: Guard<Caller>;
  /** Loads a catalog entity with the caller's credentials. Without it, entity routes are not served (nor documented). */
  resolveEntity?: (req: Request, ref: { kind: string; namespace: string; name: string }) => Promise<EntityTarget>;
  /** Records a write; `meta.principal` says who. Default: a log line. */
  audit?: (req: Request, eventId: string, meta: AuditMeta) => Promise<AuditEvent>;
  runner?: BackupRunner;
  /** Request body limit (express.json `limit`). Default 16 KiB. */
  bodyLimit?: string | number;
  idempotency?: IdempotencyKeys;
  /** Health checks' behaviour (API reachability cache). */
  health?: HealthOptions;
  /** Who takes backups (the lock holder name). */
  holder?: string;
  /** `/metrics` and who may scrape it. Default: the clusters' caches, open. */
  metrics?: { endpoint: MetricsEndpoint; auth: MetricsAuth };
}

const wrap =
  (fn: (req: Request, res: Response) => Promise<void>): RequestHandler =>
  (req: Request, res: Response, next: NextFunction) => {
    fn(req, res).catch(next);
  };

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: 'body' | 'query' | 'path'): T {
  if (!schema) return undefined as T;
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

const PROBES = ['/live', '/ready', '/startup'];

const expressPath = (template: string) => template.replace(/\{(\w+)\}/g, ':$1');

/** The routes a router serves: entity routes only where a catalog resolves entities. */
export const servedRoutes = (options: { entities: boolean }): Route[] => ROUTES.filter((r) => options.entities || !r.entity);

/**
 * The pgbackup HTTP API, registered from the route table: authenticate, parse, authorize every
 * access the route declares, call its use case. Every error leaves as `application/problem+json`;
 * a known path with another method answers 405 with `Allow`.
 */
export function createRouter(options: RouterOptions): Router {
  if (options.clusters.length === 0) throw new Error('pgbackup: at least one cluster is needed');
  const { logger } = options;
  const runner = options.runner ?? new BackupRunner(logger);
  const idempotency = options.idempotency ?? new IdempotencyKeys();
  const guard = options.guard ?? openGuard;
  const audit =
    options.audit ??
    (async (_req: Request, eventId: string, meta: AuditMeta): Promise<AuditEvent> => ({
      success: async (more) => logger.info(`audit ${eventId} succeeded`, { audit: eventId, ...meta, ...more }),
      fail: async (error) => logger.warn(`audit ${eventId} failed: ${error.message}`, { audit: eventId, ...meta }),
    }));
  const byName = new Map(options.clusters.map((c) => [c.name, c]));
  const clusterNamed = (name?: string): ClusterTarget => {
    if (name === undefined) return options.clusters[0]!;
    const c = byName.get(name);
    if (!c) throw notFound(`cluster "${name}" is not configured`, `configured clusters: ${[...byName.keys()].join(', ')}`);
    return c;
  };
  const routes = servedRoutes({ entities: options.resolveEntity !== undefined });

  const router = Router();
  // The route template each request matched (a bounded label of the request metrics), set by the handlers below.
  const templates = new WeakMap<Request, string>();
  const metrics: NonNullable<RouterOptions['metrics']> = options.metrics ?? {
    endpoint: new MetricsEndpoint(options.clusters),
    auth: { mode: 'open' },
  };
  router.use((req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () =>
      metrics.endpoint.observeRequest(
        req.method,
        templates.get(req) ?? 'unmatched',
        res.statusCode,
        Number(process.hrtime.bigint() - start) / 1e9,
      ),
    );
    next();
  });
  const matched =
    (template: string): RequestHandler =>
    (req, _res, next) => {
      templates.set(req, template);
      next();
    };
  router.use(express.json({ limit: options.bodyLimit ?? '16kb', strict: false, type: ['application/json', 'application/*+json'] }));

  const document = openApiDocument(routes);
  router.get('/openapi.json', matched('/openapi.json'), (_req, res) => {
    res.json(document);
  });
  router.use('/api', matched('/api'), swaggerUi.serve, swaggerUi.setup(document, { customSiteTitle: 'pgbackup API' }));
  router.use(
    '/health',
    (req, _res, next) => {
      if (PROBES.includes(req.path)) templates.set(req, `/health${req.path}`);
      next();
    },
    healthRoutes(options.clusters, options.health),
  );
  router.get(
    '/metrics',
    matched('/metrics'),
    wrap(async (req, res) => {
      authorizeScrape(metrics.auth, req);
      const text = await metrics.endpoint.render();
      res.setHeader('Content-Type', metrics.endpoint.contentType);
      res.send(text);
    }),
  );

  const services = (req: Request, c: ClusterTarget): RouteServices => {
    const writes = c.writeDeps ?? c.deps;
    const locate = (ref: BackupRef) =>
      `${req.baseUrl}/backup/${ref.id}?namespace=${ref.namespace}${c === options.clusters[0] ? '' : `&cluster=${encodeURIComponent(c.name)}`}`;
    /** Runs a write under an audit event that names the principal. */
    const audited = async <T>(
      ctx: RequestContext,
      eventId: string,
      meta: AuditMeta,
      work: () => Promise<T>,
      more?: (t: T) => AuditMeta,
    ) => {
      const event = await audit(ctx.req, eventId, { cluster: c.name, principal: ctx.principal, ...meta });
      let result: T;
      try {
        result = await work();
      } catch (e) {
        await event.fail(e instanceof Error ? e : new Error(String(e)));
        throw e;
      }
      await event.success(more?.(result));
      return result;
    };
    return {
      cluster: c,
      logger,
      /** Starts a backup (once per Idempotency-Key) and answers 202 with it as soon as its VolumeSnapshots exist. */
      startBackup: async (ctx, input, meta) => {
        const rawKey = ctx.req.get('Idempotency-Key');
        const create = async (): Promise<BackupRef> => {
          const backup = await runner.start(writes, { ...input, holder: options.holder ?? `pgbackup-api/${ctx.principal}` });
          return { namespace: backup.namespace, id: backup.id };
        };
        const { ref, replayed } = await audited(
          ctx,
          'backup-create',
          { namespace: input.namespace, statefulSet: input.statefulSet, ...meta },
          async () => {
            if (rawKey === undefined) return { ref: await create(), replayed: false };
            const key = IdempotencyKeys.validate(rawKey);
            const run = idempotency.run(`${c.name}\n${ctx.principal}`, key, input, create);
            ctx.res.setHeader('Idempotency-Key', key);
            return { ref: await run.result, replayed: run.replayed };
          },
          (r) => ({ backup: r.ref.id, replayed: r.replayed }),
        );
        const backup = await getBackup(writes, ref.namespace, ref.id);
        if (replayed) ctx.res.setHeader('Idempotent-Replayed', 'true');
        ctx.res.status(202).location(locate(ref)).json(toBackupResource(backup));
      },
      deleteBackup: async (ctx, namespace, id, q, meta) => {
        const deleted = await audited(
          ctx,
          'backup-delete',
          { namespace, backup: id, force: q.force ?? false, dryRun: q.dryRun ?? false, ...meta },
          () => deleteBackup(writes, namespace, id, { force: q.force, dryRun: q.dryRun }),
        );
        ctx.res.json(toBackupResource(deleted));
      },
      /** Restores (creates the PVCs and the StatefulSet; readiness follows) and answers the plan: 201, or 200 for a dry run. */
      restore: async (ctx, namespace, id, body, meta) => {
        const result = await audited(
          ctx,
          'backup-restore',
          {
            namespace,
            backup: id,
            to: body.to ?? '',
            targetNamespace: body.targetNamespace ?? namespace,
            inPlace: body.inPlace,
            replace: body.replace,
            dryRun: body.dryRun,
            ...meta,
          },
          // Drained on shutdown: interrupted, an in-place restore rolls back (or is recorded for recover).
          () =>
            runner.run((signal) =>
              restoreBackup(writes, {
                namespace,
                id,
                to: body.to,
                inPlace: body.inPlace,
                targetNamespace: body.targetNamespace,
                replace: body.replace,
                dryRun: body.dryRun,
                signal,
              }),
            ),
        );
        const { plan } = result;
        const ref = (o: { kind: string; namespace?: string; name: string }) => ({
          kind: o.kind,
          namespace: o.namespace ?? '',
          name: o.name,
        });
        ctx.res.status(result.dryRun ? 200 : 201).json({
          backupId: plan.backupId,
          dryRun: result.dryRun,
          source: plan.source,
          target: plan.target,
          delete: plan.delete.map(ref),
          create: plan.create.map((o) => ref({ kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name })),
          notes: plan.notes,
          ...(result.preRestoreBackup ? { preRestoreBackup: result.preRestoreBackup } : {}),
        });
      },
      /**
       * Checks the backup can be verified (exists, completed), then verifies it in the background
       * and answers 202: the result appears on the backup (`verification`).
       */
      verify: async (ctx, namespace, id, _body, meta) => {
        const backup = await getBackup(writes, namespace, id);
        if (backup.status !== 'completed')
          throw new HttpProblem(409, 'Conflict', `backup ${id} is ${backup.status}: only a completed backup can be verified`, {
            code: 'Conflict',
          });
        const event = await audit(ctx.req, 'backup-verify', { cluster: c.name, principal: ctx.principal, namespace, backup: id, ...meta });
        runner.track(`verification of ${namespace}/${id}`, async (signal) => {
          try {
            const report = await verifyBackup(writes, { namespace, id, signal });
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
        ctx.res
          .status(202)
          .location(locate({ namespace, id }))
          .json({ ...toBackupResource(backup), verifying: true });
      },
    };
  };

  for (const route of routes) {
    router[route.method](
      expressPath(route.path),
      matched(route.path),
      wrap(async (req, res) => {
        const caller = await guard.authenticate(req);
        if (route.body) requireJson(req);
        const { cluster: clusterName, query: rawQuery } = route.entity ? { cluster: undefined, query: req.query } : splitCluster(req);
        const params = parse(route.params, req.params, 'path');
        const query = parse(route.query, rawQuery, 'query');
        const body = parse(route.body, req.body ?? {}, 'body');
        let entity: (EntityTarget & { namespace: string }) | undefined;
        let c: ClusterTarget;
        let namespace: string;
        if (route.entity) {
          const { kind, namespace: entityNamespace, name } = params as { kind: string; namespace: string; name: string };
          const target = await options.resolveEntity!(req, { kind, namespace: entityNamespace, name });
          c = clusterNamed(target.cluster);
          namespace = target.namespace ?? c.defaultNamespace ?? 'default';
          entity = { ...target, namespace };
        } else {
          c = clusterNamed(clusterName);
          namespace = route.namespace?.({ query, body }) ?? c.defaultNamespace ?? 'default';
        }
        for (const need of route.access({ query, body, namespace }))
          await guard.authorize(req, caller, {
            verb: need.verb,
            subresource: need.subresource,
            namespace: need.namespace ?? namespace,
            cluster: c.name,
            entityRef: need.namespace === undefined ? entity?.entityRef : undefined,
          });
        if (entity) await confirmEntityLink(c.deps, entity.namespace, entity.statefulSet, entity.entityRef);
        await route.handle({ req, res, params, query, body, namespace, principal: caller.name, entity, services: services(req, c) });
      }),
    );
  }

  // A known path with a method it does not serve: 405 with the methods it does.
  const methods = new Map<string, string[]>();
  for (const r of [...routes, ...PUBLIC_ROUTES])
    methods.set(expressPath(r.path), [...(methods.get(expressPath(r.path)) ?? []), r.method.toUpperCase()]);
  for (const [path, allowed] of methods) {
    const allow = [...allowed, ...(allowed.includes('GET') ? ['HEAD'] : [])].join(', ');
    router.all(path, (req, res) => {
      res.setHeader('Allow', allow);
      sendProblem(
        res,
        {
          type: 'https://pgbackup.io/problems/method-not-allowed',
          title: 'Method Not Allowed',
          status: 405,
          detail: `${req.method} is not served on ${req.path}; allowed: ${allow}`,
          code: 'MethodNotAllowed',
        },
        req.originalUrl,
      );
    });
  }

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
