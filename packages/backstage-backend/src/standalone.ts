import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Server, createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  KubernetesSubjectAccessReviewer,
  KubernetesTokenReviewer,
  type SubjectAccessReviewer,
  type TokenIdentity,
  type TokenReviewer,
  type UserInfo,
  cachedKubernetesDeps,
  loadKubeConfig,
} from '@pgbackup/core';
import express, { type Request } from 'express';
import { type Logger, jsonLogger, parseLevel } from './logger.js';
import { MetricsEndpoint, metricsAuth } from './metrics.js';
import { HttpProblem } from './problem.js';
import { type Access, type Caller, type Guard, createRouter } from './router.js';
import { ACCESS_GROUP, ACCESS_RESOURCE, type ClusterTarget } from './routes.js';
import { BackupRunner } from './runner.js';

/**
 * Environment of the standalone server:
 * - PORT (3000), HOST (0.0.0.0), LOG_LEVEL (info: error|warn|info|debug)
 * - KUBECONFIG / ~/.kube/config / in-cluster ServiceAccount (kubectl's order), PGBACKUP_CONTEXT
 * - PGBACKUP_NAMESPACE: namespace of requests that name none (default: the kubeconfig's, or the pod's)
 * - PGBACKUP_WATCH_NAMESPACES: comma-separated namespaces to cache (default: the whole cluster)
 * - PGBACKUP_AUTH: `token-review` (default): every request but the probes and the documentation needs
 *   a Kubernetes bearer token for PGBACKUP_TOKEN_AUDIENCE (default `pgbackup`), and the API server's
 *   RBAC decides (SubjectAccessReview on backups.pgbackup.io in the namespace). `static-token`:
 *   development only, any of PGBACKUP_API_TOKEN (comma-separated) may do everything.
 * - PGBACKUP_AUTH_CACHE_SECONDS (10): how long a TokenReview or SubjectAccessReview answer is reused.
 * - PGBACKUP_TLS_CERT_FILE / PGBACKUP_TLS_KEY_FILE: serve HTTPS with this certificate (PEM).
 * - PGBACKUP_SHUTDOWN_GRACE_SECONDS (25): how long SIGTERM waits for running backups.
 * - PGBACKUP_METRICS_AUTH: `open` (default) or `bearer`: /metrics then needs one of PGBACKUP_METRICS_TOKEN (comma-separated).
 */
export interface StandaloneOptions {
  env?: Record<string, string | undefined>;
  logger?: Logger;
  /** Use these ports instead of connecting to a cluster (tests). */
  cluster?: ClusterTarget;
  tokenReviewer?: TokenReviewer;
  accessReviewer?: SubjectAccessReviewer;
}

export interface Standalone {
  server: Server;
  url: string;
  /** Stops accepting requests, waits for running backups (up to the grace), stops the cache. */
  close(): Promise<void>;
}

/** Settings that no longer exist: refusing to start beats silently guarding less (or more) than the operator meant. */
const REMOVED: Record<string, string> = {
  PGBACKUP_INSECURE_WRITES: 'every request is authenticated; for development set PGBACKUP_AUTH=static-token and PGBACKUP_API_TOKEN',
  PGBACKUP_TOKEN_REVIEW: 'TokenReview is the default (PGBACKUP_AUTH=token-review)',
  PGBACKUP_ALLOWED_SUBJECTS:
    'grant access with Kubernetes RBAC on backups.pgbackup.io (ClusterRoles pgbackup-viewer, pgbackup-operator, pgbackup-restorer)',
};

const unauthorized = (detail: string, hint: string) => new HttpProblem(401, 'Unauthorized', detail, { code: 'Unauthorized', hint });

function bearer(req: Request, hint: string): string {
  const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
  if (!match) throw unauthorized('this request needs Authorization: Bearer <token>', hint);
  return match[1]!;
}

/** The caller on the standalone server: the user TokenReview named (what SubjectAccessReview asks about). */
interface KubernetesCaller extends Caller {
  user?: UserInfo;
}

/** Answers reused for `ttlMs`, at most `max` of them (the oldest evicted first). */
class BriefCache<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly max = 1000,
  ) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.value;
    this.entries.delete(key);
    const value = load();
    value.catch(() => this.entries.delete(key));
    this.entries.set(key, { at: Date.now(), value });
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** `verb resource/subresource.group in namespace`, as kubectl auth can-i spells it. */
export const describeAccess = (a: Access) =>
  `${a.verb} ${ACCESS_RESOURCE}${a.subresource ? `/${a.subresource}` : ''}.${ACCESS_GROUP} ${a.namespace ? `in namespace ${a.namespace}` : 'in every namespace'}`;

/**
 * Kubernetes authentication and authorization: TokenReview for the audience, then
 * SubjectAccessReview for each access a route needs. Both answers are cached briefly.
 */
export function kubernetesGuard(
  tokens: TokenReviewer,
  access: SubjectAccessReviewer,
  options: { audience: string; cacheSeconds: number },
): Guard<KubernetesCaller> {
  const identities = new BriefCache<TokenIdentity>(options.cacheSeconds * 1000);
  const decisions = new BriefCache<{ allowed: boolean; reason?: string }>(options.cacheSeconds * 1000);
  const hint = `send a Kubernetes token for audience ${options.audience}: kubectl create token SERVICEACCOUNT --audience ${options.audience}`;
  return {
    async authenticate(req) {
      const token = bearer(req, hint);
      const identity = await identities.get(sha256(token), () => tokens.review(token, [options.audience]));
      if (!identity.authenticated || !identity.username)
        throw unauthorized(`the API server did not authenticate the token${identity.error ? `: ${identity.error}` : ''}`, hint);
      if (!(identity.audiences ?? []).includes(options.audience))
        throw unauthorized(`the token is not for audience ${options.audience}`, hint);
      const user: UserInfo = { username: identity.username, uid: identity.uid, groups: identity.groups, extra: identity.extra };
      return { name: identity.username, user };
    },
    async authorize(_req, caller, a) {
      const check = { group: ACCESS_GROUP, resource: ACCESS_RESOURCE, subresource: a.subresource, verb: a.verb, namespace: a.namespace };
      const user = caller.user!;
      const key = JSON.stringify([user.username, user.uid, user.groups, user.extra, check]);
      const decision = await decisions.get(key, () => access.review(user, check));
      if (!decision.allowed)
        throw new HttpProblem(403, 'Forbidden', `${user.username} may not ${describeAccess(a)}`, {
          code: 'Forbidden',
          hint: `a cluster admin grants it with a RoleBinding to ClusterRole ${a.subresource === 'restore' ? 'pgbackup-restorer' : a.verb === 'get' || a.verb === 'list' ? 'pgbackup-viewer' : 'pgbackup-operator'}; check with: kubectl auth can-i ${a.verb} ${ACCESS_RESOURCE}${a.subresource ? `/${a.subresource}` : ''}.${ACCESS_GROUP} ${a.namespace ? `-n ${a.namespace}` : '-A'} --as ${user.username}`,
        });
    },
  };
}

/** Development only: any of the static tokens may do everything. */
export function staticTokenGuard(env: Record<string, string | undefined>): Guard {
  const tokens = (env.PGBACKUP_API_TOKEN ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((t) => Buffer.from(t));
  if (tokens.length === 0) throw new Error('PGBACKUP_AUTH=static-token needs PGBACKUP_API_TOKEN (comma-separated tokens)');
  const hint = "send Authorization: Bearer <one of the server's PGBACKUP_API_TOKEN>";
  return {
    async authenticate(req) {
      const token = Buffer.from(bearer(req, hint));
      if (!tokens.some((t) => t.length === token.length && timingSafeEqual(t, token)))
        throw unauthorized('the bearer token is not accepted', hint);
      return { name: 'static-token' };
    },
    authorize: async () => undefined,
  };
}

/** The guard the environment asks for; refuses to start on a setting that would guard less than it says. */
export function guardFromEnv(
  env: Record<string, string | undefined>,
  logger: Logger,
  reviewers: { tokens?: TokenReviewer; access?: SubjectAccessReviewer },
): Guard {
  for (const [name, instead] of Object.entries(REMOVED))
    if (env[name] !== undefined) throw new Error(`${name} is no longer supported: ${instead}`);
  const mode = env.PGBACKUP_AUTH ?? 'token-review';
  if (mode === 'static-token') {
    logger.warn(
      'PGBACKUP_AUTH=static-token: development mode, anyone holding PGBACKUP_API_TOKEN may create, delete, restore and verify backups in every namespace',
    );
    return staticTokenGuard(env);
  }
  if (mode !== 'token-review') throw new Error(`PGBACKUP_AUTH must be token-review or static-token (got "${mode}")`);
  if (!reviewers.tokens || !reviewers.access)
    throw new Error('PGBACKUP_AUTH=token-review needs the Kubernetes API (TokenReview and SubjectAccessReview)');
  const audience = env.PGBACKUP_TOKEN_AUDIENCE ?? 'pgbackup';
  if (!audience.trim()) throw new Error('PGBACKUP_TOKEN_AUDIENCE must not be empty');
  const cacheSeconds = Number(env.PGBACKUP_AUTH_CACHE_SECONDS ?? 10);
  if (!Number.isFinite(cacheSeconds) || cacheSeconds < 0 || cacheSeconds > 300)
    throw new Error(`PGBACKUP_AUTH_CACHE_SECONDS must be 0..300 (got "${env.PGBACKUP_AUTH_CACHE_SECONDS}")`);
  return kubernetesGuard(reviewers.tokens, reviewers.access, { audience, cacheSeconds });
}

export async function startStandalone(options: StandaloneOptions = {}): Promise<Standalone> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? jsonLogger(parseLevel(env.LOG_LEVEL), undefined, { service: 'pgbackup-api' });
  let cluster = options.cluster;
  let reviewer = options.tokenReviewer;
  let accessReviewer = options.accessReviewer;
  if (!cluster) {
    const loaded = loadKubeConfig({ context: env.PGBACKUP_CONTEXT, namespace: env.PGBACKUP_NAMESPACE, env });
    const namespaces = env.PGBACKUP_WATCH_NAMESPACES?.split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    const { deps, direct, cache } = cachedKubernetesDeps(loaded, { namespaces });
    cluster = { name: loaded.contextName ?? 'in-cluster', deps, writeDeps: direct, cache, defaultNamespace: loaded.namespace };
    reviewer ??= new KubernetesTokenReviewer(loaded.kubeConfig);
    accessReviewer ??= new KubernetesSubjectAccessReviewer(loaded.kubeConfig);
    logger.info(
      `cluster ${cluster.name}: ${loaded.kubeConfig.getCurrentCluster()?.server ?? '?'}; caching ${namespaces?.join(', ') || 'every namespace'}`,
    );
  }
  const guard = guardFromEnv(env, logger, { tokens: reviewer, access: accessReviewer });
  const principals = new WeakMap<Request, string>();
  const guardAndRemember: Guard = {
    authenticate: async (req) => {
      const caller = await guard.authenticate(req);
      principals.set(req, caller.name);
      return caller;
    },
    authorize: (req, caller, access) => guard.authorize(req, caller, access),
  };
  const metricsSetting = metricsAuth(env.PGBACKUP_METRICS_AUTH, env.PGBACKUP_METRICS_TOKEN);
  const tls = tlsOptions(env);
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
      const line = {
        method: req.method,
        path,
        status: res.statusCode,
        ms: Math.round(ms * 100) / 100,
        principal: principals.get(req) ?? '',
      };
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
      guard: guardAndRemember,
      holder: 'pgbackup-api',
      metrics: { endpoint: new MetricsEndpoint([cluster]), auth: metricsSetting },
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
    const s = tls ? createHttpsServer(tls, app) : createHttpServer(app);
    s.listen(port, env.HOST ?? '0.0.0.0', () => resolve(s));
    s.once('error', reject);
  });
  server.keepAliveTimeout = 65_000;
  const address = server.address() as AddressInfo;
  if (!tls)
    logger.warn(
      'serving plain HTTP: bearer tokens cross the network in clear; mount a certificate (PGBACKUP_TLS_CERT_FILE, PGBACKUP_TLS_KEY_FILE) or terminate TLS in front',
    );
  const url = `${tls ? 'https' : 'http'}://${address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address}:${address.port}`;
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

/** The certificate to serve HTTPS with, when both files are named. */
function tlsOptions(env: Record<string, string | undefined>): { cert: Buffer; key: Buffer } | undefined {
  const certFile = env.PGBACKUP_TLS_CERT_FILE;
  const keyFile = env.PGBACKUP_TLS_KEY_FILE;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new Error('PGBACKUP_TLS_CERT_FILE and PGBACKUP_TLS_KEY_FILE go together');
  return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
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
