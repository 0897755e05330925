import { describe, expect, it } from '@jest/globals';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { Router } from 'express';
import { world } from './__fixtures__/world.js';
import { captureLogger } from './__fixtures__/world.js';
import { openApiDocument } from './openapi.js';
import { createRouter } from './router.js';

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
      for (const inner of layer.handle.stack ?? []) if (inner.route) for (const m of Object.keys(inner.route.methods)) routes.push(`${m} /health${inner.route.path}`);
  }
  return routes.sort();
}

describe('the OpenAPI document', () => {
  const doc = openApiDocument() as { openapi: string; paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } };

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(structuredClone(doc) as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toMatch(/^3\.1\./);
    // The validator does reject a broken document (no info object).
    expect((await new Validator().validate({ openapi: '3.1.1', paths: {} } as never)).valid).toBe(false);
  });

  it('lists every route the router serves, and no other', () => {
    const served = expressRoutes(createRouter({ clusters: [{ name: 'c', deps: world() }], logger: captureLogger() }));
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`))
      .filter((r) => r !== 'get /api')
      .sort();
    expect(served).toEqual(documented);
  });

  it('describes the seed body and the seed response fields from the zod schemas', () => {
    const schemas = doc.components.schemas as Record<string, { properties: Record<string, unknown>; required?: string[] }>;
    expect(Object.keys(schemas.CreateBackupRequest!.properties)).toEqual(expect.arrayContaining(['databaseName', 'namespace', 'backupType']));
    expect(schemas.CreateBackupRequest).toMatchObject({ additionalProperties: false });
    expect(Object.keys(schemas.Backup!.properties)).toEqual(expect.arrayContaining(['id', 'status', 'snapshotName', 'snapshotSize', 'snapshotReady', 'isCompleted', 'isFailed', 'snapshots', 'verification']));
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
