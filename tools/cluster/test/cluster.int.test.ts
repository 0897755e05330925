// The local cluster works end to end: real API server, controllers, CSI sidecars, our CSI driver and pod-runner.
// Needs the cluster up (`npm run cluster:up`); beforeAll starts it if it is down and the binaries are built.
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import {
  KUBECONFIG,
  MIN,
  ROOT,
  apply,
  describe as describeObj,
  ensureClusterUp,
  eventually,
  jsonpath,
  k,
  kubectl,
  kubectlBackground,
  namespaceFor,
  run,
  type Result,
  type RunOptions,
} from './kube.js';
import { postgresStatefulSet, waitStatefulSetReady } from './postgres.js';

beforeAll(ensureClusterUp, 5 * MIN);

/** The test's server: a Service in front, container port declared, pods gone 5 s after namespace deletion. */
const postgres = (name: string, replicas = 1) =>
  postgresStatefulSet(name, { simulated: true, replicas, service: true, containerPort: true, terminationGracePeriodSeconds: 5 });

/** `psql -U postgres <args>` in a pod through `kubectl exec` (`-i` when there is input); never throws. */
function execPsql(ns: string, pod: string, args: string[], opts: RunOptions = {}): Promise<Result> {
  return kubectl(['exec', ...(opts.input !== undefined ? ['-i'] : []), '-n', ns, pod, '--', 'psql', '-U', 'postgres', ...args], opts);
}

/** The same in the background: the caller kills it. */
const execPsqlBackground = (ns: string, pod: string, args: string[]): ChildProcess =>
  kubectlBackground(['exec', '-n', ns, pod, '--', 'psql', '-U', 'postgres', ...args]);

/** psql in a pod through `kubectl exec`; returns trimmed stdout. */
async function psql(ns: string, pod: string, sql: string, timeoutMs = 60_000): Promise<string> {
  const r = await execPsql(ns, pod, ['-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-tAc', sql], { timeoutMs });
  if (r.code !== 0) throw new Error(`psql in ${ns}/${pod} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

describe('local cluster', () => {
  it(
    'serves the API, a Ready node and the snapshot APIs',
    async () => {
      expect((await k(['get', '--raw', '/readyz'])).trim()).toBe('ok');
      const nodes = JSON.parse(await k(['get', 'nodes', '-o', 'json'])) as {
        items: { metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }[];
      };
      const ready = nodes.items.filter((n) => n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'));
      expect(ready.map((n) => n.metadata.name)).toContain('kwok-node-0');
      const groups = await k(['api-versions']);
      expect(groups).toContain('snapshot.storage.k8s.io/v1');
      expect(groups).toMatch(/groupsnapshot\.storage\.k8s\.io\/v1/);
      expect(await k(['get', 'storageclass', 'pgbackup-local', '-o', 'name'])).toContain('pgbackup-local');
      expect(await k(['get', 'volumesnapshotclass', '-o', 'name'])).toContain('pgbackup-local');
    },
    MIN,
  );

  describe('a PostgreSQL StatefulSet', () => {
    const ns = namespaceFor('t-sts');

    it(
      'comes up with Bound PVCs and Ready pods',
      async () => {
        await apply(ns(), await postgres('pg', 2));
        await waitStatefulSetReady(ns(), 'pg', { replicas: 2 });
        const pvcs = JSON.parse(await k(['get', 'pvc', '-n', ns(), '-o', 'json'])) as {
          items: { metadata: { name: string }; status: { phase: string }; spec: { volumeName: string } }[];
        };
        expect(pvcs.items.map((p) => [p.metadata.name, p.status.phase]).sort()).toEqual([
          ['data-pg-0', 'Bound'],
          ['data-pg-1', 'Bound'],
        ]);
        for (const p of pvcs.items) {
          expect(await k(['get', 'pv', p.spec.volumeName, '-o', 'jsonpath={.spec.csi.driver}'])).toBe('pgbackup.csi.local');
        }
        for (const pod of ['pg-0', 'pg-1']) {
          expect(await jsonpath(ns(), `pod/${pod}`, '{.status.conditions[?(@.type=="Ready")].status}')).toBe('True');
        }
        // Two distinct real servers, each on its own volume.
        const ids = [
          await psql(ns(), 'pg-0', 'select system_identifier from pg_control_system()'),
          await psql(ns(), 'pg-1', 'select system_identifier from pg_control_system()'),
        ];
        expect(ids[0]).toMatch(/^\d+$/);
        expect(ids[0]).not.toBe(ids[1]);
      },
      4 * MIN,
    );

    it(
      'runs commands with kubectl exec and returns their exit code',
      async () => {
        await waitStatefulSetReady(ns(), 'pg', { replicas: 2 });
        const ok = await execPsql(ns(), 'pg-0', ['-tAc', 'select 1']);
        expect(ok).toMatchObject({ code: 0 });
        expect(ok.stdout.trim()).toBe('1');
        const failed = await kubectl(['exec', '-n', ns(), 'pg-0', '--', 'sh', '-c', 'exit 3']);
        expect(failed.code).toBe(3);
        // stdin reaches the command and its end ends it (psql < file.sql)
        const piped = await execPsql(ns(), 'pg-0', ['-tA'], {
          input: 'select 40 + 2;\n',
          timeoutMs: 30_000,
        });
        expect(piped).toMatchObject({ code: 0 });
        expect(piped.stdout.trim()).toBe('42');
        const sqlError = await execPsql(ns(), 'pg-0', ['-v', 'ON_ERROR_STOP=1', '-c', 'select * from no_such_table']);
        expect(sqlError.code).not.toBe(0);
        expect(sqlError.stderr).toContain('no_such_table');
      },
      4 * MIN,
    );
  });

  describe('kubectl port-forward', () => {
    const ns = namespaceFor('t-pf');

    it(
      'reaches the PostgreSQL server of a pod over TCP',
      async () => {
        await apply(ns(), await postgres('pg'));
        await waitStatefulSetReady(ns(), 'pg');
        const pf = kubectlBackground(['port-forward', '-n', ns(), 'pod/pg-0', ':5432']);
        try {
          let out = '';
          pf.stdout?.on('data', (d: Buffer) => (out += d.toString()));
          const port = await eventually('port-forward to listen', 30_000, async () => /127\.0\.0\.1:(\d+) -> 5432/.exec(out)?.[1]);
          const r = await run(
            'psql',
            ['-h', '127.0.0.1', '-p', port, '-U', 'postgres', '-d', 'postgres', '-tAc', 'select current_setting($$port$$) <> $$5432$$'],
            {
              timeoutMs: 30_000,
              env: { PGPASSWORD: 'test', PGCONNECT_TIMEOUT: '10' },
            },
          );
          expect(r).toMatchObject({ code: 0 });
          expect(r.stdout.trim()).toBe('t'); // the pod's real server (its own host port), not something on 5432
        } finally {
          pf.kill();
        }
      },
      4 * MIN,
    );
  });

  describe('a VolumeSnapshot of a volume being written to', () => {
    const ns = namespaceFor('t-snap', 3 * MIN);

    it(
      'becomes readyToUse and restores to a prefix-consistent copy',
      async () => {
        await apply(ns(), await postgres('pg'));
        await waitStatefulSetReady(ns(), 'pg');
        await psql(ns(), 'pg-0', 'create table t (id serial primary key, at timestamptz not null default clock_timestamp())');

        // One writer, one row per transaction: the committed rows are always exactly ids 1..n.
        const writer = execPsqlBackground(ns(), 'pg-0', [
          '-v',
          'ON_ERROR_STOP=1',
          '-c',
          `do $$ declare t0 timestamptz := clock_timestamp(); begin
           while clock_timestamp() < t0 + interval '120 seconds' loop insert into t default values; commit; end loop; end $$`,
        ]);
        let writerErr = '';
        writer.stderr?.on('data', (d: Buffer) => (writerErr += d.toString()));
        try {
          await eventually('rows being written', MIN, async () =>
            Number(await psql(ns(), 'pg-0', 'select count(*) from t')) >= 200 ? true : undefined,
          );
          const before = Number(await psql(ns(), 'pg-0', 'select count(*) from t'));

          await apply(
            ns(),
            `
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata: {name: cut}
spec:
  volumeSnapshotClassName: pgbackup-local
  source: {persistentVolumeClaimName: data-pg-0}
`,
          );
          await eventually(
            'VolumeSnapshot cut readyToUse',
            2 * MIN,
            async () => ((await jsonpath(ns(), 'volumesnapshot/cut', '{.status.readyToUse}')) === 'true' ? true : undefined),
            () => describeObj(ns(), 'volumesnapshot/cut'),
          );
          const after = Number(await psql(ns(), 'pg-0', 'select count(*) from t'));
          expect(after).toBeGreaterThan(before); // the writer ran through the snapshot

          // Cut by the real snapshot-controller and csi-snapshotter: a bound content with a handle from our driver.
          const contentName = await jsonpath(ns(), 'volumesnapshot/cut', '{.status.boundVolumeSnapshotContentName}');
          const content = JSON.parse(await k(['get', 'volumesnapshotcontent', contentName, '-o', 'json'])) as {
            spec: { driver: string };
            status: { snapshotHandle?: string; readyToUse?: boolean; restoreSize?: number };
          };
          expect(content.spec.driver).toBe('pgbackup.csi.local');
          expect(content.status.snapshotHandle).toBeTruthy();
          expect(content.status.readyToUse).toBe(true);

          // Restore into a new StatefulSet whose claim comes from the snapshot.
          await apply(
            ns(),
            `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data-restored-0}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: pgbackup-local
  resources: {requests: {storage: 1Gi}}
  dataSource: {apiGroup: snapshot.storage.k8s.io, kind: VolumeSnapshot, name: cut}
`,
          );
          await eventually(
            'restored PVC Bound',
            2 * MIN,
            async () => ((await jsonpath(ns(), 'pvc/data-restored-0', '{.status.phase}')) === 'Bound' ? true : undefined),
            () => describeObj(ns(), 'pvc/data-restored-0'),
          );
          await apply(ns(), await postgres('restored'));
          await waitStatefulSetReady(ns(), 'restored');

          // Crash recovery of a point-in-time image: every row committed before the snapshot was requested is there,
          // nothing that was not yet written is, and the ids have no gaps (no torn copy).
          const [count, min, max] = (await psql(ns(), 'restored-0', 'select count(*), coalesce(min(id),0), coalesce(max(id),0) from t'))
            .split('|')
            .map(Number);
          expect(count).toBeGreaterThanOrEqual(before);
          expect(count).toBeLessThanOrEqual(after);
          expect(min).toBe(1);
          expect(max).toBe(count);
          await psql(ns(), 'restored-0', 'create extension if not exists amcheck');
          expect(await psql(ns(), 'restored-0', "select bt_index_check('t_pkey'::regclass, true)")).toBe('');
          // The source keeps running independently of the copy.
          expect(Number(await psql(ns(), 'pg-0', 'select count(*) from t'))).toBeGreaterThanOrEqual(after);
        } finally {
          writer.kill();
          await execPsql(ns(), 'pg-0', [
            '-tAc',
            "select pg_cancel_backend(pid) from pg_stat_activity where query like 'do $$%' and pid <> pg_backend_pid()",
          ]);
        }
        expect(writerErr).not.toMatch(/FATAL|PANIC/);
      },
      9 * MIN,
    );
  });

  describe('a Job of the CLI image', () => {
    const ns = namespaceFor('t-rbac');

    const job = (name: string, args: string[]) => `
apiVersion: batch/v1
kind: Job
metadata: {name: ${name}}
spec:
  backoffLimit: 0
  activeDeadlineSeconds: 120
  template:
    spec:
      serviceAccountName: cli
      restartPolicy: Never
      terminationGracePeriodSeconds: 5
      containers:
      - name: cli
        image: ghcr.io/pgbackup/kubectl-pgbackup:dev
        command: [kubectl]
        args: ${JSON.stringify(args)}
`;
    async function finished(name: string) {
      return eventually(
        `Job ${name} finished`,
        2 * MIN,
        async () => {
          const s = JSON.parse(await k(['get', 'job', name, '-n', ns(), '-o', 'json'])) as {
            status: { succeeded?: number; failed?: number };
          };
          if (s.status.succeeded) return 'succeeded';
          if (s.status.failed) return 'failed';
          return undefined;
        },
        async () => (await kubectl(['get', 'pods', '-n', ns(), '-o', 'yaml'])).stdout,
      );
    }
    async function podOutcome(name: string) {
      const pods = JSON.parse(await k(['get', 'pods', '-n', ns(), '-l', `job-name=${name}`, '-o', 'json'])) as {
        items: {
          metadata: { name: string };
          status: { containerStatuses?: { state: { terminated?: { exitCode: number; message?: string } } }[] };
        }[];
      };
      const pod = pods.items[0];
      if (!pod) throw new Error(`no pod for job ${name}`);
      const terminated = pod.status.containerStatuses?.[0]?.state.terminated;
      const logs = await kubectl(['logs', '-n', ns(), pod.metadata.name]);
      return { exitCode: terminated?.exitCode, text: `${terminated?.message ?? ''}\n${logs.stdout}` };
    }

    it(
      'runs as its ServiceAccount and gets 403 for a verb its Role lacks',
      async () => {
        await apply(
          ns(),
          `
apiVersion: v1
kind: ServiceAccount
metadata: {name: cli}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pods-only}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: cli-pods-only}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pods-only}
subjects: [{kind: ServiceAccount, name: cli}]
`,
        );
        // Control: what the Role allows works, so a failure below is RBAC, not plumbing.
        await apply(ns(), job('allowed', ['get', 'pods']));
        expect(await finished('allowed')).toBe('succeeded');
        expect((await podOutcome('allowed')).exitCode).toBe(0);

        await apply(ns(), job('denied', ['get', 'secrets']));
        expect(await finished('denied')).toBe('failed');
        const denied = await podOutcome('denied');
        expect(denied.exitCode).toBeGreaterThan(0);
        expect(denied.text).toMatch(/forbidden/i);
        expect(denied.text).toContain(`system:serviceaccount:${ns()}:cli`);
      },
      5 * MIN,
    );
  });
});

describe('the harness uses only the local cluster', () => {
  // client-go prefers $KUBECONFIG over --kubeconfig: a component that inherited the caller's would talk to the caller's
  // cluster with the caller's credentials. CI starts the cluster with KUBECONFIG naming an unreachable one.
  it('every process it started has the local kubeconfig in its environment', () => {
    const pidFiles = [path.join(ROOT, '.cluster/pids'), path.join(ROOT, '.cluster/kwok/clusters/pgbackup/pids')].flatMap((dir) =>
      existsSync(dir) ? readdirSync(dir).map((f) => path.join(dir, f)) : [],
    );
    const seen = pidFiles.flatMap((file) => {
      const pid = readFileSync(file, 'utf8').trim();
      if (!existsSync(`/proc/${pid}/environ`)) return [];
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      return [{ component: path.basename(file, '.pid'), KUBECONFIG: env.find((e) => e.startsWith('KUBECONFIG='))?.slice(11) }];
    });
    expect(seen.map((s) => s.component)).toEqual(expect.arrayContaining(['csi-provisioner', 'snapshot-controller', 'kube-apiserver']));
    expect(seen.filter((s) => s.KUBECONFIG !== KUBECONFIG)).toEqual([]);
  });
});
