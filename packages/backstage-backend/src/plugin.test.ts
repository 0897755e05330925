import { describe, expect, it } from '@jest/globals';
import { createServiceFactory } from '@backstage/backend-plugin-api';
import { mockCredentials, mockServices, startTestBackend } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { notFound } from '@pgbackup/core';
import type { FakeDeps } from '@pgbackup/core/testing';
import request from 'supertest';
import { linkEntity, seedBackups, world } from './__fixtures__/world.js';
import { pgbackupClustersServiceRef, pgbackupPlugin } from './plugin.js';

type RootConfigData = NonNullable<NonNullable<Parameters<typeof mockServices.rootConfig.factory>[0]>['data']>;

const entity = (name: string, annotations: Record<string, string>): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, namespace: 'default', annotations },
  spec: { type: 'service', owner: 'team-a', lifecycle: 'production' },
});

const entities = [
  entity('orders-db', { 'pgbackup.io/statefulset': 'pg', 'backstage.io/kubernetes-namespace': 'db' }),
  entity('no-annotation', {}),
  entity('bad-annotation', { 'pgbackup.io/statefulset': 'Not_A_Name' }),
];

async function backend(deps: FakeDeps, permission?: AuthorizeResult.ALLOW | AuthorizeResult.DENY, config: RootConfigData = {}) {
  await linkEntity(deps, 'component:default/orders-db');
  const { server } = await startTestBackend({
    features: [
      pgbackupPlugin,
      mockServices.rootConfig.factory({ data: config }),
      catalogServiceMock.factory({ entities }),
      createServiceFactory({
        service: pgbackupClustersServiceRef,
        deps: {},
        factory: () => ({ clusters: [{ name: 'local', deps, defaultNamespace: 'db' }] }),
      }),
      ...(permission ? [mockServices.permissions.factory({ result: permission })] : []),
    ],
  });
  return server;
}

const user = () => mockCredentials.user.header('user:default/alice');

describe('pgbackup backend plugin', () => {
  it('serves health, openapi.json and Swagger UI without credentials', async () => {
    const server = await backend(world());
    await request(server).get('/api/pgbackup/health/live').set('authorization', mockCredentials.none.header()).expect(200);
    await request(server).get('/api/pgbackup/openapi.json').set('authorization', mockCredentials.none.header()).expect(200);
  });

  it('serves /metrics to a scrape without Backstage credentials; with pgbackup.metrics.auth bearer, only with a scrape token', async () => {
    const open = await backend(world());
    const res = await request(open).get('/api/pgbackup/metrics').set('authorization', mockCredentials.none.header()).expect(200);
    expect(res.text).toContain('# TYPE pgbackup_http_requests_total counter');
    const guarded = await backend(world(), undefined, { pgbackup: { metrics: { auth: 'bearer', tokens: ['scrape-secret'] } } });
    await request(guarded).get('/api/pgbackup/metrics').set('authorization', mockCredentials.none.header()).expect(401);
    await request(guarded).get('/api/pgbackup/metrics').set('authorization', 'Bearer scrape-secret').expect(200);
  });

  it('refuses the other routes without credentials (401)', async () => {
    const server = await backend(world());
    const res = await request(server).get('/api/pgbackup/backups').set('authorization', mockCredentials.none.header());
    expect(res.status).toBe(401);
  });

  it('registers its permissions with the permission system', async () => {
    const server = await backend(world());
    const res = await request(server)
      .get('/api/pgbackup/.well-known/backstage/permissions/metadata')
      .set('authorization', mockCredentials.service.header())
      .expect(200);
    const names = (res.body.permissions as { name: string }[]).map((p) => p.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'pgbackup.backup.read',
        'pgbackup.backup.create',
        'pgbackup.backup.delete',
        'pgbackup.backup.restore',
        'pgbackup.backup.verify',
        'pgbackup.namespace.backup.create',
      ]),
    );
    expect(res.body.permissions.find((p: { name: string }) => p.name === 'pgbackup.backup.create')).toMatchObject({
      type: 'resource',
      resourceType: 'catalog-entity',
    });
    expect(res.body.permissions.find((p: { name: string }) => p.name === 'pgbackup.namespace.backup.verify')).toMatchObject({
      type: 'resource',
      resourceType: 'pgbackup-namespace',
    });
    expect((res.body.rules as { name: string; resourceType: string }[]).map((r) => `${r.resourceType} ${r.name}`)).toEqual(
      expect.arrayContaining(['pgbackup-namespace IS_IN_NAMESPACE', 'pgbackup-namespace IS_IN_CLUSTER']),
    );
  });

  it('shows the backups of an entity, resolved from its annotations', async () => {
    const deps = world();
    const ids = seedBackups(deps, 2);
    const server = await backend(deps, AuthorizeResult.ALLOW);
    const res = await request(server).get('/api/pgbackup/entity/component/default/orders-db').set('authorization', user()).expect(200);
    expect(res.body).toMatchObject({
      entityRef: 'component:default/orders-db',
      cluster: 'local',
      namespace: 'db',
      statefulSet: 'pg',
      errors: [],
    });
    expect(res.body.backups.map((b: { id: string }) => b.id)).toEqual([...ids].reverse());
    expect(res.body.status).toMatchObject({ replicas: 1, readyReplicas: 1 });
  });

  it('creates a backup of an entity when the create permission allows it', async () => {
    const deps = world();
    const server = await backend(deps, AuthorizeResult.ALLOW);
    const res = await request(server)
      .post('/api/pgbackup/entity/component/default/orders-db/backups')
      .set('authorization', user())
      .send({})
      .expect(202);
    expect(res.body).toMatchObject({ databaseName: 'pg', namespace: 'db', status: 'in_progress', backupType: 'manual' });
    expect(res.headers.location).toBe(`/api/pgbackup/backup/${res.body.id}?namespace=db`);
    expect(deps.snapshots.all()).toHaveLength(1);
  });

  it('answers 403 with the permission name when create is denied, and creates nothing', async () => {
    const deps = world();
    const server = await backend(deps, AuthorizeResult.DENY);
    const entityRes = await request(server)
      .post('/api/pgbackup/entity/component/default/orders-db/backups')
      .set('authorization', user())
      .send({});
    expect(entityRes.status).toBe(403);
    expect(entityRes.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(entityRes.body).toMatchObject({ status: 403, code: 'Forbidden' });
    expect(entityRes.body.detail).toMatch(/pgbackup\.backup\.create denied/);
    const direct = await request(server)
      .post('/api/pgbackup/backup')
      .set('authorization', user())
      .send({ databaseName: 'pg', namespace: 'db', backupType: 'manual' });
    expect(direct.status).toBe(403);
    expect(direct.body.detail).toMatch(/pgbackup\.namespace\.backup\.create denied/);
    expect(deps.snapshots.all()).toHaveLength(0);
  });

  it('denies reads of an entity when read is denied', async () => {
    const server = await backend(world(), AuthorizeResult.DENY);
    const res = await request(server).get('/api/pgbackup/entity/component/default/orders-db').set('authorization', user());
    expect(res.status).toBe(403);
  });

  it('explains an entity without the annotation (404) or with a bad one (422), and an unknown entity (404)', async () => {
    const server = await backend(world(), AuthorizeResult.ALLOW);
    const missing = await request(server).get('/api/pgbackup/entity/component/default/no-annotation').set('authorization', user());
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'MissingAnnotation' });
    expect(missing.body.hint).toMatch(/pgbackup\.io\/statefulset/);
    const bad = await request(server).get('/api/pgbackup/entity/component/default/bad-annotation').set('authorization', user());
    expect(bad.status).toBe(422);
    const unknown = await request(server).get('/api/pgbackup/entity/component/default/nobody').set('authorization', user());
    expect(unknown.status).toBe(404);
  });

  it('answers 403 when the StatefulSet does not name the entity back, 404 when it is gone', async () => {
    const deps = world();
    seedBackups(deps, 1);
    const server = await backend(deps, AuthorizeResult.ALLOW);
    await linkEntity(deps, 'component:default/someone-else');
    const res = await request(server).get('/api/pgbackup/entity/component/default/orders-db').set('authorization', user());
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(/names another Backstage entity \(component:default\/someone-else\), not component:default\/orders-db/);
    expect(res.body.hint).toMatch(/kubectl annotate statefulset pg -n db pgbackup\.io\/backstage-entity=component:default\/orders-db/);
    deps.workloads.getStatefulSet = async () => {
      throw notFound('StatefulSet "pg" not found in namespace "db"');
    };
    expect((await request(server).get('/api/pgbackup/entity/component/default/orders-db').set('authorization', user())).status).toBe(404);
  });
});
