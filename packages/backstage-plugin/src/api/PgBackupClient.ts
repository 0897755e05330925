import type { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import {
  BackupPageSchema,
  BackupResourceSchema,
  EntityBackupsResponseSchema,
  ProblemSchema,
  StatefulSetStatusResponseSchema,
  type BackupResource,
} from '@pgbackup/core/isomorphic';
import { PgBackupApiError, type EntityBackups, type EntityKey, type PartError, type PgBackupApi, type StatefulSetRef } from './types.js';

/** Anything with zod's `safeParse`, so the client does not need zod itself. */
interface Parser<T> {
  safeParse(data: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
}

/**
 * - `entity` (default, inside Backstage): the backend resolves the StatefulSet from the catalog entity
 *   and checks the pgbackup permissions on that entity.
 * - `statefulset`: the StatefulSet-addressed routes of the standalone server (`pgbackup-api`), which
 *   has no catalog; the dev page uses it.
 */
export type Addressing = 'entity' | 'statefulset';

export interface PgBackupClientOptions {
  discoveryApi: DiscoveryApi;
  fetchApi: FetchApi;
  addressing?: Addressing;
}

const PLUGIN_ID = 'pgbackup';

const entityPath = (e: EntityKey) =>
  `/entity/${encodeURIComponent(e.kind.toLocaleLowerCase('en-US'))}/${encodeURIComponent(e.namespace)}/${encodeURIComponent(e.name)}`;

const query = (params: Record<string, string | undefined>) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  return q.toString();
};

const idempotencyKey = () => globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(36).slice(2)}`;

/** The pgbackup HTTP API, every answer checked against core's schemas. */
export class PgBackupClient implements PgBackupApi {
  private readonly discoveryApi: DiscoveryApi;
  private readonly fetchApi: FetchApi;
  private readonly addressing: Addressing;

  constructor(options: PgBackupClientOptions) {
    this.discoveryApi = options.discoveryApi;
    this.fetchApi = options.fetchApi;
    this.addressing = options.addressing ?? 'entity';
  }

  async getEntityBackups(entity: EntityKey, target: StatefulSetRef): Promise<EntityBackups> {
    if (this.addressing === 'entity') {
      const r = this.parse(EntityBackupsResponseSchema, await this.request('GET', entityPath(entity)), 'entity backups answer');
      return {
        namespace: r.namespace,
        statefulSet: r.statefulSet,
        cluster: r.cluster,
        status: r.status,
        backups: r.backups,
        errors: r.errors,
      };
    }
    // The standalone server: the two reads the entity route makes server-side, each allowed to fail alone.
    const errors: PartError[] = [];
    const part = <T>(name: string, p: Promise<T>): Promise<T | undefined> =>
      p.catch((e: unknown) => {
        if (!(e instanceof PgBackupApiError) || e.status === 0 || e.status === 403) throw e;
        errors.push({ part: name, status: e.status, detail: e.message });
        return undefined;
      });
    const [status, page] = await Promise.all([
      part(
        'statefulset',
        this.request(
          'GET',
          `/backup/statefulset/${encodeURIComponent(target.name)}/status?${query({ namespace: target.namespace, cluster: target.cluster })}`,
        ).then((b) => this.parse(StatefulSetStatusResponseSchema, b, 'StatefulSet status')),
      ),
      part(
        'backups',
        this.request(
          'GET',
          `/backups?${query({ namespace: target.namespace, statefulset: target.name, limit: '500', cluster: target.cluster })}`,
        ).then((b) => this.parse(BackupPageSchema, b, 'backup list')),
      ),
    ]);
    return { namespace: target.namespace, statefulSet: target.name, cluster: target.cluster, status, backups: page?.items ?? [], errors };
  }

  async getBackup(id: string, target: StatefulSetRef): Promise<BackupResource> {
    const body = await this.request(
      'GET',
      `/backup/${encodeURIComponent(id)}?${query({ namespace: target.namespace, cluster: target.cluster })}`,
    );
    return this.parse(BackupResourceSchema, body, 'backup');
  }

  async createBackup(entity: EntityKey, target: StatefulSetRef): Promise<BackupResource> {
    const body =
      this.addressing === 'entity'
        ? await this.request('POST', `${entityPath(entity)}/backups`, {})
        : await this.request('POST', `/backup${target.cluster ? `?${query({ cluster: target.cluster })}` : ''}`, {
            databaseName: target.name,
            namespace: target.namespace,
            backupType: 'manual',
          });
    return this.parse(BackupResourceSchema, body, 'backup');
  }

  private async request(method: 'GET' | 'POST', path: string, json?: unknown): Promise<unknown> {
    const url = `${await this.discoveryApi.getBaseUrl(PLUGIN_ID)}${path}`;
    let res: Response;
    try {
      res = await this.fetchApi.fetch(url, {
        method,
        headers: {
          accept: 'application/json, application/problem+json',
          // A retried click must not start a second backup.
          ...(json !== undefined ? { 'content-type': 'application/json', 'idempotency-key': idempotencyKey() } : {}),
        },
        body: json !== undefined ? JSON.stringify(json) : undefined,
      });
    } catch (e) {
      throw new PgBackupApiError(
        0,
        undefined,
        `Could not reach the pgbackup API (${method} ${url}): ${(e as Error).message}. Check that the pgbackup backend plugin is installed and running.`,
      );
    }
    const text = await res.text();
    let body: unknown = undefined;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: handled below
    }
    if (!res.ok) throw toError(res, body, text);
    if (body === undefined)
      throw new PgBackupApiError(res.status, undefined, `The pgbackup API answered ${method} ${path} with a body that is not JSON.`);
    return body;
  }

  private parse<T>(schema: Parser<T>, body: unknown, what: string): T {
    const r = schema.safeParse(body);
    if (r.success) return r.data;
    const issues = r.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new PgBackupApiError(
      200,
      undefined,
      `The pgbackup API sent a ${what} this plugin does not understand (${issues}). Are the frontend and backend plugins the same version?`,
    );
  }
}

function toError(res: Response, body: unknown, text: string): PgBackupApiError {
  const problem = ProblemSchema.safeParse(body);
  if (problem.success) return new PgBackupApiError(res.status, problem.data, problem.data.detail || problem.data.title);
  // Backstage's own error middleware (e.g. an auth failure before the router) answers `{ error: { name, message } }`.
  const backstage = body as { error?: { message?: unknown } } | undefined;
  if (typeof backstage?.error?.message === 'string') return new PgBackupApiError(res.status, undefined, backstage.error.message);
  const snippet = text.trim().slice(0, 200);
  return new PgBackupApiError(
    res.status,
    undefined,
    `The pgbackup API answered ${res.status} ${res.statusText}${snippet ? `: ${snippet}` : ''}`,
  );
}
