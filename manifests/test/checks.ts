// Invariants every rendering of the manifests (each Kustomize overlay, the Helm chart with any values) must keep.
import { expect } from '@jest/globals';
import { type Obj, all, podSpecs } from './helpers.js';

/** Non-root, read-only root filesystem, no privilege escalation, no capabilities, resources on every container. */
export function expectHardenedPods(objects: Obj[]): void {
  const specs = podSpecs(objects);
  expect(specs.length).toBeGreaterThanOrEqual(3);
  for (const { owner, spec } of specs) {
    const why = `${owner}`;
    expect({ why, runAsNonRoot: spec.securityContext?.runAsNonRoot }).toEqual({ why, runAsNonRoot: true });
    expect({ why, uid: spec.securityContext?.runAsUser > 0 }).toEqual({ why, uid: true });
    expect({ why, seccomp: spec.securityContext?.seccompProfile?.type }).toEqual({ why, seccomp: 'RuntimeDefault' });
    for (const c of spec.containers) {
      const who = `${owner} container ${c.name}`;
      expect({ who, sc: c.securityContext }).toEqual({
        who,
        sc: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
      });
      expect({ who, memoryLimit: typeof c.resources?.limits?.memory, cpuRequest: typeof c.resources?.requests?.cpu }).toEqual({
        who,
        memoryLimit: 'string',
        cpuRequest: 'string',
      });
      expect({ who, image: /:[\w.-]+$/.test(c.image) && !c.image.endsWith(':latest') }).toEqual({ who, image: true });
    }
  }
}

/** The PostgreSQL StatefulSet: one claim template, probes by pg_isready, uid 999 with fsGroup, writable emptyDirs. */
export function expectPostgresql(objects: Obj[], opts: { storageClass?: string; size?: string } = {}): Obj {
  const [sts] = all(objects, 'StatefulSet');
  expect(sts).toBeDefined();
  const pod = sts!.spec.template.spec;
  expect(pod.securityContext).toMatchObject({ runAsUser: 999, runAsGroup: 999, fsGroup: 999, runAsNonRoot: true });
  const c = pod.containers[0];
  expect(c.image).toMatch(/postgres(:15[.\w-]*|@sha256:[a-f0-9]{64})$/);
  for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) expect(c[probe].exec.command[0]).toBe('pg_isready');
  expect(c.env.find((e: { name: string }) => e.name === 'PGDATA').value).toBe('/var/lib/postgresql/data/pgdata');
  expect(c.env.find((e: { name: string }) => e.name === 'POSTGRES_PASSWORD').valueFrom.secretKeyRef).toBeDefined();
  const mounts = Object.fromEntries(c.volumeMounts.map((m: { mountPath: string; name: string }) => [m.mountPath, m.name]));
  // The chart's own mounts and volumes first; extraVolumes/extraVolumeMounts may follow.
  expect(mounts).toMatchObject({ '/var/lib/postgresql/data': 'data', '/var/run/postgresql': 'run', '/tmp': 'tmp' });
  expect(pod.volumes.slice(0, 2).map((v: Obj) => [v.name, Boolean(v.emptyDir)])).toEqual([
    ['run', true],
    ['tmp', true],
  ]);
  // ONE volume per pod: data and pg_wal together, so a snapshot is point-in-time.
  expect(sts!.spec.volumeClaimTemplates).toHaveLength(1);
  const claim = sts!.spec.volumeClaimTemplates[0];
  expect(claim.metadata.name).toBe('data');
  if (opts.storageClass !== undefined) expect(claim.spec.storageClassName).toBe(opts.storageClass);
  if (opts.size !== undefined) expect(claim.spec.resources.requests.storage).toBe(opts.size);
  // A headless Service for the StatefulSet and a client Service, both selecting pod 0 (the primary: the chart's
  // client Service selects only it; with replicas > 1 a read Service selects every pod as well).
  const pod0 = { ...sts!.spec.template.metadata.labels, 'statefulset.kubernetes.io/pod-name': `${sts!.metadata.name}-0` };
  const services = all(objects, 'Service').filter((s) => matches(s.spec.selector, pod === undefined ? {} : pod0));
  const replicas = Number(sts!.spec.replicas ?? 1);
  expect(services.map((s) => s.spec.clusterIP === 'None').sort()).toEqual(
    replicas > 1 && sts!.spec.template.spec.initContainers ? [false, false, true] : [false, true],
  );
  expect(services.find((s) => s.spec.clusterIP === 'None')!.metadata.name).toBe(sts!.spec.serviceName);
  return sts!;
}

/** The API Deployment: /health probes on the http port, a Service in front of it. */
export function expectApi(objects: Obj[]): Obj {
  const [deploy] = all(objects, 'Deployment');
  expect(deploy).toBeDefined();
  const c = deploy!.spec.template.spec.containers[0];
  expect(c.image).toMatch(/pgbackup-api[:@]/);
  expect(c.image).not.toMatch(/postgres|kubectl-pgbackup/); // the local cluster's pod-runner must leave it to kwok
  expect([c.startupProbe.httpGet.path, c.livenessProbe.httpGet.path, c.readinessProbe.httpGet.path]).toEqual([
    '/health/startup',
    '/health/live',
    '/health/ready',
  ]);
  expect(c.ports).toEqual([{ name: 'http', containerPort: 3000, protocol: 'TCP' }]);
  const svc = all(objects, 'Service').find((s) => matches(s.spec.selector, deploy!.spec.template.metadata.labels));
  expect(svc?.spec.ports[0].targetPort).toBe('http');
  return deploy!;
}

export function matches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([key, v]) => labels?.[key] === v);
}

/** Every pod of the release is selected by a NetworkPolicy with Ingress and Egress; PDB selectors match pods. */
export function expectNetworkPoliciesAndPdbs(objects: Obj[]): void {
  const policies = all(objects, 'NetworkPolicy');
  const pdbs = all(objects, 'PodDisruptionBudget');
  for (const o of objects.filter((x) => ['StatefulSet', 'Deployment', 'CronJob'].includes(x.kind))) {
    const labels = o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.metadata.labels : o.spec.template.metadata.labels;
    const selecting = policies.filter((p) => matches(p.spec.podSelector.matchLabels, labels));
    expect({ pod: o.metadata.name, policies: selecting.length }).toEqual({ pod: o.metadata.name, policies: 1 });
    expect(selecting[0]!.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    if (o.kind !== 'CronJob')
      expect({ pod: o.metadata.name, pdb: pdbs.filter((p) => matches(p.spec.selector.matchLabels, labels)).length }).toEqual({
        pod: o.metadata.name,
        pdb: 1,
      });
  }
  // PostgreSQL accepts 5432 only; nothing else may reach the backup Jobs.
  const pg = policies.find((p) => p.spec.podSelector.matchLabels['app.kubernetes.io/component'] === 'database')!;
  expect(pg.spec.ingress.flatMap((r: Obj) => r.ports.map((p: Obj) => p.port))).toEqual([5432]);
  const backup = policies.find((p) => p.spec.podSelector.matchLabels['app.kubernetes.io/managed-by'] === 'kubectl-pgbackup')!;
  expect(backup.spec.ingress ?? []).toEqual([]);
}
