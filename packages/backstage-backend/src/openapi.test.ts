import { describe, expect, it } from '@jest/globals';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { Router } from 'express';
import { world } from './__fixtures__/world.js';
import { captureLogger } from './__fixtures__/world.js';
import { openApiDocument } from './openapi.js';
import { createRouter, servedRoutes } from './router.js';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  name: string;
  regexp: RegExp;
  handle: Router & { stack?: Layer[] };
}

/** `METHOD /path` of every route the express router serves (health sub-router included). */
function expressRoutes(router: Router): string[] {
  const stack = (router as unknown as { stack: Layer[] }).stack;
  const routes: string[] = [];
  for (const layer of stack) {
    if (layer.route) for (const m of Object.keys(layer.route.methods)) routes.push(`${m} ${layer.route.path.replace(/:(\w+)/g, '{$1}')}`);
    else if (layer.name === 'router' && /health/.test(String(layer.regexp)))
      for (const inner of layer.handle.stack ?? [])
        if (inner.route) for (const m of Object.keys(inner.route.methods)) routes.push(`${m} /health${inner.route.path}`);
  }
  return routes.sort();
}

describe('the OpenAPI document', () => {
  const doc = openApiDocument(servedRoutes({ entities: true })) as {
    openapi: string;
    paths: Record<string, Record<string, unknown>>;
    components: { schemas: Record<string, unknown> };
  };

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(structuredClone(doc) as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toMatch(/^3\.1\./);
    // The validator does reject a broken document (no info object).
    expect((await new Validator().validate({ openapi: '3.1.1', paths: {} } as never)).valid).toBe(false);
  });

  it.each([
    ['the Backstage plugin (entity routes)', true],
    ['the standalone server (no entity routes)', false],
  ])('lists every route %s serves, and no other', async (_name, entities) => {
    const router = createRouter({
      clusters: [{ name: 'c', deps: world() }],
      logger: captureLogger(),
      ...(entities ? { resolveEntity: async () => ({ entityRef: 'component:default/x', statefulSet: 'pg' }) } : {}),
    });
    // The router's own 405 handlers (`all`) answer other methods; the served routes are the rest.
    const served = expressRoutes(router).filter((r) => !r.startsWith('_all '));
    const { default: request } = await import('supertest');
    const { default: express } = await import('express');
    const served_doc = (await request(express().use(router)).get('/openapi.json').expect(200)).body as typeof doc;
    const documented = Object.entries(served_doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`))
      .sort();
    expect(served).toEqual(documented);
    expect(documented.some((r) => r.includes('/entity/'))).toBe(entities);
    expect((await new Validator().validate(structuredClone(served_doc) as never)).valid).toBe(true);
  });

  it('states every constraint the server enforces on names: DNS-1123, non-empty', () => {
    const params = Object.values(doc.paths).flatMap((ops) =>
      Object.values(ops).flatMap((op) => (op as { parameters?: { name: string; schema: Record<string, unknown> }[] }).parameters ?? []),
    );
    for (const name of ['id', 'name', 'namespace', 'pvcName']) {
      const schemas = params.filter((p) => p.name === name).map((p) => p.schema);
      expect(schemas.length).toBeGreaterThan(0);
      for (const schema of schemas) expect(schema).toMatchObject({ minLength: 1, pattern: expect.any(String) });
    }
    const body = doc.components.schemas.CreateBackupRequest as { properties: Record<string, Record<string, unknown>> };
    expect(body.properties.namespace).toMatchObject({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' });
  });

  it('describes the seed body and the seed response fields from the zod schemas', () => {
    const schemas = doc.components.schemas as Record<string, { properties: Record<string, unknown>; required?: string[] }>;
    expect(Object.keys(schemas.CreateBackupRequest!.properties)).toEqual(
      expect.arrayContaining(['databaseName', 'namespace', 'backupType']),
    );
    expect(schemas.CreateBackupRequest).toMatchObject({ additionalProperties: false });
    expect(Object.keys(schemas.Backup!.properties)).toEqual(
      expect.arrayContaining([
        'id',
        'status',
        'snapshotName',
        'snapshotSize',
        'snapshotReady',
        'isCompleted',
        'isFailed',
        'snapshots',
        'verification',
      ]),
    );
  });

  it('is served at /openapi.json', async () => {
    const { default: request } = await import('supertest');
    const { default: express } = await import('express');
    const server = express().use(createRouter({ clusters: [{ name: 'c', deps: world() }], logger: captureLogger() }));
    const res = await request(server).get('/openapi.json').expect(200);
    expect(res.body.paths['/backup']).toBeDefined();
    const ui = await request(server).get('/api/').expect(200);
    expect(ui.text).toMatch(/swagger-ui/i);
  });
});
