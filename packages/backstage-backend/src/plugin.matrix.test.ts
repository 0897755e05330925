// The Backstage plugin's authorization, through startTestBackend with a permission policy written the
// way an adopter writes one: "team X may back up in namespace X" (isInNamespace), entity permissions
// by user. Every principal × every route × namespaces A (db: the database, linked to its entity) and
// B (other: empty) gets exactly the expected status.
import { describe, expect, it } from '@jest/globals';
import { type PermissionsService, coreServices, createServiceFactory } from '@backstage/backend-plugin-api';
import { mockCredentials, mockServices, startTestBackend } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult, type PolicyDecision, isResourcePermission } from '@backstage/plugin-permission-common';
import { BACKUP_ACTIONS, type BackupAction, CATALOG_ENTITY_RESOURCE_TYPE } from '@pgbackup/core/permissions';
import { aStatefulSetManifest } from '@pgbackup/core/testing';
import request from 'supertest';
import { linkEntity, seedBackups, world } from './__fixtures__/world.js';
import { createPgbackupConditionalDecision, pgbackupClustersServiceRef, pgbackupConditions, pgbackupPlugin } from './plugin.js';

type Principal = 'anonymous' | 'invalid-token' | 'other-audience' | 'viewer' | 'operator' | 'restorer' | 'admin';
const PRINCIPALS: Principal[] = ['anonymous', 'invalid-token', 'other-audience', 'viewer', 'operator', 'restorer', 'admin'];
const GRANTS: Record<'viewer' | 'operator' | 'restorer', BackupAction[]> = {
  viewer: ['read'],
  operator: ['read', 'create', 'delete', 'verify'],
  restorer: ['read', 'create', 'delete', 'verify', 'restore'],
};
const A = 'db';
const B = 'other';

/** The adopter's policy: each team acts only in its namespace (db); the admin everywhere. */
function decide(permission: { name: string; attributes: { action?: string } } & Record<string, unknown>, user?: string): PolicyDecision {
  const who = user?.replace('user:default/', '') as Principal | undefined;
  if (who === 'admin') return { result: AuthorizeResult.ALLOW };
  const action = BACKUP_ACTIONS.find((a) => permission.name.endsWith(`.${a}`))!;
  if (!who || !(who in GRANTS) || !GRANTS[who as keyof typeof GRANTS].includes(action)) return { result: AuthorizeResult.DENY };
  if (isResourcePermission(permission as never, CATALOG_ENTITY_RESOURCE_TYPE)) return { result: AuthorizeResult.ALLOW };
  return createPgbackupConditionalDecision(permission as never, pgbackupConditions.isInNamespace({ namespaces: [A] }));
}

const policyPermissions = createServiceFactory({
  service: coreServices.permissions,
  deps: {},
  factory: (): PermissionsService => {
    const userOf = (options: { credentials: { principal: unknown } }) =>
      (options.credentials.principal as { userEntityRef?: string }).userEntityRef;
    return {
      // Entity permissions: the policy decides per user (a catalog condition would be resolved by the catalog).
      authorize: async (requests, options) =>
        requests.map((r) => {
          const d = decide(r.permission as never, userOf(options));
          return { result: d.result === AuthorizeResult.ALLOW ? AuthorizeResult.ALLOW : AuthorizeResult.DENY };
        }),
      authorizeConditional: async (requests, options) => requests.map((r) => decide(r.permission as never, userOf(options))) as never,
    };
  },
});

const entity = (name: string, namespace: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name,
    namespace: 'default',
    annotations: { 'pgbackup.io/statefulset': 'pg', 'backstage.io/kubernetes-namespace': namespace },
  },
  spec: { type: 'service', owner: 'team-a', lifecycle: 'production' },
});

async function backend() {
  const deps = world();
  const [id] = seedBackups(deps, 2);
  await linkEntity(deps, 'component:default/orders-db');
  deps.workloadWriter.put(aStatefulSetManifest());
  const { server } = await startTestBackend({
    features: [
      pgbackupPlugin,
      mockServices.rootConfig.factory({ data: {} }),
      catalogServiceMock.factory({ entities: [entity('orders-db', A), entity('elsewhere-db', B)] }),
      createServiceFactory({
        service: pgbackupClustersServiceRef,
        deps: {},
        factory: () => ({ clusters: [{ name: 'local', deps, defaultNamespace: A }] }),
      }),
      policyPermissions,
    ],
  });
  return { server, id: id! };
}

interface RouteCase {
  name: string;
  action: BackupAction;
  method: 'get' | 'post' | 'delete';
  path: (ns: string, id: string) => string;
  body?: (ns: string) => object;
  /** Once authorized: A holds the database, its backups and the linked entity; B is empty. */
  allowed: (ns: string) => number;
}

const MISSING = 'pg-20000101000000-zzzz';
const entityOf = (ns: string) => `/entity/component/default/${ns === A ? 'orders-db' : 'elsewhere-db'}`;

const ROUTES: RouteCase[] = [
  { name: 'GET /backups', action: 'read', method: 'get', path: (ns) => `/backups?namespace=${ns}`, allowed: () => 200 },
  {
    name: 'GET /backup/{id}',
    action: 'read',
    method: 'get',
    path: (ns, id) => `/backup/${id}?namespace=${ns}`,
    allowed: (ns) => (ns === A ? 200 : 404),
  },
  {
    name: 'GET status',
    action: 'read',
    method: 'get',
    path: (ns) => `/backup/statefulset/pg/status?namespace=${ns}`,
    allowed: (ns) => (ns === A ? 200 : 404),
  },
  { name: 'GET snapshots', action: 'read', method: 'get', path: (ns) => `/backup/snapshots/data-pg-0?namespace=${ns}`, allowed: () => 200 },
  {
    name: 'POST /backup',
    action: 'create',
    method: 'post',
    path: () => '/backup',
    body: (ns) => ({ databaseName: 'absent', namespace: ns }),
    allowed: () => 404,
  },
  {
    name: 'DELETE (dry run)',
    action: 'delete',
    method: 'delete',
    path: (ns, id) => `/backup/${id}?namespace=${ns}&dryRun=true`,
    allowed: (ns) => (ns === A ? 200 : 404),
  },
  {
    name: 'POST restore (dry run)',
    action: 'restore',
    method: 'post',
    path: (ns, id) => `/backup/${id}/restore?namespace=${ns}`,
    body: () => ({ to: 'pg-copy', dryRun: true }),
    allowed: (ns) => (ns === A ? 200 : 404),
  },
  {
    name: 'POST verify',
    action: 'verify',
    method: 'post',
    path: (ns) => `/backup/${MISSING}/verify?namespace=${ns}`,
    body: () => ({}),
    allowed: () => 404,
  },
  // Entity routes: B's entity names a StatefulSet that does not exist, so the link cannot be confirmed (404).
  { name: 'GET entity', action: 'read', method: 'get', path: (ns) => entityOf(ns), allowed: (ns) => (ns === A ? 200 : 404) },
  {
    name: 'POST entity backup',
    action: 'create',
    method: 'post',
    path: (ns) => `${entityOf(ns)}/backups`,
    body: () => ({}),
    allowed: (ns) => (ns === A ? 202 : 404),
  },
  {
    name: 'DELETE entity backup (dry run)',
    action: 'delete',
    method: 'delete',
    path: (ns, id) => `${entityOf(ns)}/backups/${id}?dryRun=true`,
    allowed: (ns) => (ns === A ? 200 : 404),
  },
  {
    name: 'POST entity restore (dry run)',
    action: 'restore',
    method: 'post',
    path: (ns, id) => `${entityOf(ns)}/backups/${id}/restore`,
    body: () => ({ to: 'pg-copy', dryRun: true }),
    allowed: (ns) => (ns === A ? 200 : 404),
  },
  {
    name: 'POST entity verify',
    action: 'verify',
    method: 'post',
    path: (ns) => `${entityOf(ns)}/backups/${MISSING}/verify`,
    body: () => ({}),
    allowed: () => 404,
  },
];

function expected(principal: Principal, route: RouteCase, ns: string): number {
  if (principal === 'anonymous' || principal === 'invalid-token' || principal === 'other-audience') return 401;
  if (principal === 'admin') return route.allowed(ns);
  if (!GRANTS[principal].includes(route.action)) return 403;
  // Namespace permissions are conditional on isInNamespace(db); entity permissions allow the entity, wherever it points.
  return ns === A || route.name.includes('entity') ? route.allowed(ns) : 403;
}

const header = (p: Principal) =>
  p === 'anonymous'
    ? mockCredentials.none.header()
    : p === 'invalid-token'
      ? mockCredentials.user.invalidHeader()
      : p === 'other-audience'
        ? // A valid token on the admin's behalf, issued for another plugin (its audience): not for pgbackup.
          mockCredentials.service.header({ onBehalfOf: mockCredentials.user('user:default/admin'), targetPluginId: 'catalog' })
        : mockCredentials.user.header(`user:default/${p}`);

describe('the Backstage plugin under a namespace permission policy', () => {
  it(`answers ${PRINCIPALS.length} principals × ${ROUTES.length} routes × 2 namespaces exactly`, async () => {
    const got: string[] = [];
    const want: string[] = [];
    for (const principal of PRINCIPALS) {
      // A backend per principal: each starts at most one backup (the entity's, in A).
      const { server, id } = await backend();
      for (const route of ROUTES)
        for (const ns of [A, B]) {
          let req = request(server)
            [route.method](`/api/pgbackup${route.path(ns, id)}`)
            .set('authorization', header(principal));
          if (route.body) req = req.send(route.body(ns));
          const res = await req;
          const label = `${principal} ${route.name} in ${ns === A ? 'A' : 'B'}`;
          got.push(`${label}: ${res.status}`);
          want.push(`${label}: ${expected(principal, route, ns)}`);
        }
    }
    expect(got).toEqual(want);
    expect(got.length).toBeGreaterThanOrEqual(60);
  }, 120_000);

  it('refuses a restore into a namespace the policy does not grant, though the backup is in one it does', async () => {
    const { server, id } = await backend();
    const res = await request(server)
      .post(`/api/pgbackup/backup/${id}/restore?namespace=${A}`)
      .set('authorization', header('restorer'))
      .send({ to: 'pg-copy', dryRun: true, targetNamespace: B });
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(
      /not allowed to restore backups in namespace other of cluster local \(permission pgbackup\.namespace\.backup\.restore denied\)/,
    );
  });
});
