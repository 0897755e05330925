// Issue 15, on the real cluster: what a backup stores and prints holds no secret, every exec has a
// deadline and a lost Lease aborts cleanly, the scheduled pods pass Pod Security `restricted`.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import {
  KUBECTL,
  MIN,
  apply,
  createNamespace,
  deleteNamespace,
  k,
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
    await apply(ns, postgresStatefulSet('pg', { password: PASSWORD }));
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
