// The local cluster works end to end: real API server, controllers, CSI sidecars, our CSI driver and pod-runner.
// Needs the cluster up (`npm run cluster:up`); beforeAll starts it if it is down and the binaries are built.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import {
  ROOT,
  apply,
  clusterBinariesBuilt,
  createNamespace,
  deleteNamespace,
  describe as describeObj,
  eventually,
  jsonpath,
  k,
  kubectl,
  kubectlBackground,
  run,
} from './kube.js';

const MIN = 60_000;

beforeAll(async () => {
  if (!clusterBinariesBuilt()) throw new Error('cluster binaries are not built: run `npm run cluster:build`');
  const status = await run('bash', [path.join(ROOT, 'tools/cluster/status.sh')], { timeoutMs: 30_000 });
  if (status.code !== 0) {
    // Fast when built: a warm start is well under a minute.
    const up = await run('bash', [path.join(ROOT, 'tools/cluster/up.sh')], {
      timeoutMs: 4 * MIN,
      input: '',
    });
    if (up.code !== 0) throw new Error(`cluster is down and up.sh failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
  }
}, 5 * MIN);

function postgresStatefulSet(name: string, replicas: number, claim = ''): string {
  return `
apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  clusterIP: None
  selector: {app: ${name}}
  ports: [{name: postgres, port: 5432}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: ${name}}
spec:
  serviceName: ${name}
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 5   # namespace deletion waits about that long for pods
      containers:
      - name: postgres
        image: postgres:15
        env:
        - {name: POSTGRES_PASSWORD, value: test}
        - {name: PGDATA, value: /var/lib/postgresql/data/pgdata}
        ports: [{name: postgres, containerPort: 5432}]
        readinessProbe:
          exec: {command: [pg_isready, -U, postgres]}
        volumeMounts: [{name: data, mountPath: /var/lib/postgresql/data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: pgbackup-local
      resources: {requests: {storage: 1Gi}}${claim}
`;
}

async function waitStatefulSetReady(ns: string, name: string, replicas: number, timeoutMs: number) {
  await eventually(
    `StatefulSet ${ns}/${name}: ${replicas} ready replicas`,
    timeoutMs,
    async () => ((await jsonpath(ns, `statefulset/${name}`, '{.status.readyReplicas}')) === String(replicas) ? true : undefined),
    async () => (await kubectl(['get', 'pods,pvc', '-n', ns, '-o', 'wide'])).stdout + (await describeObj(ns, `pod/${name}-0`)),
  );
}

/** psql in a pod through `kubectl exec`; returns trimmed stdout. */
async function psql(ns: string, pod: string, sql: string, timeoutMs = 60_000): Promise<string> {
  const r = await kubectl(['exec', '-n', ns, pod, '--', 'psql', '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-tAc', sql], {
    timeoutMs,
  });
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
    let ns = '';
    beforeAll(async () => {
      ns = await createNamespace('t-sts');
    }, MIN);
    afterAll(async () => {
      if (ns) await deleteNamespace(ns);
    }, 3 * MIN);

    it(
      'comes up with Bound PVCs and Ready pods',
      async () => {
        await apply(ns, postgresStatefulSet('pg', 2));
        await waitStatefulSetReady(ns, 'pg', 2, 3 * MIN);
        const pvcs = JSON.parse(await k(['get', 'pvc', '-n', ns, '-o', 'json'])) as {
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
          expect(await jsonpath(ns, `pod/${pod}`, '{.status.conditions[?(@.type=="Ready")].status}')).toBe('True');
        }
        // Two distinct real servers, each on its own volume.
        const ids = [
          await psql(ns, 'pg-0', 'select system_identifier from pg_control_system()'),
          await psql(ns, 'pg-1', 'select system_identifier from pg_control_system()'),
        ];
        expect(ids[0]).toMatch(/^\d+$/);
        expect(ids[0]).not.toBe(ids[1]);
      },
      4 * MIN,
    );

    it(
      'runs commands with kubectl exec and returns their exit code',
      async () => {
        await waitStatefulSetReady(ns, 'pg', 2, 3 * MIN);
        const ok = await kubectl(['exec', '-n', ns, 'pg-0', '--', 'psql', '-U', 'postgres', '-tAc', 'select 1']);
        expect(ok).toMatchObject({ code: 0 });
        expect(ok.stdout.trim()).toBe('1');
        const failed = await kubectl(['exec', '-n', ns, 'pg-0', '--', 'sh', '-c', 'exit 3']);
        expect(failed.code).toBe(3);
        // stdin reaches the command and its end ends it (psql < file.sql)
        const piped = await kubectl(['exec', '-i', '-n', ns, 'pg-0', '--', 'psql', '-U', 'postgres', '-tA'], {
          input: 'select 40 + 2;\n',
          timeoutMs: 30_000,
        });
        expect(piped).toMatchObject({ code: 0 });
        expect(piped.stdout.trim()).toBe('42');
        const sqlError = await kubectl([
          'exec',
          '-n',
          ns,
          'pg-0',
          '--',
          'psql',
          '-U',
          'postgres',
          '-v',
          'ON_ERROR_STOP=1',
          '-c',
          'select * from no_such_table',
        ]);
        expect(sqlError.code).not.toBe(0);
        expect(sqlError.stderr).toContain('no_such_table');
      },
      4 * MIN,
    );
  });

  describe('kubectl port-forward', () => {
    let ns = '';
    beforeAll(async () => {
      ns = await createNamespace('t-pf');
    }, MIN);
    afterAll(async () => {
      if (ns) await deleteNamespace(ns);
    }, 3 * MIN);

    it(
      'reaches the PostgreSQL server of a pod over TCP',
      async () => {
        await apply(ns, postgresStatefulSet('pg', 1));
        await waitStatefulSetReady(ns, 'pg', 1, 3 * MIN);
        const pf = kubectlBackground(['port-forward', '-n', ns, 'pod/pg-0', ':5432']);
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
    let ns = '';
    beforeAll(async () => {
      ns = await createNamespace('t-snap');
    }, MIN);
    afterAll(async () => {
      if (ns) await deleteNamespace(ns, 3 * MIN);
    }, 4 * MIN);

    it(
      'becomes readyToUse and restores to a prefix-consistent copy',
      async () => {
        await apply(ns, postgresStatefulSet('pg', 1));
        await waitStatefulSetReady(ns, 'pg', 1, 3 * MIN);
        await psql(ns, 'pg-0', 'create table t (id serial primary key, at timestamptz not null default clock_timestamp())');

        // One writer, one row per transaction: the committed rows are always exactly ids 1..n.
        const writer = kubectlBackground([
          'exec',
          '-n',
          ns,
          'pg-0',
          '--',
          'psql',
          '-U',
          'postgres',
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
            Number(await psql(ns, 'pg-0', 'select count(*) from t')) >= 200 ? true : undefined,
          );
          const before = Number(await psql(ns, 'pg-0', 'select count(*) from t'));

          await apply(
            ns,
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
            async () => ((await jsonpath(ns, 'volumesnapshot/cut', '{.status.readyToUse}')) === 'true' ? true : undefined),
            () => describeObj(ns, 'volumesnapshot/cut'),
          );
          const after = Number(await psql(ns, 'pg-0', 'select count(*) from t'));
          expect(after).toBeGreaterThan(before); // the writer ran through the snapshot

          // Cut by the real snapshot-controller and csi-snapshotter: a bound content with a handle from our driver.
          const contentName = await jsonpath(ns, 'volumesnapshot/cut', '{.status.boundVolumeSnapshotContentName}');
          const content = JSON.parse(await k(['get', 'volumesnapshotcontent', contentName, '-o', 'json'])) as {
            spec: { driver: string };
            status: { snapshotHandle?: string; readyToUse?: boolean; restoreSize?: number };
          };
          expect(content.spec.driver).toBe('pgbackup.csi.local');
          expect(content.status.snapshotHandle).toBeTruthy();
          expect(content.status.readyToUse).toBe(true);

          // Restore into a new StatefulSet whose claim comes from the snapshot.
          await apply(
            ns,
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
            async () => ((await jsonpath(ns, 'pvc/data-restored-0', '{.status.phase}')) === 'Bound' ? true : undefined),
            () => describeObj(ns, 'pvc/data-restored-0'),
          );
          await apply(ns, postgresStatefulSet('restored', 1));
          await waitStatefulSetReady(ns, 'restored', 1, 3 * MIN);

          // Crash recovery of a point-in-time image: every row committed before the snapshot was requested is there,
          // nothing that was not yet written is, and the ids have no gaps (no torn copy).
          const [count, min, max] = (await psql(ns, 'restored-0', 'select count(*), coalesce(min(id),0), coalesce(max(id),0) from t'))
            .split('|')
            .map(Number);
          expect(count).toBeGreaterThanOrEqual(before);
          expect(count).toBeLessThanOrEqual(after);
          expect(min).toBe(1);
          expect(max).toBe(count);
          await psql(ns, 'restored-0', 'create extension if not exists amcheck');
          expect(await psql(ns, 'restored-0', "select bt_index_check('t_pkey'::regclass, true)")).toBe('');
          // The source keeps running independently of the copy.
          expect(Number(await psql(ns, 'pg-0', 'select count(*) from t'))).toBeGreaterThanOrEqual(after);
        } finally {
          writer.kill();
          await kubectl([
            'exec',
            '-n',
            ns,
            'pg-0',
            '--',
            'psql',
            '-U',
            'postgres',
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
    let ns = '';
    beforeAll(async () => {
      ns = await createNamespace('t-rbac');
    }, MIN);
    afterAll(async () => {
      if (ns) await deleteNamespace(ns);
    }, 3 * MIN);

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
          const s = JSON.parse(await k(['get', 'job', name, '-n', ns, '-o', 'json'])) as {
            status: { succeeded?: number; failed?: number };
          };
          if (s.status.succeeded) return 'succeeded';
          if (s.status.failed) return 'failed';
          return undefined;
        },
        async () => (await kubectl(['get', 'pods', '-n', ns, '-o', 'yaml'])).stdout,
      );
    }
    async function podOutcome(name: string) {
      const pods = JSON.parse(await k(['get', 'pods', '-n', ns, '-l', `job-name=${name}`, '-o', 'json'])) as {
        items: {
          metadata: { name: string };
          status: { containerStatuses?: { state: { terminated?: { exitCode: number; message?: string } } }[] };
        }[];
      };
      const pod = pods.items[0];
      if (!pod) throw new Error(`no pod for job ${name}`);
      const terminated = pod.status.containerStatuses?.[0]?.state.terminated;
      const logs = await kubectl(['logs', '-n', ns, pod.metadata.name]);
      return { exitCode: terminated?.exitCode, text: `${terminated?.message ?? ''}\n${logs.stdout}` };
    }

    it(
      'runs as its ServiceAccount and gets 403 for a verb its Role lacks',
      async () => {
        await apply(
          ns,
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
        await apply(ns, job('allowed', ['get', 'pods']));
        expect(await finished('allowed')).toBe('succeeded');
        expect((await podOutcome('allowed')).exitCode).toBe(0);

        await apply(ns, job('denied', ['get', 'secrets']));
        expect(await finished('denied')).toBe('failed');
        const denied = await podOutcome('denied');
        expect(denied.exitCode).toBeGreaterThan(0);
        expect(denied.text).toMatch(/forbidden/i);
        expect(denied.text).toContain(`system:serviceaccount:${ns}:cli`);
      },
      5 * MIN,
    );
  });
});
