/**
 * The standalone server's security model on the local cluster (docs/security.md): every principal
 * × every route × namespaces A and B gets exactly the expected status, from a real TokenReview
 * (audience pgbackup) and a real SubjectAccessReview against the RBAC of manifests/…/api-access.yaml.
 * An inline POSTGRES_PASSWORD of the StatefulSet never appears in an answer or a log line, and the
 * API's Deployment is admitted under Pod Security `restricted`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BackupResourceSchema } from '@pgbackup/core';
import {
  MIN,
  ROOT,
  apply,
  createNamespace,
  deleteNamespace,
  eventually,
  k,
  kubectl,
  requireClusterUp,
} from '../../../tools/cluster/test/kube.js';
import { postgresStatefulSet, waitStatefulSetReady } from '../../../tools/cluster/test/postgres.js';
import { privilegedWithHostPath, rewriteRecordedStatefulSet } from '../../../tools/cluster/test/backups.js';
import { jsonLogger } from '../src/logger.js';
import type { Standalone } from '../src/standalone.js';
import { startLocalApi } from './localApi.js';

const ACCESS = path.join(ROOT, 'manifests/helm/pgbackup/crds');
const PASSWORD = `inline-pw-${Date.now().toString(36)}`;
const MISSING_ID = 'pg-20000101000000-zzzz';

type Principal = 'anonymous' | 'bad-token' | 'other-audience' | 'viewer-A' | 'operator-A' | 'restorer-A' | 'cluster-admin';
const PRINCIPALS: Principal[] = ['anonymous', 'bad-token', 'other-audience', 'viewer-A', 'operator-A', 'restorer-A', 'cluster-admin'];

let A = '';
let B = '';
let api: Standalone;
let backupId = '';
const tokens: Partial<Record<Principal, string>> = {};
const logLines: string[] = [];
const answers: string[] = [];
const adminBinding = `pgbackup-security-admin-${Date.now().toString(36)}`;

async function call(principal: Principal, method: string, p: string, body?: unknown): Promise<{ status: number; text: string }> {
  const token = principal === 'anonymous' ? undefined : principal === 'bad-token' ? 'not-a-token' : tokens[principal];
  const res = await fetch(`${api.url}${p}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  answers.push(text);
  return { status: res.status, text };
}

/** What each role may do (ClusterRoles pgbackup-viewer / -operator / -restorer), as verbs of the routes below. */
const GRANTS: Record<'viewer-A' | 'operator-A' | 'restorer-A', string[]> = {
  'viewer-A': ['get', 'list'],
  'operator-A': ['get', 'list', 'create', 'delete', 'verify'],
  'restorer-A': ['get', 'list', 'create', 'delete', 'verify', 'restore'],
};

interface RouteCase {
  name: string;
  verb: string;
  method: string;
  path: (ns: string) => string;
  body?: (ns: string) => unknown;
  /** The answer once authorized, by namespace (A holds the database and its backup, B is empty). */
  allowed: (ns: string) => number;
}

const ROUTES: RouteCase[] = [
  { name: 'GET /backups', verb: 'list', method: 'GET', path: (ns) => `/backups?namespace=${ns}`, allowed: () => 200 },
  {
    name: 'GET /backup/{id}',
    verb: 'get',
    method: 'GET',
    path: (ns) => `/backup/${backupId}?namespace=${ns}`,
    allowed: (ns) => (ns === A ? 200 : 404),
  },
  {
    name: 'GET status',
    verb: 'get',
    method: 'GET',
    path: (ns) => `/backup/statefulset/pg/status?namespace=${ns}`,
    allowed: (ns) => (ns === A ? 200 : 404),
  },
  { name: 'GET snapshots', verb: 'list', method: 'GET', path: (ns) => `/backup/snapshots/data-pg-0?namespace=${ns}`, allowed: () => 200 },
  // Authorized first, then the use case: a StatefulSet that does not exist answers 404 only to who may create.
  {
    name: 'POST /backup',
    verb: 'create',
    method: 'POST',
    path: () => '/backup',
    body: (ns) => ({ databaseName: 'absent', namespace: ns }),
    allowed: () => 404,
  },
  {
    name: 'DELETE (dry run)',
    verb: 'delete',
    method: 'DELETE',
    path: (ns) => `/backup/${backupId}?namespace=${ns}&dryRun=true&force=true`,
    allowed: (ns) => (ns === A ? 200 : 404),
  },
  {
    name: 'POST restore (dry run)',
    verb: 'restore',
    method: 'POST',
    path: (ns) => `/backup/${backupId}/restore?namespace=${ns}`,
    body: () => ({ to: 'pg-copy', dryRun: true }),
    allowed: (ns) => (ns === A ? 200 : 404),
  },
  {
    name: 'POST verify',
    verb: 'verify',
    method: 'POST',
    path: (ns) => `/backup/${MISSING_ID}/verify?namespace=${ns}`,
    body: () => ({ checks: ['amcheck'] }),
    allowed: () => 404,
  },
];

function expected(principal: Principal, route: RouteCase, ns: string): number {
  if (principal === 'anonymous' || principal === 'bad-token' || principal === 'other-audience') return 401;
  if (principal === 'cluster-admin') return route.allowed(ns);
  return ns === A && GRANTS[principal].includes(route.verb) ? route.allowed(ns) : 403;
}

describe('the standalone API guards each namespace as Kubernetes RBAC does', () => {
  beforeAll(async () => {
    await requireClusterUp();
    await k(['apply', '-k', ACCESS]);
    A = await createNamespace('sec-a');
    B = await createNamespace('sec-b');
    await apply(A, await postgresStatefulSet('pg', { simulated: true, password: PASSWORD }));
    for (const [sa, role] of [
      ['viewer', 'pgbackup-viewer'],
      ['operator', 'pgbackup-operator'],
      ['restorer', 'pgbackup-restorer'],
      ['admin', ''],
    ] as const) {
      await k(['create', 'serviceaccount', sa, '-n', A]);
      if (role) await k(['create', 'rolebinding', sa, `--clusterrole=${role}`, `--serviceaccount=${A}:${sa}`, '-n', A]);
    }
    await k(['create', 'clusterrolebinding', adminBinding, '--clusterrole=cluster-admin', `--serviceaccount=${A}:admin`]);
    const token = async (sa: string, audience = 'pgbackup') => (await k(['create', 'token', sa, '-n', A, '--audience', audience])).trim();
    tokens['viewer-A'] = await token('viewer');
    tokens['operator-A'] = await token('operator');
    tokens['restorer-A'] = await token('restorer');
    tokens['cluster-admin'] = await token('admin');
    tokens['other-audience'] = await token('admin', 'another-service');
    api = await startLocalApi(
      { PGBACKUP_WATCH_NAMESPACES: `${A},${B}` },
      jsonLogger('debug', (l) => logLines.push(l)),
    );
    await waitStatefulSetReady(A, 'pg');
    const created = await call('operator-A', 'POST', '/backup', { databaseName: 'pg', namespace: A });
    expect(created.status).toBe(202);
    backupId = BackupResourceSchema.parse(JSON.parse(created.text)).id;
    await eventually('the backup to complete', 3 * MIN, async () => {
      const b = BackupResourceSchema.parse(JSON.parse((await call('viewer-A', 'GET', `/backup/${backupId}?namespace=${A}`)).text));
      if (b.isFailed) throw new Error(`backup failed: ${b.error}`);
      return b.isCompleted ? true : undefined;
    });
  }, 6 * MIN);

  afterAll(async () => {
    await api?.close();
    await kubectl(['delete', 'clusterrolebinding', adminBinding]).catch(() => undefined);
    for (const ns of [A, B]) if (ns) await deleteNamespace(ns).catch(() => undefined);
  }, 4 * MIN);

  it(
    `answers ${PRINCIPALS.length} principals × ${ROUTES.length} routes × 2 namespaces exactly`,
    async () => {
      const got: string[] = [];
      const want: string[] = [];
      for (const principal of PRINCIPALS)
        for (const route of ROUTES)
          for (const ns of [A, B]) {
            const res = await call(principal, route.method, route.path(ns), route.body?.(ns));
            const label = `${principal} ${route.name} in ${ns === A ? 'A' : 'B'}`;
            got.push(`${label}: ${res.status}`);
            want.push(`${label}: ${expected(principal, route, ns)}`);
          }
      expect(got).toEqual(want);
      expect(got.length).toBeGreaterThanOrEqual(100);
    },
    3 * MIN,
  );

  it('authorizes a restore into another namespace there too, and a list over every namespace cluster-wide', async () => {
    const cross = { to: 'pg-copy', dryRun: true, targetNamespace: B };
    expect((await call('restorer-A', 'POST', `/backup/${backupId}/restore?namespace=${A}`, cross)).status).toBe(403);
    expect((await call('cluster-admin', 'POST', `/backup/${backupId}/restore?namespace=${A}`, cross)).status).toBe(200);
    expect((await call('restorer-A', 'GET', '/backups')).status).toBe(403);
    expect((await call('cluster-admin', 'GET', '/backups')).status).toBe(200);
    const denied = await call('viewer-A', 'POST', `/backup/${MISSING_ID}/verify?namespace=${A}`, {});
    expect(JSON.parse(denied.text)).toMatchObject({
      status: 403,
      detail: `system:serviceaccount:${A}:viewer may not create backups/verify.pgbackup.io in namespace ${A}`,
    });
    expect(JSON.parse(denied.text).hint).toMatch(/kubectl auth can-i create backups\/verify\.pgbackup\.io/);
  });

  it('answers unsupported methods 405 with Allow, after authentication', async () => {
    const res = await fetch(`${api.url}/backup/${backupId}?namespace=${A}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${tokens['cluster-admin']}` },
    });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, DELETE, HEAD');
  });

  it('refuses a restore whose recorded pod template was rewritten to mount the host and run privileged (403 problem), and takes no override', async () => {
    const restore = `/backup/${backupId}/restore?namespace=${A}`;
    expect((await call('restorer-A', 'POST', restore, { to: 'pg-copy', dryRun: true })).status).toBe(200);
    await rewriteRecordedStatefulSet(A, backupId, privilegedWithHostPath);
    const refused = await call('cluster-admin', 'POST', restore, { to: 'pg-copy' });
    expect({ status: refused.status, problem: JSON.parse(refused.text) }).toMatchObject({
      status: 403,
      problem: {
        status: 403,
        code: 'Forbidden',
        detail: `the pod template recorded on backup ${backupId} grants more than the live StatefulSet ${A}/pg: hostPath volume host-root (/); container postgres: privileged`,
        object: { kind: 'Backup', name: backupId, namespace: A },
      },
    });
    const override = await call('cluster-admin', 'POST', restore, { to: 'pg-copy', trustRecordedPodTemplate: true });
    expect({ status: override.status, detail: JSON.parse(override.text).detail }).toEqual({
      status: 422,
      detail: expect.stringMatching(/trustRecordedPodTemplate/),
    });
    expect(await k(['get', 'statefulset,pvc', '-n', A, '-o', 'name'])).not.toMatch(/pg-copy/);
  });

  it('never returns or logs the inline POSTGRES_PASSWORD, nor a token; every audit line names its principal', async () => {
    // The StatefulSet holds it: the test would be empty if it did not.
    expect(await k(['get', 'statefulset', 'pg', '-n', A, '-o', 'json'])).toContain(PASSWORD);
    expect(answers.length).toBeGreaterThan(100);
    for (const text of [...answers, ...logLines]) expect(text).not.toContain(PASSWORD);
    for (const token of Object.values(tokens)) expect(logLines.join('\n')).not.toContain(token!);
    const audits = logLines.map((l) => JSON.parse(l) as { audit?: string; principal?: string }).filter((l) => l.audit);
    expect(audits.length).toBeGreaterThan(0);
    for (const line of audits) expect(line.principal).toMatch(/^system:serviceaccount:/);
  });
});

describe('the API Deployment under Pod Security restricted', () => {
  let ns = '';
  afterAll(async () => {
    if (ns) await deleteNamespace(ns).catch(() => undefined);
  }, 3 * MIN);

  it(
    'is admitted where enforce=restricted rejects a pod that is not',
    async () => {
      await requireClusterUp();
      ns = await createNamespace('sec-psa');
      await k([
        'label',
        'namespace',
        ns,
        'pod-security.kubernetes.io/enforce=restricted',
        'pod-security.kubernetes.io/enforce-version=latest',
      ]);
      await k(['create', 'serviceaccount', 'pgbackup-api', '-n', ns]);
      const manifest = readFileSync(path.join(ROOT, 'manifests/kustomize/base/api.yaml'), 'utf8').split('\n---\n')[0]!;
      // Pod Security enforces on pods (a Deployment only gets warnings): the pod its template makes is what must be admitted.
      const deployment = JSON.parse(await k(['create', '--dry-run=client', '-o', 'json', '-f', '-'], { input: manifest })) as {
        spec: { template: { metadata: Record<string, unknown>; spec: Record<string, unknown> } };
      };
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { ...deployment.spec.template.metadata, name: 'pgbackup-api' },
        spec: deployment.spec.template.spec,
      };
      const admitted = await kubectl(['create', '--dry-run=server', '-n', ns, '-f', '-'], { input: JSON.stringify(pod) });
      expect({ code: admitted.code, stderr: admitted.stderr }).toEqual({ code: 0, stderr: '' });
      // The same apply, for a pod that runs as root, is refused: the namespace does enforce.
      const rootPod = `apiVersion: v1\nkind: Pod\nmetadata: {name: root}\nspec:\n  containers: [{name: c, image: busybox}]\n`;
      const refused = await kubectl(['create', '--dry-run=server', '-n', ns, '-f', '-'], { input: rootPod });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/violates PodSecurity "restricted:latest"/);
    },
    2 * MIN,
  );
});
