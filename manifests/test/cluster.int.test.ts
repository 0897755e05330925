// The manifests on the local cluster (npm run cluster:up): real API server with RBAC, pod-runner running PostgreSQL
// for `postgres` images and the repository's CLI, as the pod's ServiceAccount, for `kubectl-pgbackup` images.
// Kustomize (overlay local) and Helm each in a namespace of their own: PostgreSQL runs, the CronJob (triggered with
// `kubectl create job --from=cronjob/…`) makes completed backups and prunes by the retention policy, the
// ServiceAccount has exactly the documented permissions, and a run fails clearly without one of them.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PERMISSIONS } from '../../packages/core/src/domain/kubernetesPermissions.js';
import { MIN, ensureClusterUp } from '../../tools/cluster/test/kube.js';
import { waitStatefulSetReady } from '../../tools/cluster/test/postgres.js';
import { CHART, CLI, ROOT, clusterToolsBuilt, eventually, helm, helmTogglesOn, k, kubectl, ok, wrapOverlay } from './helpers.js';

const suffix = randomBytes(3).toString('hex');

beforeAll(async () => {
  if (!clusterToolsBuilt()) throw new Error('cluster tools are not built: run `npm run cluster:build`');
  if (
    !existsSync(path.join(ROOT, 'packages/kubectl-pgbackup/dist/index.js')) &&
    !existsSync(path.join(ROOT, 'packages/kubectl-pgbackup/dist/commands'))
  )
    throw new Error('the CLI is not built (pod-runner runs packages/kubectl-pgbackup/bin/kubectl-pgbackup): run `npm run build`');
  await ensureClusterUp();
}, 5 * MIN);

/** `group/resource verb`, as rbac.int.test.ts spells them. */
const DOCUMENTED = PERMISSIONS.flatMap((p) =>
  p.verbs.map((v) => `${p.group || 'core'}/${p.resource}${p.subresource ? `/${p.subresource}` : ''} ${v}`),
).sort();

/** `kubectl auth can-i --list` as triples, minus what every authenticated user may do (a ServiceAccount with no bindings). */
async function canIList(ns: string, sa: string): Promise<string[]> {
  const parse = (out: string) =>
    out
      .split('\n')
      .slice(1)
      .filter((l) => l && !l.startsWith(' '))
      .flatMap((l) => {
        const [resource, , , ...rest] = l.trim().split(/\s{2,}|\s(?=\[)/);
        const verbs = rest
          .join(' ')
          .replace(/^\[|\]$/g, '')
          .split(/\s+/)
          .filter(Boolean);
        const [name, ...group] = resource!.split('.');
        return verbs.map((v) => `${group.join('.') || 'core'}/${name} ${v}`);
      });
  const mine = parse(await k(['auth', 'can-i', '--list', '-n', ns, `--as=system:serviceaccount:${ns}:${sa}`]));
  const anyone = new Set(parse(await k(['auth', 'can-i', '--list', '-n', ns, `--as=system:serviceaccount:${ns}:nobody-${suffix}`])));
  return [...new Set(mine.filter((t) => !anyone.has(t)))].sort();
}

interface RunResult {
  phase: string;
  exitCode: number;
  log: string;
}

/** `kubectl create job --from=cronjob/…`, then waits for its pod to end. */
async function runCronJob(ns: string, cronJob: string, job: string): Promise<RunResult> {
  await k(['create', 'job', `--from=cronjob/${cronJob}`, job, '-n', ns]);
  const phase = await eventually(
    `Job ${ns}/${job} to end`,
    3 * MIN,
    async () => {
      const p = (await kubectl(['get', 'pods', '-n', ns, '-l', `job-name=${job}`, '-o', 'jsonpath={.items[0].status.phase}'])).stdout;
      return p === 'Succeeded' || p === 'Failed' ? p : undefined;
    },
    async () => (await kubectl(['describe', 'job', job, '-n', ns])).stdout,
  );
  const exitCode = Number(
    (
      await kubectl([
        'get',
        'pods',
        '-n',
        ns,
        '-l',
        `job-name=${job}`,
        '-o',
        'jsonpath={.items[0].status.containerStatuses[0].state.terminated.exitCode}',
      ])
    ).stdout,
  );
  const log = (await kubectl(['logs', `job/${job}`, '-n', ns])).stdout;
  return { phase, exitCode, log };
}

/** A run that must succeed: says why when it does not. */
async function backupRun(ns: string, cronJob: string, job: string): Promise<RunResult> {
  const r = await runCronJob(ns, cronJob, job);
  if (r.phase !== 'Succeeded') throw new Error(`Job ${ns}/${job} ${r.phase} (exit ${r.exitCode}):\n${r.log}`);
  return r;
}

interface BackupList {
  items: { id: string; status: string; type: string; statefulSet: string }[];
}
const listBackups = async (ns: string): Promise<BackupList> => JSON.parse(await ok(CLI, ['list', '-n', ns, '-o', 'json']));

describe('kustomize overlay local', () => {
  const ns = `mf-kustomize-${suffix}`;
  let dir: string;

  beforeAll(async () => {
    dir = wrapOverlay('local', ns);
    await k(['apply', '-k', dir]);
    await waitStatefulSetReady(ns, 'postgresql');
  }, 4 * MIN);

  afterAll(async () => {
    await kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s'], { timeoutMs: 150_000 });
    await kubectl(['delete', 'clusterrolebinding', `pgbackup-${ns}-postgresql`, `pgbackup-${ns}-api`, '--ignore-not-found']);
  }, 3 * MIN);

  it('runs PostgreSQL and the API', async () => {
    expect(await k(['exec', 'postgresql-0', '-n', ns, '--', 'psql', '-U', 'postgres', '-tAc', 'select 1'])).toBe('1\n');
    await eventually('Deployment pgbackup-api available', MIN, async () =>
      (await kubectl(['get', 'deployment', 'pgbackup-api', '-n', ns, '-o', 'jsonpath={.status.availableReplicas}'])).stdout === '1'
        ? true
        : undefined,
    );
  });

  it('the backup ServiceAccount can do exactly the documented permissions (kubectl auth can-i --list)', async () => {
    expect(await canIList(ns, 'pgbackup-postgresql')).toEqual(DOCUMENTED);
  });

  it('the backup ServiceAccount may exec only into the pods of its StatefulSet, and touch only its Lease (kubectl auth can-i)', async () => {
    const canI = async (...what: string[]) =>
      (await kubectl(['auth', 'can-i', ...what, '-n', ns, `--as=system:serviceaccount:${ns}:pgbackup-postgresql`])).stdout.trim();
    // A pod of the namespace that is not the database's: the API's.
    const apiPod = (
      await k(['get', 'pods', '-n', ns, '-l', 'app.kubernetes.io/name=pgbackup-api', '-o', 'jsonpath={.items[0].metadata.name}'])
    ).trim();
    expect(apiPod).not.toBe('');
    // kubectl auth can-i names a subresource with --subresource (in TYPE/NAME, the part after / is the name).
    const exec = (verb: string, pod?: string) => canI(verb, pod ? `pods/${pod}` : 'pods', '--subresource=exec');
    const answers = {
      'create pods/exec postgresql-0': await exec('create', 'postgresql-0'),
      'get pods/exec postgresql-1': await exec('get', 'postgresql-1'),
      [`create pods/exec ${apiPod}`]: await exec('create', apiPod),
      'create pods/exec other-pod': await exec('create', 'other-pod'),
      'create pods/exec (any pod)': await exec('create'),
      'create leases': await canI('create', 'leases.coordination.k8s.io'),
      'update leases pgbackup-postgresql': await canI('update', 'leases.coordination.k8s.io/pgbackup-postgresql'),
      'update leases pgbackup-other': await canI('update', 'leases.coordination.k8s.io/pgbackup-other'),
      'delete leases pgbackup-other': await canI('delete', 'leases.coordination.k8s.io/pgbackup-other'),
    };
    expect(answers).toEqual({
      'create pods/exec postgresql-0': 'yes',
      'get pods/exec postgresql-1': 'yes',
      [`create pods/exec ${apiPod}`]: 'no',
      'create pods/exec other-pod': 'no',
      'create pods/exec (any pod)': 'no',
      'create leases': 'yes',
      'update leases pgbackup-postgresql': 'yes',
      'update leases pgbackup-other': 'no',
      'delete leases pgbackup-other': 'no',
    });
  });

  it(
    'the CronJob makes completed scheduled backups and prunes by the retention policy (keep the 2 newest)',
    async () => {
      const first = await backupRun(ns, 'pgbackup-postgresql', 'backup-1');
      expect(first.log).toMatch(/backup\/postgresql-\S+ completed/);
      const afterOne = await listBackups(ns);
      expect(afterOne.items.map((b) => [b.status, b.type, b.statefulSet])).toEqual([['completed', 'scheduled', 'postgresql']]);
      const oldest = afterOne.items[0]!.id;
      await backupRun(ns, 'pgbackup-postgresql', 'backup-2');
      const third = await backupRun(ns, 'pgbackup-postgresql', 'backup-3');
      expect(third.log).toMatch(/1 of 3 backups deleted/);
      const after = await listBackups(ns);
      expect(after.items.map((b) => b.status)).toEqual(['completed', 'completed']);
      expect(after.items.map((b) => b.id)).not.toContain(oldest);
      // `kubectl pgbackup status` reads the schedule and retention from the CronJob, as if `schedule set` had written it.
      const status = JSON.parse(await ok(CLI, ['status', 'postgresql', '-n', ns, '-o', 'json']));
      expect(JSON.stringify(status)).toContain('0 2 * * *');
    },
    6 * MIN,
  );

  it.each([
    ['pods/exec', /pods\/exec|exec into pod/],
    ['leases', /leases.*forbidden|forbidden.*leases/],
    ['volumesnapshots', /volumesnapshots.*forbidden/],
  ])(
    'a run fails clearly (exit 4, forbidden) without %s',
    async (resource, message) => {
      const role = JSON.parse(await k(['get', 'role', 'pgbackup-postgresql', '-n', ns, '-o', 'json']));
      // Every rule of the resource (the Lease has two: its own name, and the create a name cannot limit), last first.
      const indexes = (role.rules as { resources: string[] }[]).flatMap((r, i) => (r.resources.includes(resource) ? [i] : [])).reverse();
      expect(indexes.length).toBeGreaterThan(0);
      await k([
        'patch',
        'role',
        'pgbackup-postgresql',
        '-n',
        ns,
        '--type=json',
        '-p',
        JSON.stringify(indexes.map((i) => ({ op: 'remove', path: `/rules/${i}` }))),
      ]);
      try {
        const r = await runCronJob(ns, 'pgbackup-postgresql', `no-${resource.replace('/', '-')}`);
        expect({ phase: r.phase, exitCode: r.exitCode }).toEqual({ phase: 'Failed', exitCode: 4 });
        expect(r.log).toMatch(/^error: /m);
        expect(r.log).toMatch(message);
      } finally {
        await k(['apply', '-k', dir]); // the Role as the manifests have it
      }
      expect(await canIList(ns, 'pgbackup-postgresql')).toEqual(DOCUMENTED);
    },
    4 * MIN,
  );
});

describe('helm install', () => {
  const ns = `mf-helm-${suffix}`;
  const release = 'pg';

  beforeAll(async () => {
    await ok(
      path.join(ROOT, '.tools/bin/helm'),
      [
        'install',
        release,
        CHART,
        '-n',
        ns,
        '--create-namespace',
        '--wait',
        '--timeout',
        '3m',
        '--set',
        'postgresql.storage.storageClass=pgbackup-local',
        '--set',
        'postgresql.storage.size=1Gi',
        '--set',
        'postgresql.parameters.max_wal_size=64MB',
        '--set',
        'postgresql.parameters.shared_buffers=32MB',
        '--set',
        'backup.retentionDays=0',
        '--set',
        'backup.keepLast=1',
        '--set',
        'backup.waitTimeoutSeconds=600',
      ],
      { timeoutMs: 4 * MIN },
    );
    await waitStatefulSetReady(ns, 'pg-postgresql');
  }, 5 * MIN);

  afterAll(async () => {
    await helm(['uninstall', release, '-n', ns, '--wait', '--timeout', '2m'], { timeoutMs: 3 * MIN });
    await kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s'], { timeoutMs: 150_000 });
  }, 5 * MIN);

  it('runs PostgreSQL with the generated password', async () => {
    expect(await k(['exec', 'pg-postgresql-0', '-n', ns, '--', 'psql', '-U', 'postgres', '-tAc', 'select 1'])).toBe('1\n');
    expect((await k(['get', 'secret', 'pg-postgresql', '-n', ns, '-o', 'jsonpath={.data.postgres-password}'])).length).toBeGreaterThan(20);
  });

  it('the backup ServiceAccount can do exactly the documented permissions', async () => {
    expect(await canIList(ns, 'pgbackup-pg-postgresql')).toEqual(DOCUMENTED);
  });

  it(
    'helm test: the doctor pod (CLI image, backup ServiceAccount) passes',
    async () => {
      // Only the doctor: this install stays on kwok's node, where the API's pod is simulated. The API test pod runs on
      // the real node with the API (deploy.int.test.ts), where it passes through the API's Service.
      const doctor = await helm(['test', release, '-n', ns, '--filter', 'name=pg-test-doctor', '--timeout', '3m'], { timeoutMs: 4 * MIN });
      expect({ code: doctor.code, out: doctor.stdout, err: doctor.stderr }).toMatchObject({
        code: 0,
        out: expect.stringMatching(/TEST SUITE:\s+pg-test-doctor[\s\S]*Phase:\s+Succeeded/),
      });
    },
    5 * MIN,
  );

  it(
    'the CronJob makes a completed backup and prunes by the retention policy (keep the newest)',
    async () => {
      await backupRun(ns, 'pgbackup-pg-postgresql', 'backup-1');
      const [first] = (await listBackups(ns)).items;
      expect(first).toMatchObject({ status: 'completed', type: 'scheduled', statefulSet: 'pg-postgresql' });
      const second = await backupRun(ns, 'pgbackup-pg-postgresql', 'backup-2');
      expect(second.log).toMatch(/1 of 2 backups deleted/);
      const after = (await listBackups(ns)).items;
      expect(after.map((b) => b.status)).toEqual(['completed']);
      expect(after[0]!.id).not.toBe(first!.id);
    },
    5 * MIN,
  );
});

describe('server-side dry-run', () => {
  const ns = `mf-dryrun-${suffix}`;
  beforeAll(() => k(['create', 'namespace', ns]), MIN);
  afterAll(() => kubectl(['delete', 'namespace', ns, '--wait=false']), MIN);

  it('the production overlay is accepted by the API server', async () => {
    const objects = await k(['kustomize', wrapOverlay('production', ns)]);
    const r = await kubectl(['apply', '--dry-run=server', '-f', '-'], { input: objects });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/statefulset.apps\/postgresql (created|configured) \(server dry run\)/);
    expect(r.stdout).toMatch(/networkpolicy.networking.k8s.io\/pgbackup-api created \(server dry run\)/);
    expect(r.stdout).toMatch(/poddisruptionbudget.policy\/postgresql created \(server dry run\)/);
  });

  it('the Helm chart with every toggle on is accepted by the API server', async () => {
    // What `helm install` applies: not the test hooks (pods of `helm test`, whose ServiceAccount a dry run never makes).
    const rendered = await ok(path.join(ROOT, '.tools/bin/helm'), [
      'template',
      'prod',
      CHART,
      '--no-hooks',
      '-n',
      ns,
      ...helmTogglesOn('pgbackup.csi.local'),
      '--set',
      `snapshot.className=mf-dryrun-${suffix}`,
    ]);
    const r = await kubectl(['apply', '--dry-run=server', '-n', ns, '-f', '-'], { input: rendered });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/volumesnapshotclass.snapshot.storage.k8s.io\/mf-dryrun-\w+ created \(server dry run\)/);
  });
});
