import {
  BackupPageSchema,
  BackupResourceSchema,
  CreateBackupBodySchema,
  CreateEntityBackupBodySchema,
  EntityBackupsResponseSchema,
  HealthSchema,
  ProblemSchema,
  RestoreBackupBodySchema,
  RestoreResultSchema,
  VerifyBackupBodySchema,
  SnapshotListResponseSchema,
  StatefulSetStatusResponseSchema,
} from '@pgbackup/core';
import { z } from 'zod';
import { PUBLIC_ROUTES, type Route } from './routes.js';

type Schema = z.ZodType;
type JsonSchema = Record<string, unknown>;

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

const clusterQuery = z.strictObject({ cluster: z.string().optional().describe('Configured cluster name; default: the first one') });

/** JSON Schema 2020-12 of a zod schema, as OpenAPI 3.1 embeds it. */
export function jsonSchema(schema: Schema, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function parameters(where: 'path' | 'query', schema?: z.ZodType): JsonSchema[] {
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
  401: 'No credentials, or credentials the server does not accept',
  403: 'Not allowed: the Kubernetes RBAC of backups.pgbackup.io (standalone) or the Backstage permission policy denies it, or the StatefulSet does not name the entity',
  405: 'Method not served on this path (see Allow)',
  404: 'Not found',
  409: 'Conflict (a backup of this StatefulSet is already running, or the last completed backup)',
  413: 'Request body larger than the limit',
  415: 'Request body is not JSON',
  422: 'Request body invalid, or the database cannot be backed up consistently',
  503: 'Not ready, or the Kubernetes API is unavailable',
};

const BY_SCHEMA = new Map<Schema, string>(Object.entries(COMPONENTS).map(([name, schema]) => [schema, name]));

/** The OpenAPI 3.1 document of the routes a server serves, generated from the route table and core's zod schemas. */
export function openApiDocument(routes: Route[]): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  const operationId = (method: string, path: string) =>
    `${method}${path.replace(/[{}]/g, '').replace(/[/.-](\w)/g, (_m, c: string) => c.toUpperCase())}`;
  const problems = (statuses: number[], component = 'Problem', type = 'application/problem+json') =>
    Object.fromEntries(
      statuses.map((s) => [String(s), { description: REASONS[s] ?? 'Error', content: { [type]: { schema: ref(component) } } }]),
    );
  for (const r of routes) {
    const query = r.entity ? r.query : r.query instanceof z.ZodObject ? r.query.extend(clusterQuery.shape) : clusterQuery;
    const body = r.body && BY_SCHEMA.get(r.body);
    (paths[r.path] ??= {})[r.method] = {
      operationId: operationId(r.method, r.path),
      summary: r.summary,
      description: `Needs ${r
        .access({ query: {}, body: {}, namespace: '' } as never)
        .map((a) => `${a.verb} on backups${a.subresource ? `/${a.subresource}` : ''}.pgbackup.io`)
        .filter((v, i, all) => all.indexOf(v) === i)
        .join(' and ')} in the namespace`,
      tags: [r.tag],
      parameters: [
        ...parameters('path', r.params),
        ...parameters('query', query),
        ...(r.idempotent
          ? [
              {
                name: 'Idempotency-Key',
                in: 'header',
                required: false,
                description: 'Retrying with the same key returns the same backup',
                schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
              },
            ]
          : []),
      ],
      ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: ref(body) } } } } : {}),
      responses: {
        [String(r.ok[0])]: {
          description: REASONS[r.ok[0]] ?? 'OK',
          ...(r.ok[0] === 202 ? { headers: { Location: { description: 'URL of the backup', schema: { type: 'string' } } } } : {}),
          content: { 'application/json': { schema: ref(r.ok[1]) } },
        },
        ...(r.path.endsWith('/restore')
          ? {
              '200': {
                description: 'dryRun: the plan, nothing written',
                content: { 'application/json': { schema: ref('RestoreResult') } },
              },
            }
          : {}),
        ...problems([...new Set([...r.errors, 401, 403, 405])].sort()),
      },
    };
  }
  for (const r of PUBLIC_ROUTES)
    (paths[r.path] ??= {})[r.method] = {
      operationId: operationId(r.method, r.path),
      summary: r.summary,
      tags: [r.tag],
      // The scrape token is optional (the server's setting), the others need none.
      security: r.tag === 'metrics' ? [{}, { bearer: [] }] : [],
      parameters: [],
      responses: {
        '200':
          r.tag === 'metrics'
            ? { description: 'OK', content: { 'text/plain; version=0.0.4': { schema: { type: 'string' } } } }
            : { description: 'OK', content: { 'application/json': { schema: r.ok[1] ? ref(r.ok[1]) : { type: 'object' } } } },
        ...(r.tag === 'health' ? problems(r.errors, 'Health', 'application/json') : {}),
        ...(r.tag === 'metrics' ? problems(r.errors) : {}),
        ...problems([405]),
      },
    };
  return {
    openapi: '3.1.1',
    info: {
      title: 'pgbackup',
      version: '1',
      description:
        'Back up PostgreSQL StatefulSets with CSI VolumeSnapshots. Errors are RFC 9457 problem details. Every route but the probes, this document and /metrics (its own setting) needs a bearer token; access is a verb on backups.pgbackup.io in the namespace (docs/security.md). In Backstage the API is mounted at /api/pgbackup.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/' }],
    tags: [...new Set([...routes.map((r) => r.tag), 'health', 'docs', 'metrics'])].map((name) => ({ name })),
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'Standalone: a Kubernetes token for audience pgbackup (kubectl create token SA --audience pgbackup). Backstage: a Backstage token',
        },
      },
      schemas: Object.fromEntries(
        Object.entries(COMPONENTS).map(([name, s]) => [name, jsonSchema(s, name.endsWith('Request') ? 'input' : 'output')]),
      ),
    },
  };
}
