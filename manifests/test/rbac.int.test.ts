// RBAC of the manifests == the permissions the code uses (packages/core/src/domain/kubernetesPermissions.ts), the same list
// `kubectl pgbackup schedule set` writes and `doctor` checks. Change that list and this test says what to change here.
import { beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { scheduleManifests } from '../../packages/core/src/kubernetes/scheduleWriter.js';
import { PERMISSIONS, type RbacRule, VERIFY_PERMISSIONS, rbacRules } from '../../packages/core/src/domain/kubernetesPermissions.js';
import { KUSTOMIZE, OVERLAYS, type Obj, all, find, helmTemplate, kustomizeBuild } from './helpers.js';

/** group/resource verb [names] triples, sorted: the comparison ignores how rules are grouped. */
const triples = (rules: RbacRule[]) =>
  rules
    .flatMap((r) =>
      r.apiGroups.flatMap((g) =>
        r.resources.flatMap((res) =>
          r.verbs.map((v) => `${g || 'core'}/${res} ${v}${r.resourceNames ? ` [${r.resourceNames.join(' ')}]` : ''}`),
        ),
      ),
    )
    .sort();

const namespaced = PERMISSIONS.filter((p) => !p.clusterScoped);
/** The Role of the backup of one StatefulSet: pods/exec and the Lease only for its pods and Lease. */
const backupRole = (statefulSet: string) => triples(rbacRules(namespaced, statefulSet));
const CLUSTER = triples(rbacRules(PERMISSIONS.filter((p) => p.clusterScoped)));
// The API serves every StatefulSet of its namespace (no names), and its informer cache also watches StatefulSets and CronJobs.
const API = [...triples(rbacRules(namespaced)), 'apps/statefulsets watch', 'batch/cronjobs watch'].sort();

const expectedYaml = (rules: RbacRule[]) =>
  rules
    .map(
      (r) =>
        `  - apiGroups: [${r.apiGroups.map((g) => g || '""').join(', ')}]\n    resources: [${r.resources.join(', ')}]\n${r.resourceNames ? `    resourceNames: [${r.resourceNames.join(', ')}]\n` : ''}    verbs: [${r.verbs.join(', ')}]`,
    )
    .join('\n');

let renders: Record<string, Obj[]>;

const AGGREGATE = /^rbac\.authorization\.k8s\.io\/aggregate-to-/;
/** The backup's ClusterRole: not the API's TokenReview/SubjectAccessReview role, not one of the shared access roles. */
const backupClusterRole = (objects: Obj[]): Obj => {
  const roles = all(objects, 'ClusterRole').filter(
    (r) => !r.metadata.name.endsWith('-api-auth') && !Object.keys(r.metadata.labels ?? {}).some((l) => AGGREGATE.test(l)),
  );
  expect(roles.map((r) => r.metadata.name)).toHaveLength(1);
  return roles[0]!;
};

beforeAll(async () => {
  renders = {};
  for (const o of OVERLAYS) renders[`kustomize ${o}`] = await kustomizeBuild(path.join(KUSTOMIZE, 'overlays', o));
  renders['helm defaults'] = await helmTemplate();
  renders['helm backup only'] = await helmTemplate([
    '--set',
    'api.enabled=false',
    '--set',
    'postgresql.enabled=false',
    '--set',
    'backup.statefulSet=orders-db',
  ]);
}, 60_000);

describe('RBAC == core PERMISSIONS', () => {
  it('helm backup.verify=true: the backup Role is PERMISSIONS plus VERIFY_PERMISSIONS, the very rules `schedule set --verify` writes', async () => {
    const objects = await helmTemplate(['--set', 'backup.verify=true', '--set', 'api.enabled=false']);
    const role = all(objects, 'Role').find((r) => r.metadata.name.startsWith('pgbackup-') && !r.metadata.name.endsWith('-api'))!;
    const statefulSet = role.metadata.labels['pgbackup.io/statefulset'] as string;
    const written = find(
      scheduleManifests({ namespace: 'x', statefulSet, schedule: { cron: '@daily' }, image: 'i', verify: true }) as Obj[],
      'Role',
    );
    expect(triples(role.rules)).toEqual(triples(written.rules));
    expect(triples(role.rules)).toEqual([...backupRole(statefulSet), ...triples(rbacRules(VERIFY_PERMISSIONS))].sort());
  });

  it('the Role of the backup ServiceAccount has exactly the namespaced PERMISSIONS', () => {
    for (const [what, objects] of Object.entries(renders)) {
      const roles = all(objects, 'Role').filter((r) => r.metadata.name.startsWith('pgbackup-') && !r.metadata.name.endsWith('-api'));
      expect({ what, roles: roles.length }).toEqual({ what, roles: 1 });
      const got = triples(roles[0]!.rules);
      const statefulSet = roles[0]!.metadata.labels['pgbackup.io/statefulset'] as string;
      if (JSON.stringify(got) !== JSON.stringify(backupRole(statefulSet)))
        throw new Error(
          `${what}: Role ${roles[0]!.metadata.name} differs from PERMISSIONS; its rules should be:\n${expectedYaml(rbacRules(namespaced, statefulSet))}\ngot ${got.join(', ')}`,
        );
    }
  });

  it('the ClusterRole has exactly the cluster-scoped PERMISSIONS, bound to the backup and API ServiceAccounts', () => {
    for (const [what, objects] of Object.entries(renders)) {
      const role = backupClusterRole(objects);
      expect({ what, rules: triples(role.rules) }).toEqual({ what, rules: CLUSTER });
      const subjects = all(objects, 'ClusterRoleBinding')
        .filter((b) => b.roleRef.name === role.metadata.name)
        .flatMap((b) => b.subjects.map((s: Obj) => s.name));
      const accounts = all(objects, 'ServiceAccount').map((s) => s.metadata.name);
      expect({ what, subjects: subjects.sort() }).toEqual({ what, subjects: accounts.sort() });
    }
  });

  it('the API may ask who is calling and whether they may (TokenReview, SubjectAccessReview), bound to its ServiceAccount only', () => {
    for (const [what, objects] of Object.entries(renders)) {
      const auth = all(objects, 'ClusterRole').filter((r) => r.metadata.name.endsWith('-api-auth'));
      if (what === 'helm backup only') {
        expect(auth).toEqual([]);
        continue;
      }
      expect({ what, rules: triples(auth[0]!.rules) }).toEqual({
        what,
        rules: ['authentication.k8s.io/tokenreviews create', 'authorization.k8s.io/subjectaccessreviews create'],
      });
      const subjects = all(objects, 'ClusterRoleBinding')
        .filter((b) => b.roleRef.name === auth[0]!.metadata.name)
        .flatMap((b) => b.subjects.map((s: Obj) => s.name));
      expect({ what, subjects }).toEqual({
        what,
        subjects: all(objects, 'ServiceAccount')
          .map((a) => a.metadata.name)
          .filter((n) => n.endsWith('-api')),
      });
    }
  });

  it('the API Role is PERMISSIONS plus watch on StatefulSets and CronJobs', () => {
    for (const [what, objects] of Object.entries(renders)) {
      const api = all(objects, 'Role').filter((r) => r.metadata.name.endsWith('-api'));
      if (what === 'helm backup only') expect(api).toEqual([]);
      else expect({ what, rules: triples(api[0]!.rules) }).toEqual({ what, rules: API });
    }
  });

  it('the kustomize Role and ClusterRole are the very rules `kubectl pgbackup schedule set` writes', () => {
    const written = scheduleManifests({
      namespace: 'pgbackup-local',
      statefulSet: 'postgresql',
      schedule: { cron: '0 2 * * *' },
      image: 'x',
    });
    const objects = renders['kustomize local']!;
    expect(find(objects, 'Role', 'pgbackup-postgresql').rules).toEqual(find(written as Obj[], 'Role').rules);
    expect(backupClusterRole(objects).rules).toEqual(find(written as Obj[], 'ClusterRole').rules);
    expect(backupClusterRole(objects).metadata.name).toBe(find(written as Obj[], 'ClusterRole').metadata.name);
    for (const kind of ['ServiceAccount', 'Role', 'RoleBinding'])
      expect(find(objects, kind, 'pgbackup-postgresql').metadata.name).toBe(find(written as Obj[], kind).metadata.name);
  });

  it('no ServiceAccount gets more: no wildcards, no secrets, no escalation verbs', () => {
    for (const [what, objects] of Object.entries(renders)) {
      for (const role of [...all(objects, 'Role'), ...all(objects, 'ClusterRole')]) {
        const t = triples(role.rules).join('\n');
        expect({ what, role: role.metadata.name, bad: t.match(/\*|secrets|bind|escalate|impersonate/g) }).toEqual({
          what,
          role: role.metadata.name,
          bad: null,
        });
      }
    }
  });
});
