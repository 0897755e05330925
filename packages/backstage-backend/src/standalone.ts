import { timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubernetesTokenReviewer, type TokenReviewer, cachedKubernetesDeps, loadKubeConfig } from '@pgbackup/core';
import express, { type Request } from 'express';
import { type Logger, jsonLogger, parseLevel } from './logger.js';
import { HttpProblem } from './problem.js';
import { type AccessRequest, type ClusterTarget, createRouter } from './router.js';
import { BackupRunner } from './runner.js';

/**
 * Environment of the standalone server:
 * - PORT (3000), HOST (0.0.0.0), LOG_LEVEL (info: error|warn|info|debug)
 * - KUBECONFIG / ~/.kube/config / in-cluster ServiceAccount (kubectl's order), PGBACKUP_CONTEXT
 * - PGBACKUP_NAMESPACE: namespace of requests that name none (default: the kubeconfig's, or the pod's)
 * - PGBACKUP_WATCH_NAMESPACES: comma-separated namespaces to cache (default: the whole cluster)
 * - Writes need a bearer token: PGBACKUP_API_TOKEN (comma-separated static tokens) and/or
 *   PGBACKUP_TOKEN_REVIEW=true (any token the API server authenticates; restrict with
 *   PGBACKUP_ALLOWED_SUBJECTS, comma-separated usernames or groups). PGBACKUP_INSECURE_WRITES=true
 *   disables the check (development only). Reads need no token.
 * - PGBACKUP_SHUTDOWN_GRACE_SECONDS (25): how long SIGTERM waits for running backups.
 */
export interface StandaloneOptions {
  env?: Record<string, string | undefined>;
  logger?: Logger;
  /** Use these ports instead of connecting to a cluster (tests). */
  cluster?: ClusterTarget;
  tokenReviewer?: TokenReviewer;
}

export interface Standalone {
  server: Server;
  url: string;
  /** Stops accepting requests, waits for running backups (up to the grace), stops the cache. */
  close(): Promise<void>;
}

/** The bearer-token check for writes; reads pass. */
export function bearerAuthorizer(env: Record<string, string | undefined>, reviewer: TokenReviewer | undefined, logger: Logger) {
  const staticTokens = (env.PGBACKUP_API_TOKEN ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((t) => Buffer.from(t));
  const review = env.PGBACKUP_TOKEN_REVIEW === 'true' ? reviewer : undefined;
  const allowed = (env.PGBACKUP_ALLOWED_SUBJECTS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const insecure = env.PGBACKUP_INSECURE_WRITES === 'true';
  if (insecure) logger.warn('PGBACKUP_INSECURE_WRITES=true: anyone who reaches the server can create and delete backups');
  else if (staticTokens.length === 0 && !review)
    logger.warn('no PGBACKUP_API_TOKEN and no PGBACKUP_TOKEN_REVIEW=true: every write will be refused (401)');
  const unauthorized = (detail: string) =>
    new HttpProblem(401, 'Unauthorized', detail, {
      code: 'Unauthorized',
      hint: "send Authorization: Bearer <token> (the server's PGBACKUP_API_TOKEN, or a ServiceAccount token when TokenReview is on)",
    });

  return async (req: Request, access: AccessRequest): Promise<string> => {
    if (access.action === 'read' || insecure) return 'anonymous';
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw unauthorized(`${access.action} needs a bearer token`);
    const token = Buffer.from(match[1]!);
    if (staticTokens.some((t) => t.length === token.length && timingSafeEqual(t, token))) return 'token';
    if (!review) throw unauthorized('the bearer token is not accepted');
    const identity = await review.review(match[1]!);
    if (!identity.authenticated)
      throw unauthorized(`the API server did not authenticate the token${identity.error ? `: ${identity.error}` : ''}`);
    const subjects = [identity.username ?? '', ...(identity.groups ?? [])];
    if (allowed.length > 0 && !subjects.some((s) => allowed.includes(s)))
      throw new HttpProblem(403, 'Forbidden', `${identity.username} may not ${access.action} backups`, {
        code: 'Forbidden',
        hint: 'add it (or one of its groups) to PGBACKUP_ALLOWED_SUBJECTS',
      });
    return identity.username ?? 'serviceaccount';
  };
}

export async function startStandalone(options: StandaloneOptions = {}): Promise<Standalone> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? jsonLogger(parseLevel(env.LOG_LEVEL), undefined, { service: 'pgbackup-api' });
  let cluster = options.cluster;
  let reviewer = options.tokenReviewer;
  if (!cluster) {
    const loaded = loadKubeConfig({ context: env.PGBACKUP_CONTEXT, namespace: env.PGBACKUP_NAMESPACE, env });
    const namespaces = env.PGBACKUP_WATCH_NAMESPACES?.split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    const { deps, direct, cache } = cachedKubernetesDeps(loaded, { namespaces });
    cluster = { name: loaded.contextName ?? 'in-cluster', deps, writeDeps: direct, cache, defaultNamespace: loaded.namespace };
    reviewer ??= new KubernetesTokenReviewer(loaded.kubeConfig);
    logger.info(
      `cluster ${cluster.name}: ${loaded.kubeConfig.getCurrentCluster()?.server ?? '?'}; caching ${namespaces?.join(', ') || 'every namespace'}`,
    );
  }
  const runner = new BackupRunner(logger);
  let shuttingDown = false;

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use((req, res, next) => {
    const start = process.hrtime.bigint();
    const path = req.path; // before routers strip their mount path
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const line = { method: req.method, path, status: res.statusCode, ms: Math.round(ms * 100) / 100 };
      if (res.statusCode >= 500) logger.warn('request', line);
      else logger.debug('request', line);
    });
    next();
  });
  // While draining, the readiness probe fails so the Service stops sending new requests.
  app.get('/health/ready', (_req, res, next) => {
    if (shuttingDown) res.status(503).json({ status: 'unavailable', checks: [{ name: 'shutdown', ok: false, detail: 'shutting down' }] });
    else next();
  });
  app.use(
    createRouter({
      clusters: [cluster],
      logger,
      runner,
      authorize: bearerAuthorizer(env, reviewer, logger),
      holder: 'pgbackup-api',
    }),
  );

  cluster.cache?.start().then(
    () =>
      logger.info(cluster.cache?.synced() ? 'cache synced' : 'cache not synced yet (see /health/ready)', {
        informers: cluster.cache?.status() ?? [],
      } as Record<string, unknown>),
    (e: unknown) => logger.error('cache failed to start', e as Error),
  );

  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number (got "${env.PORT}")`);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, env.HOST ?? '0.0.0.0', () => resolve(s));
    s.once('error', reject);
  });
  server.keepAliveTimeout = 65_000;
  const address = server.address() as AddressInfo;
  const url = `http://${address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address}:${address.port}`;
  logger.info(`listening on ${url}`, { port: address.port });

  const graceMs = Number(env.PGBACKUP_SHUTDOWN_GRACE_SECONDS ?? 25) * 1000;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      shuttingDown = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await runner.drain(graceMs);
      await Promise.race([stopped, new Promise((r) => setTimeout(r, 5000).unref())]);
      server.closeAllConnections();
      await cluster.cache?.stop();
      logger.info('stopped');
    })());
  return { server, url, close };
}

/** The `pgbackup-api` program: start, and stop gracefully on SIGTERM/SIGINT. */
export async function main(): Promise<void> {
  let standalone: Standalone;
  try {
    standalone = await startStandalone();
  } catch (e) {
    process.stderr.write(
      JSON.stringify({
        level: 'error',
        time: new Date().toISOString(),
        msg: `pgbackup-api cannot start: ${(e as Error).message}`,
        hint: (e as { hint?: { text?: string } }).hint?.text,
      }) + '\n',
    );
    process.exit(1);
  }
  const stop = (signal: string) => {
    process.stdout.write(JSON.stringify({ level: 'info', time: new Date().toISOString(), msg: `${signal}: shutting down` }) + '\n');
    const hard = setTimeout(() => process.exit(1), Number(process.env.PGBACKUP_SHUTDOWN_GRACE_SECONDS ?? 25) * 1000 + 10_000);
    hard.unref();
    standalone.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
