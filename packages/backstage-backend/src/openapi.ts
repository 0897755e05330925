import {
  BackupIdParamsSchema,
  BackupPageSchema,
  BackupResourceSchema,
  CreateBackupBodySchema,
  CreateEntityBackupBodySchema,
  DeleteBackupQuerySchema,
  EntityBackupsResponseSchema,
  EntityParamsSchema,
  HealthSchema,
  ListBackupsQuerySchema,
  NamespaceQuerySchema,
  ProblemSchema,
  PvcParamsSchema,
  RestoreBackupBodySchema,
  RestoreResultSchema,
  VerifyBackupBodySchema,
  SnapshotListResponseSchema,
  StatefulSetParamsSchema,
  StatefulSetStatusResponseSchema,
} from '@pgbackup/core';
import { z } from 'zod';

type Schema = z.ZodType;
type JsonSchema = Record<string, unknown>;

interface Route {
  method: 'get' | 'post' | 'delete';
  /** OpenAPI path template (`{id}`). */
  path: string;
  summary: string;
  tag: 'backups' | 'entities' | 'health' | 'docs';
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: Schema;
  idempotent?: boolean;
  /** status → component name (or undefined for no JSON body). */
  ok: [number, string | undefined];
  errors: number[];
  public?: boolean;
}

/** Named bodies, rendered once under components.schemas. */
const COMPONENTS: Record<string, Schema> = {
  Backup: BackupResourceSchema,
  BackupPage: BackupPageSchema,
  StatefulSetStatus: StatefulSetStatusResponseSchema,
  SnapshotList: SnapshotListResponseSchema,
  EntityBackups: EntityBackupsResponseSchema,
  Health: HealthSchema,
  Problem: ProblemSchema.extend({
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
  CreateBackupRequest: CreateBackupBodySchema,
  CreateEntityBackupRequest: CreateEntityBackupBodySchema,
  RestoreRequest: RestoreBackupBodySchema,
  VerifyRequest: VerifyBackupBodySchema,
  RestoreResult: RestoreResultSchema,
};

const cluster = z.strictObject({ cluster: z.string().optional().describe('Configured cluster name; default: the first one') });
const withCluster = (q?: z.ZodObject) => (q ? q.extend(cluster.shape) : cluster);
const entityId = EntityParamsSchema.extend({ id: BackupIdParamsSchema.shape.id });
const deleteQuery = DeleteBackupQuerySchema;

/** Every route of the router, in the order of the README. */
export const ROUTES: Route[] = [
  { method: 'post', path: '/backup', summary: 'Start a backup of a StatefulSet (the seed body)', tag: 'backups', query: cluster, body: CreateBackupBodySchema, idempotent: true, ok: [202, 'Backup'], errors: [400, 401, 403, 404, 409, 413, 415, 422, 503] },
  { method: 'get', path: '/backup/{id}', summary: 'A backup with every VolumeSnapshot and its verification', tag: 'backups', params: BackupIdParamsSchema, query: withCluster(NamespaceQuerySchema), ok: [200, 'Backup'], errors: [400, 401, 403, 404, 409] },
  { method: 'get', path: '/backup/statefulset/{name}/status', summary: 'Replicas, newest backups, freshness (RPO) and next run of a StatefulSet', tag: 'backups', params: StatefulSetParamsSchema, query: withCluster(NamespaceQuerySchema), ok: [200, 'StatefulSetStatus'], errors: [400, 401, 403, 404] },
  { method: 'get', path: '/backup/snapshots/{pvcName}', summary: 'The managed VolumeSnapshots of one PersistentVolumeClaim', tag: 'backups', params: PvcParamsSchema, query: withCluster(NamespaceQuerySchema), ok: [200, 'SnapshotList'], errors: [400, 401, 403, 404] },
  { method: 'get', path: '/backups', summary: 'Backups, newest first, paginated', tag: 'backups', query: withCluster(ListBackupsQuerySchema), ok: [200, 'BackupPage'], errors: [400, 401, 403, 404] },
  { method: 'delete', path: '/backup/{id}', summary: 'Delete a backup (refuses the last completed or a pinned one unless force=true)', tag: 'backups', params: BackupIdParamsSchema, query: withCluster(deleteQuery), ok: [200, 'Backup'], errors: [400, 401, 403, 404, 409] },
  { method: 'post', path: '/backup/{id}/restore', summary: 'Restore a completed backup into a new StatefulSet (PVCs from its snapshots + the cloned StatefulSet); 200 with the plan for dryRun', tag: 'backups', params: BackupIdParamsSchema, query: withCluster(NamespaceQuerySchema), body: RestoreBackupBodySchema, ok: [201, 'RestoreResult'], errors: [400, 401, 403, 404, 409, 415, 422] },
  { method: 'post', path: '/backup/{id}/verify', summary: 'Verify a backup: restore it aside, amcheck, row counts, optional SQL; runs in the background, the result appears as the backup\'s verification', tag: 'backups', params: BackupIdParamsSchema, query: withCluster(NamespaceQuerySchema), body: VerifyBackupBodySchema, ok: [202, 'Backup'], errors: [400, 401, 403, 404, 409, 415, 422] },
  { method: 'get', path: '/entity/{kind}/{namespace}/{name}', summary: 'Backups and status of the database of a catalog entity (from its annotations)', tag: 'entities', params: EntityParamsSchema, ok: [200, 'EntityBackups'], errors: [400, 401, 403, 404, 501] },
  { method: 'post', path: '/entity/{kind}/{namespace}/{name}/backups', summary: "Back up a catalog entity's database now", tag: 'entities', params: EntityParamsSchema, body: CreateEntityBackupBodySchema, idempotent: true, ok: [202, 'Backup'], errors: [400, 401, 403, 404, 409, 413, 415, 422, 501] },
  { method: 'delete', path: '/entity/{kind}/{namespace}/{name}/backups/{id}', summary: "Delete a backup of a catalog entity's database", tag: 'entities', params: entityId, query: deleteQuery.omit({ namespace: true }), ok: [200, 'Backup'], errors: [400, 401, 403, 404, 409, 501] },
  { method: 'post', path: '/entity/{kind}/{namespace}/{name}/backups/{id}/restore', summary: "Restore a backup of an entity's database into a new StatefulSet", tag: 'entities', params: entityId, body: RestoreBackupBodySchema, ok: [201, 'RestoreResult'], errors: [400, 401, 403, 404, 409, 415, 422, 501] },
  { method: 'post', path: '/entity/{kind}/{namespace}/{name}/backups/{id}/verify', summary: "Verify a backup of an entity's database (in the background)", tag: 'entities', params: entityId, body: VerifyBackupBodySchema, ok: [202, 'Backup'], errors: [400, 401, 403, 404, 409, 415, 422, 501] },
  { method: 'get', path: '/health/live', summary: 'Liveness: the process answers', tag: 'health', ok: [200, 'Health'], errors: [], public: true },
  { method: 'get', path: '/health/ready', summary: 'Readiness: caches synced, API server reachable, snapshot CRDs served', tag: 'health', ok: [200, 'Health'], errors: [503], public: true },
  { method: 'get', path: '/health/startup', summary: 'Startup: every informer cache synced once', tag: 'health', ok: [200, 'Health'], errors: [503], public: true },
  { method: 'get', path: '/openapi.json', summary: 'This document (OpenAPI 3.1, generated from the zod schemas)', tag: 'docs', ok: [200, undefined], errors: [], public: true },
  { method: 'get', path: '/api', summary: 'Swagger UI', tag: 'docs', ok: [200, undefined], errors: [], public: true },
];

/** JSON Schema 2020-12 of a zod schema, as OpenAPI 3.1 embeds it. */
export function jsonSchema(schema: Schema, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function parameters(where: 'path' | 'query', schema?: z.ZodObject): JsonSchema[] {
  if (!schema) return [];
  const js = jsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (js.required ?? []).includes(name),
    ...(typeof s.description === 'string' ? { description: s.description } : {}),
    schema: s,
  }));
}

const REASONS: Record<number, string> = {
  200: 'OK',
  202: 'Accepted: the VolumeSnapshots exist; follow the backup at Location until isCompleted or isFailed',
  400: 'Invalid path or query parameter',
  401: 'No or invalid credentials',
  403: 'Not allowed (permission or bearer token)',
  404: 'Not found',
  409: 'Conflict (a backup of this StatefulSet is already running, or the last completed backup)',
  413: 'Request body larger than the limit',
  415: 'Request body is not JSON',
  422: 'Request body invalid, or the database cannot be backed up consistently',
  501: 'Not implemented yet',
  503: 'Not ready, or the Kubernetes API is unavailable',
};

let cached: JsonSchema | undefined;

/** The OpenAPI 3.1 document of the router, generated from the route table and core's zod schemas. */
export function openApiDocument(): JsonSchema {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const operation: Record<string, unknown> = {
      operationId: `${r.method}${r.path.replace(/[{}]/g, '').replace(/[/.-](\w)/g, (_m, c: string) => c.toUpperCase())}`,
      summary: r.summary,
      tags: [r.tag],
      ...(r.public ? { security: [] } : {}),
      parameters: [
        ...parameters('path', r.params),
        ...parameters('query', r.query),
        ...(r.idempotent
          ? [{ name: 'Idempotency-Key', in: 'header', required: false, description: 'Retrying with the same key returns the same backup', schema: { type: 'string', minLength: 1, maxLength: 255 } }]
          : []),
      ],
      ...(r.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: ref(Object.entries(COMPONENTS).find(([, s]) => s === r.body)![0]) } } } }
        : {}),
      responses: {
        [String(r.ok[0])]: {
          description: REASONS[r.ok[0]] ?? 'OK',
          ...(r.ok[0] === 202 && r.ok[1] ? { headers: { Location: { description: 'URL of the backup', schema: { type: 'string' } } } } : {}),
          ...(r.ok[1] ? { content: { 'application/json': { schema: ref(r.ok[1]) } } } : r.path === '/openapi.json' ? { content: { 'application/json': { schema: { type: 'object' } } } } : r.path === '/api' ? { content: { 'text/html': { schema: { type: 'string' } } } } : {}),
        },
        ...Object.fromEntries(
          r.errors.map((s) => [
            String(s),
            { description: REASONS[s] ?? 'Error', content: { [r.tag === 'health' ? 'application/json' : 'application/problem+json']: { schema: r.tag === 'health' ? ref('Health') : ref('Problem') } } },
          ]),
        ),
      },
    };
    (paths[r.path] ??= {})[r.method] = operation;
  }
  cached = {
    openapi: '3.1.1',
    info: {
      title: 'pgbackup',
      version: '1',
      description:
        'Back up PostgreSQL StatefulSets with CSI VolumeSnapshots. Errors are RFC 9457 problem details. In Backstage the API is mounted at /api/pgbackup.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/' }],
    tags: [{ name: 'backups' }, { name: 'entities' }, { name: 'health' }, { name: 'docs' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Backstage token, or the standalone server\'s token / a ServiceAccount token (writes only)' } },
      schemas: Object.fromEntries(Object.entries(COMPONENTS).map(([name, s]) => [name, jsonSchema(s, name.endsWith('Request') ? 'input' : 'output')])),
    },
  };
  return cached;
}
