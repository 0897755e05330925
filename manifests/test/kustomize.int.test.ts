// Static checks of the Kustomize base, overlays and component (kubectl kustomize from .tools/bin, no cluster).
import { beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { expectApi, expectHardenedPods, expectNetworkPoliciesAndPdbs, expectPostgresql } from './checks.js';
import { KUSTOMIZE, MANIFESTS, OVERLAYS, type Obj, all, clusterToolsBuilt, find, kustomizeBuild } from './helpers.js';

const built: Record<string, Obj[]> = {};

beforeAll(async () => {
  if (!clusterToolsBuilt()) throw new Error('.tools/bin/kubectl and helm are missing: run `npm run cluster:build`');
  for (const dir of ['base', ...OVERLAYS.map((o) => `overlays/${o}`)]) built[dir] = await kustomizeBuild(path.join(KUSTOMIZE, dir));
}, 60_000);

describe('kustomize', () => {
  it.each(['base', ...OVERLAYS.map((o) => `overlays/${o}`)])('%s builds: StatefulSet, Services, CronJob, RBAC, API', (dir) => {
    const kinds = new Set(built[dir]!.map((o) => o.kind));
    for (const kind of [
      'StatefulSet',
      'Service',
      'CronJob',
      'ServiceAccount',
      'Role',
      'RoleBinding',
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
    ])
      expect({ dir, kind, present: kinds.has(kind) }).toEqual({ dir, kind, present: true });
    expectHardenedPods(built[dir]!);
    expectPostgresql(built[dir]!);
    expectApi(built[dir]!);
  });

  it.each(OVERLAYS)('overlay %s puts everything namespaced in its namespace and binds the ServiceAccounts there', (overlay) => {
    const objects = built[`overlays/${overlay}`]!;
    const ns = { local: 'pgbackup-local', development: 'pgbackup-dev', production: 'pgbackup' }[overlay];
    const clusterScoped = new Set(['ClusterRole', 'ClusterRoleBinding', 'Namespace', 'VolumeSnapshotClass', 'CustomResourceDefinition']);
    for (const o of objects)
      if (!clusterScoped.has(o.kind))
        expect(`${o.kind}/${o.metadata.name} in ${o.metadata.namespace}`).toBe(`${o.kind}/${o.metadata.name} in ${ns}`);
    for (const b of [...all(objects, 'RoleBinding'), ...all(objects, 'ClusterRoleBinding')]) {
      for (const s of b.subjects) expect(s.namespace).toBe(ns);
      if (b.kind === 'ClusterRoleBinding') expect(b.metadata.name).toContain(ns);
    }
  });

  it('the backup CronJob: "0 2 * * *", Forbid, history limits, the CLI image and command', () => {
    for (const dir of ['base', 'overlays/local', 'overlays/production']) {
      const cj = find(built[dir]!, 'CronJob', 'pgbackup-postgresql');
      expect(cj.spec).toMatchObject({
        schedule: '0 2 * * *',
        concurrencyPolicy: 'Forbid',
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
      });
      const c = cj.spec.jobTemplate.spec.template.spec.containers[0];
      expect(c.image).toMatch(/kubectl-pgbackup:/); // the local cluster's pod-runner runs the repo's CLI for this image
      expect(c.command.slice(0, 2)).toEqual(['sh', '-c']);
      expect(c.command[2]).toMatch(
        /^set -e; kubectl-pgbackup create postgresql -n \$\(POD_NAMESPACE\) --type scheduled --lock-wait 15m --wait .*; kubectl-pgbackup prune postgresql /,
      );
      expect(c.env.find((e: Obj) => e.name === 'POD_NAMESPACE').valueFrom.fieldRef.fieldPath).toBe('metadata.namespace');
    }
    expect(find(built['overlays/development']!, 'CronJob').spec.schedule).toBe('0 */6 * * *');
  });

  it('local: StorageClass pgbackup-local, small volume, keep the 2 newest backups', () => {
    const objects = built['overlays/local']!;
    expectPostgresql(objects, { storageClass: 'pgbackup-local', size: '1Gi' });
    expect(find(objects, 'Namespace').metadata.name).toBe('pgbackup-local');
    expect(find(objects, 'CronJob').metadata.annotations!['pgbackup.io/retention']).toBe('{"keepLast":2}');
    // secretGenerator: the StatefulSet refers to the hashed name.
    const secret = find(objects, 'Secret');
    expect(
      find(objects, 'StatefulSet').spec.template.spec.containers[0].env.find((e: Obj) => e.name === 'POSTGRES_PASSWORD').valueFrom
        .secretKeyRef.name,
    ).toBe(secret.metadata.name);
  });

  it('production: sizes, retention, 2 API replicas, PodDisruptionBudgets and NetworkPolicies for every pod', () => {
    const objects = built['overlays/production']!;
    const sts = expectPostgresql(objects, { size: '100Gi' });
    expect(sts.spec.template.spec.containers[0].resources).toEqual({ requests: { cpu: '1', memory: '4Gi' }, limits: { memory: '4Gi' } });
    expect(find(objects, 'Deployment', 'pgbackup-api').spec.replicas).toBe(2);
    expect(JSON.parse(find(objects, 'CronJob').metadata.annotations!['pgbackup.io/retention'])).toEqual({ keepWeekly: 12, maxAgeDays: 30 });
    expect(all(objects, 'Secret')).toEqual([]); // the password is yours to create, never in the repository
    expectNetworkPoliciesAndPdbs(objects);
  });

  it.each(OVERLAYS)(
    'overlay %s: every value of its settings.yaml lands where it belongs (by name), and Settings is never applied',
    (overlay) => {
      const objects = built[`overlays/${overlay}`]!;
      const settings = parse(readFileSync(path.join(KUSTOMIZE, 'overlays', overlay, 'settings.yaml'), 'utf8'));
      expect(all(objects, 'Settings')).toEqual([]);
      const sts = find(objects, 'StatefulSet', 'postgresql');
      const claim = sts.spec.volumeClaimTemplates.find((c: Obj) => c.metadata.name === 'data');
      const postgres = sts.spec.template.spec.containers.find((c: Obj) => c.name === 'postgres');
      const cj = find(objects, 'CronJob', 'pgbackup-postgresql');
      const api = find(objects, 'Deployment', 'pgbackup-api');
      expect({
        postgresql: {
          storage: claim.spec.resources.requests.storage,
          storageClassName: claim.spec.storageClassName,
          args: postgres.args,
          resources: postgres.resources,
        },
        backup: {
          schedule: cj.spec.schedule,
          retention: cj.metadata.annotations!['pgbackup.io/retention'],
          create: cj.spec.jobTemplate.spec.template.spec.containers[0].command[2].split('; ')[1],
          prune: cj.spec.jobTemplate.spec.template.spec.containers[0].command[2].split('; ')[2],
          activeDeadlineSeconds: cj.spec.jobTemplate.spec.activeDeadlineSeconds,
        },
        api: { replicas: api.spec.replicas, resources: api.spec.template.spec.containers[0].resources },
      }).toEqual({
        ...settings,
        apiVersion: undefined,
        kind: undefined,
        metadata: undefined,
        postgresql: { storageClassName: undefined, ...settings.postgresql },
      });
    },
  );

  it('a copy of an overlay with another namespace: only `namespace:` changes, the cluster-scoped names follow', async () => {
    const dir = path.join(MANIFESTS, '.work', 'overlay-copy');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(path.dirname(dir), { recursive: true });
    cpSync(path.join(KUSTOMIZE, 'overlays', 'production'), dir, { recursive: true });
    const file = path.join(dir, 'kustomization.yaml');
    // The copy is as deep as the overlays (manifests/.work/<dir>): its relative paths go through kustomize/.
    writeFileSync(
      file,
      readFileSync(file, 'utf8')
        .replace(/^namespace: pgbackup$/m, 'namespace: payments')
        .replaceAll('../../base', '../../kustomize/base')
        .replaceAll('../../components', '../../kustomize/components'),
    );
    const objects = await kustomizeBuild(dir);
    expect(all(objects, 'ClusterRoleBinding').map((b) => [b.metadata.name, b.subjects.map((s: Obj) => s.namespace)])).toEqual([
      ['pgbackup-payments-api', ['payments']],
      ['pgbackup-payments-api-auth', ['payments']],
      ['pgbackup-payments-postgresql', ['payments']],
    ]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('the remote-base example pins a release (?ref=) and builds when its URLs point here', async () => {
    const example = path.join(KUSTOMIZE, 'examples', 'remote-base');
    const text = readFileSync(path.join(example, 'kustomization.yaml'), 'utf8');
    const remote = /https:\/\/github\.com\/pgbackup\/pgbackup\/\/manifests\/kustomize\/([\w/-]+)\?ref=(v[\d.]+)/;
    const urls = [...text.matchAll(/- (https:\S+)/g)].map((m) => m[1]!);
    expect(urls.length).toBeGreaterThanOrEqual(2);
    const chart = parse(readFileSync(path.join(MANIFESTS, 'helm/pgbackup/Chart.yaml'), 'utf8'));
    for (const url of urls)
      expect({ url, ref: new RegExp(`^${remote.source}$`).exec(url)?.[2] }).toEqual({ url, ref: `v${chart.appVersion}` });
    // Offline, the same kustomization with each remote replaced by this checkout's directory.
    const dir = path.join(MANIFESTS, '.work', 'remote-base');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(path.dirname(dir), { recursive: true });
    cpSync(example, dir, { recursive: true });
    writeFileSync(path.join(dir, 'kustomization.yaml'), text.replace(new RegExp(remote.source, 'g'), '../../kustomize/$1'));
    const objects = await kustomizeBuild(dir);
    expect(find(objects, 'StatefulSet', 'postgresql').metadata.namespace).toBe('orders');
    expect(all(objects, 'ClusterRoleBinding').map((b) => b.metadata.name)).toContain('pgbackup-orders-postgresql');
    rmSync(dir, { recursive: true, force: true });
  });

  it('the VolumeSnapshotClass component builds on top of the base', async () => {
    const dir = path.join(MANIFESTS, '.work', 'component-check');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, 'kustomization.yaml'),
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../../kustomize/base]\ncomponents: [../../kustomize/components/volumesnapshotclass]\n',
    );
    const vsc = find(await kustomizeBuild(dir), 'VolumeSnapshotClass');
    expect(vsc.metadata.annotations!['snapshot.storage.kubernetes.io/is-default-class']).toBe('true');
    expect(vsc).toMatchObject({ apiVersion: 'snapshot.storage.k8s.io/v1', deletionPolicy: 'Delete' });
    rmSync(dir, { recursive: true, force: true });
  });
});
