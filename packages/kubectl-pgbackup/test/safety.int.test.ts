// Issue 15, on the real cluster: what a backup stores and prints holds no secret, every exec has a
// deadline and a lost Lease aborts cleanly, the scheduled pods pass Pod Security `restricted`.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import {
  KUBECTL,
  MIN,
  ROOT,
  apply,
  createNamespace,
  deleteNamespace,
  eventually,
  k,
  kubectl,
  requireClusterUp,
  type Result,
} from '../../../tools/cluster/test/kube.js';
import { postgresStatefulSet, waitStatefulSetReady } from '../../../tools/cluster/test/postgres.js';
import { pluginEnv } from './plugin.js';

const ENV = pluginEnv();

function pgbackup(args: string[], timeoutMs = 3 * MIN): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(KUBECTL, ['pgbackup', ...args], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
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

async function ok(args: string[], timeoutMs?: number): Promise<Result> {
  const r = await pgbackup(args, timeoutMs);
  if (r.code !== 0) throw new Error(`kubectl pgbackup ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

const backupId = (r: Result) => /backup\/([a-z0-9-]+)/.exec(r.stderr + r.stdout)![1]!;

describe('an inline password', () => {
  const PASSWORD = 'inline-Pa55-4f1c9e';
  let ns = '';
  const seen: string[] = [];
  beforeAll(async () => {
    await requireClusterUp();
    ns = await createNamespace('safety-env');
    await apply(ns, await postgresStatefulSet('pg', { simulated: true, password: PASSWORD }));
    await waitStatefulSetReady(ns, 'pg');
  }, 4 * MIN);
  afterAll(async () => {
    if (ns) await deleteNamespace(ns);
  }, 3 * MIN);

  it(
    'never appears in a snapshot annotation nor in what the CLI prints; a restore takes it from the live StatefulSet, and refuses once that is gone',
    async () => {
      const created = await ok(['create', 'pg', '-n', ns, '--wait', '--timeout', '2m']);
      const id = backupId(created);
      seen.push(created.stdout, created.stderr);
      for (const format of ['json', 'yaml', 'wide'])
        for (const args of [
          ['status', id],
          ['list', 'pg'],
        ]) {
          const r = await ok([...args, '-n', ns, '-o', format]);
          seen.push(r.stdout, r.stderr);
        }
      const snapshots = await k(['get', 'volumesnapshots', '-n', ns, '-o', 'json']);
      expect(snapshots).toContain('pgbackup.io/statefulset-spec');
      expect(snapshots).toContain('postgres/POSTGRES_PASSWORD');
      seen.push(snapshots);
      for (const text of seen) expect(text).not.toContain(PASSWORD);

      const restored = await ok(['restore', id, '-n', ns, '--to', 'pg-restored', '--wait', '--timeout', '3m']);
      expect(restored.stderr + restored.stdout).toMatch(/ready in/);
      const env = JSON.parse(
        await k(['get', 'statefulset', 'pg-restored', '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[0].env}']),
      ) as { name: string; value?: string }[];
      expect(env.find((e) => e.name === 'POSTGRES_PASSWORD')).toEqual({ name: 'POSTGRES_PASSWORD', value: PASSWORD });

      await k(['delete', 'statefulset', 'pg', '-n', ns, '--wait']);
      const refused = await pgbackup(['restore', id, '-n', ns, '--to', 'pg-again']);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(
        /^error: backup \S+ recorded StatefulSet pg without the literal value of env postgres\/POSTGRES_PASSWORD.*no longer exists to take it from\nhint: /,
      );
      expect(await k(['get', 'pvc,statefulset', '-n', ns, '-o', 'name'])).not.toMatch(/pg-again/);
    },
    8 * MIN,
  );
});

/** The host pid of the checkpointer of the PostgreSQL in `pod` (the pod-runner runs it as a local process). */
async function checkpointerPid(ns: string, pod: string): Promise<number> {
  const postmaster = (await k(['exec', '-n', ns, pod, '--', 'sh', '-c', 'head -1 "$PGDATA/postmaster.pid"'])).trim();
  for (const entry of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
      if (ppid === postmaster && readFileSync(`/proc/${entry}/cmdline`, 'utf8').startsWith('postgres: checkpointer')) return Number(entry);
    } catch {
      // A process that ended meanwhile.
    }
  }
  throw new Error(`no checkpointer under postmaster ${postmaster} of ${ns}/${pod}`);
}

describe('deadlines', () => {
  let ns = '';
  let checkpointer = 0;
  beforeAll(async () => {
    await requireClusterUp();
    ns = await createNamespace('safety-deadline');
    await apply(ns, await postgresStatefulSet('pg', { simulated: true }));
    await waitStatefulSetReady(ns, 'pg');
    // A PostgreSQL that never answers CHECKPOINT: its checkpointer is stopped (SIGSTOP), so the request waits forever.
    checkpointer = await checkpointerPid(ns, 'pg-0');
    process.kill(checkpointer, 'SIGSTOP');
  }, 4 * MIN);
  afterAll(async () => {
    if (checkpointer) process.kill(checkpointer, 'SIGCONT');
    if (ns) await deleteNamespace(ns);
  }, 3 * MIN);

  const lease = async () => (await kubectl(['get', 'lease', 'pgbackup-pg', '-n', ns, '-o', 'jsonpath={.spec.holderIdentity}'])).stdout;
  const waitingCheckpoints = async () =>
    (
      await k([
        'exec',
        '-n',
        ns,
        'pg-0',
        '--',
        'psql',
        '-U',
        'postgres',
        '-XAtc',
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'CHECKPOINT%' AND state = 'active'",
      ])
    ).trim();

  it(
    'a CHECKPOINT that never returns fails the backup at its --consistency-timeout, the statement cancelled and the Lease released',
    async () => {
      const started = Date.now();
      const r = await pgbackup(['create', 'pg', '-n', ns, '--consistency-timeout', '8s']);
      const seconds = (Date.now() - started) / 1000;
      expect({ code: r.code, stderr: r.stderr }).toMatchObject({
        code: 5,
        stderr: expect.stringMatching(/^error: SQL in pod \S+\/pg-0 did not (finish|answer) within 8s/m),
      });
      expect(seconds).toBeLessThan(8 + 20);
      expect(await lease()).toBe('');
      expect(await waitingCheckpoints()).toBe('0');
      expect(await k(['get', 'volumesnapshots', '-n', ns, '-o', 'name'])).toBe('');
    },
    2 * MIN,
  );

  it(
    'a Lease taken over while the backup waits aborts it with that reason; the Lease is left to its new holder',
    async () => {
      const child = spawn(KUBECTL, ['pgbackup', 'create', 'pg', '-n', ns, '--consistency-timeout', '5m'], {
        env: ENV,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c) => (stderr += c));
      const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
      try {
        await eventually('the backup holds its Lease', MIN, async () =>
          (await lease()).startsWith('kubectl-pgbackup@') ? true : undefined,
        );
        const taken = Date.now();
        await k(['patch', 'lease', 'pgbackup-pg', '-n', ns, '--type', 'merge', '-p', '{"spec":{"holderIdentity":"intruder"}}']);
        const code = await exited;
        expect({ code, stderr }).toMatchObject({
          code: 1,
          stderr: expect.stringMatching(/^error: lost the backup Lease \S+\/pgbackup-pg: it is held by intruder now$/m),
        });
        // Renewal reads the Lease every 10 s (a sixth of its 60 s TTL).
        expect(Date.now() - taken).toBeLessThan(25_000);
        expect(await lease()).toBe('intruder');
      } finally {
        child.kill('SIGKILL');
        await kubectl(['delete', 'lease', 'pgbackup-pg', '-n', ns]);
      }
    },
    2 * MIN,
  );
});

describe('Pod Security "restricted"', () => {
  let ns = '';
  beforeAll(async () => {
    await requireClusterUp();
    ns = await createNamespace('safety-psa');
    await k([
      'label',
      'namespace',
      ns,
      'pod-security.kubernetes.io/enforce=restricted',
      'pod-security.kubernetes.io/enforce-version=latest',
    ]);
  }, MIN);
  afterAll(async () => {
    if (ns) await deleteNamespace(ns);
  }, 3 * MIN);

  /** The pod a Job made from the CronJob gets: admitted, or the Job's FailedCreate event (the admission's refusal). */
  async function podOfJobFrom(cronJob: string, job: string): Promise<string> {
    await k(['create', 'job', job, '-n', ns, '--from', `cronjob/${cronJob}`]);
    return eventually(`a pod of job ${job}, or its FailedCreate`, MIN, async () => {
      const pod = await k(['get', 'pods', '-n', ns, '-l', `job-name=${job}`, '-o', 'name']);
      if (pod.trim()) return `admitted ${pod.trim()}`;
      const events = await k([
        'get',
        'events',
        '-n',
        ns,
        '--field-selector',
        `involvedObject.name=${job},reason=FailedCreate`,
        '-o',
        'jsonpath={.items[*].message}',
      ]);
      return events.trim() ? `refused: ${events}` : undefined;
    });
  }

  it(
    "admits the pods of the CronJob `schedule set` writes and of the manifests' CronJob; refuses a plain pod (the policy is enforced)",
    async () => {
      const plain = await kubectl(['run', 'plain', '-n', ns, '--image', 'busybox', '--restart', 'Never', '--', 'true']);
      expect(plain.stderr).toMatch(/violates PodSecurity "restricted:latest"/);

      // The StatefulSet object is all `schedule set` needs (its own pods are not restricted-compliant: not under test here).
      await apply(ns, await postgresStatefulSet('pg', { simulated: true }));
      await ok(['schedule', 'set', 'pg', '-n', ns, '--cron', '0 3 * * *', '--keep-last', '3']);
      const cronJob = JSON.parse(await k(['get', 'cronjob', 'pgbackup-pg', '-n', ns, '-o', 'json'])) as {
        spec: { jobTemplate: { spec: { activeDeadlineSeconds?: number } } };
      };
      expect(cronJob.spec.jobTemplate.spec.activeDeadlineSeconds).toBe(7200);
      expect(await podOfJobFrom('pgbackup-pg', 'scheduled')).toMatch(/^admitted pod\/scheduled-/);

      // The Helm chart's CronJob has the same pod (manifests/test/cronjob.int.test.ts compares both with scheduleWriter).
      await k(['create', 'serviceaccount', 'pgbackup-postgresql', '-n', ns]);
      await k(['apply', '-n', ns, '-f', path.join(ROOT, 'manifests/kustomize/base/backup-cronjob.yaml')]);
      expect(await podOfJobFrom('pgbackup-postgresql', 'manifests')).toMatch(/^admitted pod\/manifests-/);
    },
    3 * MIN,
  );
});
