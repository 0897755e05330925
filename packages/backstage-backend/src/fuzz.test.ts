// Bad input (issue 11): requests generated from the router's own OpenAPI document with fast-check
// (valid values from each parameter's and body's JSON Schema, mixed with junk), sent to the router on
// core's in-memory fakes. Whatever comes in: no 5xx, no crash, every answer documented for its
// operation, every 4xx an application/problem+json body.
import { describe, expect, it } from '@jest/globals';
import { ProblemSchema } from '@pgbackup/core';
import { aBackupSnapshot } from '@pgbackup/core/testing';
import express from 'express';
import fc from 'fast-check';
import request from 'supertest';
import { captureLogger, linkEntity, seedBackups, world } from './__fixtures__/world.js';
import { openApiDocument } from './openapi.js';
import { createRouter, servedRoutes } from './router.js';

type JsonSchema = Record<string, unknown>;
const doc = openApiDocument(servedRoutes({ entities: true })) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema> };
};

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: JsonSchema;
}
interface Operation {
  parameters: Parameter[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, unknown>;
}

const junkString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '..',
    '../etc/passwd',
    '%00',
    'pg',
    'PG',
    'pg-0',
    'a'.repeat(300),
    '-1',
    '1e309',
    'true',
    '{}',
    '[]',
    'null',
    '__proto__',
    'constructor',
    '😀',
    'x'.repeat(64),
    "'; DROP TABLE x;--",
  ),
);
const junk: fc.Arbitrary<unknown> = fc.oneof(
  junkString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(junkString, { maxLength: 3 }),
  fc.dictionary(junkString, junkString, { maxKeys: 3 }),
);

function resolve(schema: JsonSchema): JsonSchema {
  const ref = schema.$ref as string | undefined;
  return ref ? resolve(doc.components.schemas[ref.replace('#/components/schemas/', '')]!) : schema;
}

/** A value the schema (probably) accepts: the generator follows type, enum, const, bounds, pattern, required. */
function valid(schemaIn: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  const schema = resolve(schemaIn);
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const alternatives = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (alternatives) return fc.oneof(...alternatives.map((s) => valid(s, depth + 1)));
  if (Array.isArray(schema.allOf)) return valid((schema.allOf as JsonSchema[])[0]!, depth + 1);
  const type = Array.isArray(schema.type) ? (schema.type as string[])[0] : (schema.type as string | undefined);
  switch (type) {
    case 'string': {
      if (typeof schema.pattern === 'string') {
        try {
          return fc
            .stringMatching(new RegExp(schema.pattern))
            .filter((s) => s.length <= ((schema.maxLength as number) ?? 1e9) && s.length >= ((schema.minLength as number) ?? 0));
        } catch {
          /* a pattern fast-check cannot generate from */
        }
      }
      if (schema.format === 'date-time')
        return fc.date({ noInvalidDate: true, min: new Date('2020-01-01'), max: new Date('2030-01-01') }).map((d) => d.toISOString());
      return fc.oneof(
        fc.constantFrom('pg', 'db', 'pg-restored', 'pg-20260601020000-aaaa', 'data-pg-0'),
        fc.string({ minLength: (schema.minLength as number) ?? 0, maxLength: Math.min((schema.maxLength as number) ?? 20, 20) }),
      );
    }
    case 'integer':
      return fc.integer({ min: (schema.minimum as number) ?? -10, max: Math.min((schema.maximum as number) ?? 1000, 1000) });
    case 'number':
      return fc.double({ min: (schema.minimum as number) ?? -10, max: (schema.maximum as number) ?? 1000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return depth > 3 ? fc.constant([]) : fc.array(valid((schema.items as JsonSchema) ?? {}, depth + 1), { maxLength: 3 });
    case 'object': {
      if (depth > 3) return fc.constant({});
      const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((schema.required ?? []) as string[]);
      const shape = Object.fromEntries(Object.entries(props).map(([k, s]) => [k, valid(s, depth + 1)]));
      return fc.record(shape, { requiredKeys: Object.keys(props).filter((k) => required.has(k)) });
    }
    default:
      return junk;
  }
}

/** Valid mostly, sometimes mutated: a wrong type, a junk value, a key removed or added. */
function maybeBroken(schema: JsonSchema): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: valid(schema) },
    { weight: 1, arbitrary: junk },
    {
      weight: 1,
      arbitrary: fc.tuple(valid(schema), junkString, junk, fc.boolean()).map(([v, key, value, drop]) => {
        if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
        const copy: Record<string, unknown> = { ...(v as Record<string, unknown>) };
        const keys = Object.keys(copy);
        if (drop && keys.length) delete copy[keys[0]!];
        else copy[key] = value;
        return copy;
      }),
    },
  );
}

interface Generated {
  method: string;
  template: string;
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string>;
  body?: { raw: string; type: string };
  documented: number[];
}

const asText = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? 'undefined'));

const operations = Object.entries(doc.paths).flatMap(([template, methods]) =>
  Object.entries(methods).map(([method, op]) => ({ template, method, op })),
);

const requestArb: fc.Arbitrary<Generated> = fc.oneof(
  ...operations.map(({ template, method, op }) => {
    const params = op.parameters;
    const pathParams = params.filter((p) => p.in === 'path');
    const queryParams = params.filter((p) => p.in === 'query');
    const headerParams = params.filter((p) => p.in === 'header');
    const bodySchema = op.requestBody?.content['application/json']?.schema;
    return fc
      .record({
        path: fc.record(
          Object.fromEntries(
            pathParams.map((p) => [p.name, fc.oneof({ weight: 4, arbitrary: valid(p.schema) }, { weight: 1, arbitrary: junkString })]),
          ),
        ),
        query: fc.record(
          Object.fromEntries(
            queryParams.map((p) => [
              p.name,
              fc.oneof(
                { weight: 3, arbitrary: valid(p.schema) },
                { weight: 1, arbitrary: junk },
                { weight: 1, arbitrary: fc.array(junkString, { minLength: 2, maxLength: 2 }) },
              ),
            ]),
          ),
          { requiredKeys: [] },
        ),
        extraQuery: fc.option(fc.dictionary(junkString, junkString, { maxKeys: 2 }), { nil: undefined }),
        headers: fc.record(Object.fromEntries(headerParams.map((p) => [p.name, valid(p.schema).map(asText)])), { requiredKeys: [] }),
        body: bodySchema ? fc.option(maybeBroken(bodySchema), { nil: undefined, freq: 8 }) : fc.option(junk, { nil: undefined, freq: 3 }),
        bodyShape: fc.constantFrom('json', 'json', 'json', 'json', 'text', 'broken-json'),
      })
      .map(({ path, query, extraQuery, headers, body, bodyShape }): Generated => {
        const documented = [...Object.keys(op.responses).map(Number)];
        const url = template.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(asText(path[name])));
        const q: Record<string, unknown> = { ...extraQuery };
        for (const [k, v] of Object.entries(query))
          q[k] = Array.isArray(v) ? v.map(asText) : typeof v === 'object' && v !== null ? JSON.stringify(v) : v;
        let sent: Generated['body'];
        if (body !== undefined) {
          const raw = JSON.stringify(body);
          if (bodyShape === 'text') sent = { raw: asText(body), type: 'text/plain' };
          else if (bodyShape === 'broken-json') sent = { raw: raw.slice(0, Math.max(1, raw.length - 1)) + '{', type: 'application/json' };
          else sent = { raw, type: 'application/json' };
        }
        return { method, template, path: url, query: q, headers: headers as Record<string, string>, body: sent, documented };
      });
  }),
);

async function app() {
  const deps = world({ storage: 'ready' });
  await linkEntity(deps, 'component:default/pg');
  seedBackups(deps, 3);
  deps.snapshots.put(aBackupSnapshot({ id: 'pg-20260601020000-aaaa', startedAt: '2026-06-01T02:00:00Z' }));
  const logger = captureLogger();
  const router = createRouter({
    clusters: [{ name: 'local', deps, defaultNamespace: 'db' }],
    logger,
    resolveEntity: async (_req, ref) => {
      if (ref.name !== 'pg')
        throw Object.assign(new Error(`entity ${ref.kind}:${ref.namespace}/${ref.name} not found`), {
          name: 'NotFoundError',
          code: 'NotFound',
        });
      return { entityRef: `component:default/${ref.name}`, cluster: 'local', namespace: 'db', statefulSet: 'pg' };
    },
  });
  return { server: express().use('/api/pgbackup', router), logger, deps };
}

const RUNS = 400;

describe('HTTP API fuzzed from its OpenAPI document', () => {
  it(`${RUNS} generated requests over ${operations.length} operations: no 5xx, only documented statuses, 4xx as problem+json`, async () => {
    const { server, logger } = await app();
    const seen = new Map<string, number>();
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(requestArb, async (g) => {
        let req = request(server)
          [g.method as 'get' | 'post' | 'delete'](`/api/pgbackup${g.path}`)
          .query(g.query as Record<string, string>)
          .timeout(5000);
        for (const [k, v] of Object.entries(g.headers)) req = req.set(k, v);
        if (g.body) req = req.set('Content-Type', g.body.type).send(g.body.raw);
        const res = await req;
        const key = `${g.method.toUpperCase()} ${g.template} ${res.status}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        expect(res.status).toBeLessThan(500);
        // Undocumented answers allowed: the router's own 404 for a path that matches no route (e.g. an
        // encoded slash in a parameter), Swagger UI's redirect to /api/, and the body parser's 400/413/415, which run before any route.
        // An empty or odd parameter can make the path match another route (`/backup/snapshots/` is GET /backup/{id}):
        // what that route documents counts too.
        const documented = [
          ...g.documented,
          ...operations
            .filter((o) => o.method === g.method && new RegExp(`^${o.template.replace(/\{\w+\}/g, '[^/]+')}/?$`).test(g.path))
            .flatMap((o) => Object.keys(o.op.responses).map(Number)),
        ];
        if (!documented.includes(res.status)) {
          const crossCutting =
            (g.template === '/api' && [301, 302].includes(res.status)) ||
            (res.status === 404 && /^no route /.test(res.body?.detail)) ||
            ([400, 413, 415].includes(res.status) && /request body/.test(res.body?.detail));
          expect({ status: res.status, body: res.body as unknown, template: g.template, crossCutting }).toMatchObject({
            crossCutting: true,
          });
        }
        if (res.status >= 400) {
          expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
          const problem = ProblemSchema.parse(res.body);
          expect(problem.status).toBe(res.status);
          expect(JSON.stringify(res.body)).not.toMatch(/\bat .+\.(ts|js):\d+/);
        }
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: 60_000, markInterruptAsFailure: false },
    );
    const total = [...seen.values()].reduce((a, b) => a + b, 0);
    process.stdout.write(
      `HTTP fuzz: ${total} requests in ${Date.now() - started} ms; ${[...seen]
        .map(([k, n]) => `${k}: ${n}`)
        .sort()
        .join('; ')}\n`,
    );
    expect(total).toBeGreaterThanOrEqual(200);
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
  }, 90_000);
});
