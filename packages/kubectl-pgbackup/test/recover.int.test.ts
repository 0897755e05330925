// An in-place restore stopped from outside, on the real cluster: SIGTERM (it rolls itself back) and
// SIGKILL (it leaves its record; doctor names it, recover finishes or rolls it back). Real PostgreSQL,
// the real snapshot controller, CSI provisioner and PV controller re-binding kept volumes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { KUBECTL, MIN, apply, createNamespace, deleteNamespace, k, requireClusterUp, run } from '../../../tools/cluster/test/kube.js';
import { IMAGES_TIMEOUT, podSql, postgresImage, postgresStatefulSet, waitStatefulSetReady } from '../../../tools/cluster/test/postgres.js';
import { pluginEnv } from './plugin.js';

const ENV = pluginEnv();
const pgbackup = (args: string[], timeoutMs = 4 * MIN) => run(KUBECTL, ['pgbackup', ...args], { env: ENV, timeoutMs });

/** What the database holds: a checksum of every row. */
const contents = async (ns: string) =>
  (await podSql(ns, 'pg-0', "SELECT count(*)::text, md5(string_agg(payload, '' ORDER BY id)) FROM marks"))[0];

/** Runs an in-place restore and sends `signal` once its progress shows `when`; resolves with its exit and stderr. */
function restoreUntil(ns: string, backup: string, when: RegExp, signal: NodeJS.Signals): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(KUBECTL, ['pgbackup', 'restore', backup, '-n', ns, '--in-place', '--yes'], { env: ENV });
  let stderr = '';
  let sent = false;
  child.stderr.on('data', (d: Buffer) => {
    stderr += String(d);
    if (!sent && when.test(stderr)) {
      sent = true;
      child.kill(signal);
    }
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

const annotations = (ns: string) => k(['get', 'statefulset', 'pg', '-n', ns, '-o', 'jsonpath={.metadata.annotations}']);
const replicas = (ns: string) => k(['get', 'statefulset', 'pg', '-n', ns, '-o', 'jsonpath={.spec.replicas}']);

// The stand-in PostgreSQL by digest, built (cached) before any test: a cold build takes many minutes.
beforeAll(postgresImage, IMAGES_TIMEOUT);

describe('an in-place restore stopped by a signal', () => {
  let ns = '';
  let backup = '';
  let atBackup: string[] | undefined;

  beforeAll(async () => {
    await requireClusterUp();
    ns = await createNamespace('recover');
    await apply(ns, await postgresStatefulSet('pg', { service: true }));
    await waitStatefulSetReady(ns, 'pg', { timeoutMs: 2 * MIN });
    await podSql(
      ns,
      'pg-0',
      'CREATE TABLE marks (id serial PRIMARY KEY, payload text); INSERT INTO marks (payload) SELECT md5(g::text) FROM generate_series(1, 2000) g',
    );
    const created = await pgbackup(['create', 'pg', '-n', ns, '--wait', '-o', 'json']);
    expect(created).toMatchObject({ code: 0 });
    backup = (JSON.parse(created.stdout) as { id: string }).id;
    atBackup = await contents(ns);
    await podSql(ns, 'pg-0', "INSERT INTO marks (payload) SELECT 'after' FROM generate_series(1, 500)");
  }, 6 * MIN);

  afterAll(async () => {
    if (ns) await deleteNamespace(ns, 3 * MIN);
  }, 4 * MIN);

  it(
    'SIGTERM while the restored pod starts: it rolls back before exiting (143), recover finds nothing left, the data is from before, 1 replica',
    async () => {
      const before = await contents(ns);
      expect(before).not.toEqual(atBackup);
      const volume = await k(['get', 'pvc', 'data-pg-0', '-n', ns, '-o', 'jsonpath={.spec.volumeName}']);
      const stopped = await restoreUntil(ns, backup, /scaled to 1/, 'SIGTERM');
      expect(stopped.stderr).toMatch(/terminated: the in-place restore was rolled back, its StatefulSet is on its old volumes/);
      expect(stopped.code).toBe(143);
      expect(await annotations(ns)).not.toMatch(/in-place-restore/);

      const recovered = await pgbackup(['recover', 'pg', '-n', ns, '-o', 'json']);
      expect(recovered).toMatchObject({ code: 0 });
      expect(JSON.parse(recovered.stdout)).toMatchObject({ kind: 'Recovery', outcome: 'none' });
      expect(await replicas(ns)).toBe('1');
      expect(await k(['get', 'pvc', 'data-pg-0', '-n', ns, '-o', 'jsonpath={.spec.volumeName}'])).toBe(volume);
      expect(await k(['get', 'pv', volume, '-o', 'jsonpath={.spec.persistentVolumeReclaimPolicy}'])).toBe('Delete');
      await waitStatefulSetReady(ns, 'pg', { timeoutMs: 2 * MIN });
      expect(await contents(ns)).toEqual(before);
    },
    8 * MIN,
  );

  it(
    'SIGKILL after the claim was swapped: doctor names the unfinished restore with its command; recover ends on one of the two databases, 1 replica',
    async () => {
      const before = await contents(ns);
      const killed = await restoreUntil(ns, backup, /created persistentvolumeclaim\/data-pg-0/, 'SIGKILL');
      expect(killed.code).toBe(null);
      const record = JSON.parse(
        await k(['get', 'statefulset', 'pg', '-n', ns, '-o', 'jsonpath={.metadata.annotations.pgbackup\\.io/in-place-restore}']),
      ) as { step: string; backup: string; claims: { volume: string }[] };
      expect(record).toMatchObject({ backup, step: expect.stringMatching(/^(swapping|starting)$/) });
      const kept = record.claims[0]!.volume;
      expect(await k(['get', 'pv', kept, '-o', 'jsonpath={.spec.persistentVolumeReclaimPolicy}'])).toBe('Retain');

      const doctor = await pgbackup(['doctor', '-n', ns, '-o', 'json']);
      expect(doctor.code).toBe(1);
      const leftovers = (
        JSON.parse(doctor.stdout) as { checks: { name: string; ok: boolean; detail: string; fix?: string }[] }
      ).checks.find((c) => c.name === 'Leftovers');
      expect(leftovers).toMatchObject({
        ok: false,
        detail: expect.stringContaining(`the in-place restore of backup ${backup} into statefulset/pg did not finish`),
        fix: `kubectl pgbackup recover pg -n ${ns}`,
      });

      // The killed process's Lease expires within a minute: recover waits for it.
      const recovered = await pgbackup(leftovers!.fix!.split(' ').slice(2).concat(['--lock-wait', '2m', '-o', 'json']), 8 * MIN);
      expect(recovered).toMatchObject({ code: 0 });
      const result = JSON.parse(recovered.stdout) as { outcome: string };
      expect(['restored', 'rolled-back']).toContain(result.outcome);
      expect(await annotations(ns)).not.toMatch(/in-place-restore/);
      expect(await replicas(ns)).toBe('1');
      await waitStatefulSetReady(ns, 'pg', { timeoutMs: 2 * MIN });
      expect(await contents(ns)).toEqual(result.outcome === 'restored' ? atBackup : before);
      if (result.outcome === 'rolled-back')
        expect(await k(['get', 'pvc', 'data-pg-0', '-n', ns, '-o', 'jsonpath={.spec.volumeName}'])).toBe(kept);
      const after = await pgbackup(['doctor', '-n', ns, '-o', 'json']);
      expect(
        (JSON.parse(after.stdout) as { checks: { name: string; ok: boolean }[] }).checks.find((c) => c.name === 'Leftovers'),
      ).toMatchObject({ ok: true });
    },
    12 * MIN,
  );
});
