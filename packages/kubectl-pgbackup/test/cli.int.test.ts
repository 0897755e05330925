// `kubectl pgbackup …` as a user runs it: found by kubectl's plugin discovery on PATH, against the local cluster.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { BackupListSchema, BackupSchema } from '@pgbackup/core/isomorphic';
import {
  KUBECTL,
  MIN,
  apply,
  createNamespace,
  deleteNamespace,
  eventually,
  k,
  requireClusterUp,
  serviceAccountKubeconfig,
  type Result,
} from '../../../tools/cluster/test/kube.js';
import { IMAGES_TIMEOUT, postgresImage, postgresStatefulSet, waitStatefulSetReady } from '../../../tools/cluster/test/postgres.js';
import { PLUGIN_BIN, pluginEnv } from './plugin.js';

const ENV = pluginEnv();

/** `kubectl pgbackup <args>` through kubectl's plugin discovery. */
function pgbackup(args: string[], timeoutMs = 2 * MIN, env: NodeJS.ProcessEnv = ENV): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(KUBECTL, ['pgbackup', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
  });
}

// The stand-in PostgreSQL by digest, built (cached) before any test: a cold build takes many minutes.
beforeAll(postgresImage, IMAGES_TIMEOUT);

describe('kubectl pgbackup, without a database', () => {
  let ns = '';
  beforeAll(async () => {
    await requireClusterUp();
    ns = await createNamespace('cli-basic');
  }, MIN);
  afterAll(async () => {
    if (ns) await deleteNamespace(ns);
  }, 3 * MIN);

  it('is found by kubectl and prints its help', async () => {
    const r = await pgbackup(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('$ kubectl pgbackup [COMMAND]');
    const plugins = await new Promise<string>((resolve) => {
      const c = spawn(KUBECTL, ['plugin', 'list'], { env: ENV });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.on('close', () => resolve(out));
    });
    expect(plugins).toContain(path.join(PLUGIN_BIN, 'kubectl-pgbackup'));
  });

  it('exits 3 for an unknown StatefulSet', async () => {
    const r = await pgbackup(['create', 'nope', '-n', ns]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      `error: StatefulSet "nope" not found in namespace "${ns}"\nhint: list them with: kubectl get statefulsets -n ${ns}\n`,
    );
  });

  it('exits 2 with a precise message for an invalid name, before calling the cluster', async () => {
    const r = await pgbackup(['create', 'Bad_Name', '-n', ns]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: invalid StatefulSet name "Bad_Name": must consist of lower case alphanumeric characters/);
  });

  it('exits 4 when the ServiceAccount lacks the verb', async () => {
    await apply(
      ns,
      `
apiVersion: v1
kind: ServiceAccount
metadata: {name: reader}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: statefulsets-only}
rules: [{apiGroups: [apps], resources: [statefulsets], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: statefulsets-only}
subjects: [{kind: ServiceAccount, name: reader}]
`,
    );
    const file = await serviceAccountKubeconfig(ns, 'reader');
    const r = await pgbackup(['list', '--kubeconfig', file]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^error: listing VolumeSnapshots: .*forbidden.*system:serviceaccount:.*:reader/);
    expect(r.stderr).toMatch(/\nhint: /);
  });

  it('--as/--as-group impersonate for the admin, and are refused to a user without impersonate rights', async () => {
    const asReader = await pgbackup(['list', '-n', ns, '--as', `system:serviceaccount:${ns}:reader`]);
    expect(asReader.code).toBe(4);
    expect(asReader.stderr).toMatch(/^error: listing VolumeSnapshots: .*forbidden.*"system:serviceaccount:.*:reader"/);
    const asMasters = await pgbackup(['list', '-n', ns, '--as', 'someone', '--as-group', 'system:masters']);
    expect(asMasters).toMatchObject({ code: 0, stdout: '' });
    const file = await serviceAccountKubeconfig(ns, 'reader');
    const refused = await pgbackup(['list', '-n', ns, '--kubeconfig', file, '--as', 'admin']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/forbidden: User "system:serviceaccount:.*:reader" cannot impersonate/);
    const groupOnly = await pgbackup(['list', '-n', ns, '--as-group', 'system:masters']);
    expect(groupOnly).toMatchObject({
      code: 2,
      stderr: 'error: impersonating a group needs a user to impersonate\nhint: pass --as USER\n',
    });
  });

  it("--token, --server, --insecure-skip-tls-verify and --certificate-authority replace the kubeconfig's", async () => {
    const file = await serviceAccountKubeconfig(ns, 'reader');
    const badToken = await pgbackup(['list', '-n', ns, '--kubeconfig', file, '--token', 'not-a-token']);
    expect(badToken.code).not.toBe(0);
    expect(badToken.stderr).toMatch(/^error: listing VolumeSnapshots: .*Unauthorized/i);
    const nowhere = await pgbackup(['list', '-n', ns, '--server', 'https://127.0.0.1:1']);
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toMatch(/cannot reach the Kubernetes API server/);
    const server = await k(['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}']);
    const insecure = await pgbackup(['list', '-n', ns, '--server', server, '--insecure-skip-tls-verify']);
    expect(insecure.code).toBe(0);
    const noCa = await pgbackup(['list', '-n', ns, '--certificate-authority', '/nonexistent/ca.crt']);
    expect(noCa).toMatchObject({ code: 3, stderr: 'error: certificate authority file "/nonexistent/ca.crt" does not exist\n' });
  });
});

describe('kubectl pgbackup on a PostgreSQL StatefulSet', () => {
  let ns = '';
  let first = '';
  beforeAll(async () => {
    await requireClusterUp();
    ns = await createNamespace('cli-pg');
    await apply(ns, await postgresStatefulSet('pg'));
    await waitStatefulSetReady(ns, 'pg');
  }, 4 * MIN);
  afterAll(async () => {
    if (ns) await deleteNamespace(ns);
  }, 3 * MIN);

  it(
    'create --wait takes a completed backup, with progress on stderr',
    async () => {
      const r = await pgbackup(['create', 'pg', '-n', ns, '--wait', '--timeout', '2m']);
      expect(r.stderr).toMatch(/CHECKPOINT done in pg-0 at LSN/);
      expect(r.code).toBe(0);
      const m = /^backup\/(pg-\d{14}-[a-z0-9]{4}) completed \(1 VolumeSnapshot/.exec(r.stdout);
      expect(m).not.toBeNull();
      first = m![1]!;
    },
    3 * MIN,
  );

  it('list shows it; -o json parses back through the schema', async () => {
    const table = await pgbackup(['list', 'pg', '-n', ns]);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]!.split(/\s+/)).toEqual([
      'ID',
      'STATEFULSET',
      'TYPE',
      'STATUS',
      'METHOD',
      'SIZE',
      'AGE',
      'PINNED',
      'VERIFIED',
    ]);
    expect(table.stdout).toMatch(new RegExp(`^${first}\\s+pg\\s+manual\\s+completed\\s+checkpoint-snapshot`, 'm'));
    const json = await pgbackup(['list', '-n', ns, '-o', 'json']);
    const list = BackupListSchema.parse(JSON.parse(json.stdout));
    expect(list.items.map((b) => [b.id, b.status, b.pod])).toEqual([[first, 'completed', 'pg-0']]);
  });

  it('status shows the backup, and the StatefulSet', async () => {
    const backup = await pgbackup(['status', first, '-n', ns, '-o', 'json']);
    expect(BackupSchema.parse(JSON.parse(backup.stdout)).snapshots[0]!.readyToUse).toBe(true);
    const sts = await pgbackup(['status', 'pg', '-n', ns]);
    expect(sts.code).toBe(0);
    expect(sts.stdout).toMatch(new RegExp(`Newest completed:\\s+${first}`));
  });

  it('-o jsonpath and -o custom-columns read the same document as -o json', async () => {
    expect(await pgbackup(['list', '-n', ns, '-o', 'jsonpath={.items[*].id}'])).toMatchObject({ code: 0, stdout: first });
    const range = await pgbackup(['list', '-n', ns, '-o', 'jsonpath={range .items[*]}{.id}{" "}{.status}{"\\n"}{end}']);
    expect(range.stdout).toBe(`${first} completed\n`);
    const columns = await pgbackup(['list', '-n', ns, '-o', 'custom-columns=ID:.id,POD:.pod,READY:.snapshots[*].readyToUse']);
    expect(columns.stdout).toBe(`ID${' '.repeat(first.length + 1)}POD    READY\n${first}   pg-0   true\n`);
    expect((await pgbackup(['status', first, '-n', ns, '-o', 'jsonpath={.status}'])).stdout).toBe('completed');
    expect((await pgbackup(['status', 'pg', '-n', ns, '-o', 'jsonpath={.newestCompletedBackup.id}'])).stdout).toBe(first);
  });

  it('create --dry-run=server plans against the cluster and creates nothing', async () => {
    const before = await k(['get', 'volumesnapshots', '-n', ns, '-o', 'name']);
    const r = await pgbackup(['create', 'pg', '-n', ns, '--dry-run=server', '-o', 'name']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^volumesnapshot\.snapshot\.storage\.k8s\.io\/pg-\S+\n$/);
    expect(await k(['get', 'volumesnapshots', '-n', ns, '-o', 'name'])).toBe(before);
  });

  it(
    'create --dry-run=server gets the API server admission refusal; --dry-run=client does not ask it; nothing is written',
    async () => {
      // A real admission check, only in this namespace: no scheduled VolumeSnapshots here.
      const policy = `pgbackup-test-${ns}`;
      await k(['apply', '-f', '-'], {
        input: `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: ${policy}}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules: [{apiGroups: [snapshot.storage.k8s.io], apiVersions: ['*'], operations: [CREATE], resources: [volumesnapshots]}]
  validations:
    - expression: "object.metadata.labels['pgbackup.io/type'] != 'scheduled'"
      message: no scheduled VolumeSnapshots in this namespace (test policy)
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: ${policy}}
spec:
  policyName: ${policy}
  validationActions: [Deny]
  matchResources: {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ${ns}}}}
`,
      });
      try {
        const before = await k(['get', 'volumesnapshots', '-n', ns, '-o', 'name']);
        // The policy takes effect once the API server has loaded it.
        const refused = await eventually('the policy in force', MIN, async () => {
          const r = await pgbackup(['create', 'pg', '-n', ns, '--type', 'scheduled', '--dry-run=server']);
          return r.code === 0 ? undefined : r;
        });
        expect(refused.code).toBe(2);
        expect(refused.stderr).toMatch(
          /^error: creating VolumeSnapshot \S+ \(server dry run\): .*no scheduled VolumeSnapshots in this namespace \(test policy\)/m,
        );
        expect(refused.stdout).toBe('');
        const client = await pgbackup(['create', 'pg', '-n', ns, '--type', 'scheduled', '--dry-run=client', '-o', 'json']);
        expect(client.code).toBe(0);
        expect(JSON.parse(client.stdout)).toMatchObject({ kind: 'List', items: [{ kind: 'VolumeSnapshot' }] });
        // What the API server answers for an allowed one: the object as it would store it (a uid, a creationTimestamp).
        const allowed = await pgbackup(['create', 'pg', '-n', ns, '--dry-run=server', '-o', 'json']);
        expect(allowed.code).toBe(0);
        const [answered] = (JSON.parse(allowed.stdout) as { items: { metadata: { uid?: string; creationTimestamp?: string } }[] }).items;
        expect(answered!.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
        expect(answered!.metadata.creationTimestamp).toBeDefined();
        expect(await k(['get', 'volumesnapshots', '-n', ns, '-o', 'name'])).toBe(before);
      } finally {
        await k(['delete', 'validatingadmissionpolicybinding,validatingadmissionpolicy', policy, '--ignore-not-found']);
      }
    },
    2 * MIN,
  );

  it('delete --dry-run=server -o json prints the VolumeSnapshots it would delete, and deletes nothing', async () => {
    const r = await pgbackup(['delete', first, '-n', ns, '--force', '--dry-run=server', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'List', items: [{ kind: 'VolumeSnapshot', metadata: { namespace: ns } }] });
    const name = await pgbackup(['delete', first, '-n', ns, '--force', '--dry-run=server']);
    expect(name.stdout).toMatch(/^volumesnapshot\.snapshot\.storage\.k8s\.io\/\S+ deleted \(server dry run\)\n$/);
    expect(await k(['get', 'volumesnapshots', '-n', ns, '-o', 'name'])).toContain(first);
  });

  it('delete refuses the last completed backup (exit 6)', async () => {
    const r = await pgbackup(['delete', first, '-n', ns, '--yes']);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/is the last completed backup of StatefulSet pg/);
    expect(r.stderr).toMatch(/\nhint: take a newer backup first, or delete it anyway \(--force\)\n$/);
    expect(await k(['get', 'volumesnapshots', '-n', ns, '-o', 'name'])).toContain(first);
  });

  it(
    'create --wait on a slow VolumeSnapshotClass hits --timeout (exit 5) and the backup goes on',
    async () => {
      const r = await pgbackup(['create', 'pg', '-n', ns, '--snapshot-class', 'pgbackup-local-slow', '--wait', '--timeout', '5s']);
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(
        /error: backup (pg-\S+) is still in progress after \d+(\.\d+)?s \(0\/1 snapshots ready\)\nhint: it goes on; follow it: kubectl pgbackup status pg-/,
      );
      const list = BackupListSchema.parse(JSON.parse((await pgbackup(['list', '-n', ns, '-o', 'json', '--status', 'in_progress'])).stdout));
      expect(list.items).toHaveLength(1);
    },
    2 * MIN,
  );

  it(
    'Ctrl-C during --wait stops waiting and says how to follow the backup',
    async () => {
      const child = spawn(KUBECTL, ['pgbackup', 'create', 'pg', '-n', ns, '--snapshot-class', 'pgbackup-local-slow', '--wait'], {
        env: ENV,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c) => (stderr += c));
      const code = new Promise<number | null>((resolve) => child.on('close', resolve));
      await eventually('the cut', MIN, async () => (/cut by the storage/.test(stderr) ? true : undefined));
      child.kill('SIGINT');
      expect(await code).toBe(130);
      expect(stderr).toMatch(/error: stopped waiting; backup\/pg-\S+ goes on\nhint: follow it with: kubectl pgbackup status pg-/);
    },
    2 * MIN,
  );

  it(
    'list -w prints the list, then a backup that appears and each change of its status; Ctrl-C ends it with exit 0',
    async () => {
      const child = spawn(KUBECTL, ['pgbackup', 'list', 'pg', '-n', ns, '-w'], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      const code = new Promise<number | null>((resolve) => child.on('close', resolve));
      await eventually('the list', MIN, async () => (stdout.includes(first) ? true : undefined));
      const created = await pgbackup(['create', 'pg', '-n', ns, '--wait']);
      expect(created.code).toBe(0);
      const id = /^backup\/(\S+) completed/.exec(created.stdout)![1]!;
      await eventually('its completed line', MIN, async () =>
        new RegExp(`^${id}\\s+pg\\s+manual\\s+completed`, 'm').test(stdout) ? true : undefined,
      );
      child.kill('SIGINT');
      expect(await code).toBe(0);
      expect(stderr).not.toMatch(/error/);
      const lines = stdout.trimEnd().split('\n');
      expect(lines.filter((l) => l.startsWith('ID '))).toHaveLength(1);
      expect(lines[0]).toMatch(/^ID\s+STATEFULSET\s+TYPE\s+STATUS/);
      const states = lines.filter((l) => l.startsWith(id)).map((l) => l.split(/\s+/)[3]);
      // The new backup was printed while in progress, then once more when completed.
      expect(states[0]).toBe('in_progress');
      expect(states.at(-1)).toBe('completed');
    },
    3 * MIN,
  );
});
