// PostgreSQL on the real node (issue 22): the stand-in image by digest (`npm run images`) run by the kubelet, its PVC
// published by our CSI driver, initialised by the image's own entrypoint. The product backs it up under the write load
// of the consistency tests and restores it there, through `kubectl exec` into the real container: what a user's cluster does.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MIN, REAL_NODE, ensureClusterUp, eventually, jsonpath, k, namespaceFor } from '../../../tools/cluster/test/kube.js';
import {
  IMAGES_TIMEOUT,
  podIP,
  podSql,
  postgresImage,
  postgresStatefulSet,
  waitStatefulSetReady,
} from '../../../tools/cluster/test/postgres.js';
import { CommitLog, PASSWORD, committedBeforeSql, expectConsistentCopy, pgbackup, startLoad } from './load.js';

const postgres = (name: string, walVolume = false) =>
  postgresStatefulSet(name, {
    walVolume,
    password: PASSWORD,
    terminationGracePeriodSeconds: 10,
    args: ['-c', 'max_wal_size=96MB', '-c', 'checkpoint_timeout=300'],
  });

describe('PostgreSQL on the real node', () => {
  beforeAll(ensureClusterUp, 5 * MIN);
  const ns = namespaceFor('pg-real-node', 3 * MIN);
  let image = '';
  let load: Awaited<ReturnType<typeof startLoad>> | undefined;
  beforeAll(async () => {
    image = await postgresImage();
  }, IMAGES_TIMEOUT);
  afterAll(async () => {
    await load?.stop();
  });

  it(
    'runs the image by digest with a PVC, and the CLI backs it up under load, restores it there and verifies it, consistent',
    async () => {
      const t0 = Date.now();
      await k(['apply', '-n', ns(), '-f', '-'], { input: await postgres('pg') });
      await waitStatefulSetReady(ns(), 'pg', { timeoutMs: 3 * MIN });
      const readyMs = Date.now() - t0;
      // The kubelet ran the image (its entrypoint made the cluster in PGDATA on the published claim) on the real node.
      const pod = JSON.parse(await k(['get', 'pod', 'pg-0', '-n', ns(), '-o', 'json'])) as {
        spec: { nodeName: string };
        status: { podIP: string; containerStatuses: { imageID: string }[] };
      };
      expect({ node: pod.spec.nodeName, image: pod.status.containerStatuses[0]!.imageID }).toEqual({
        node: REAL_NODE,
        image: expect.stringContaining(image.replace(/^.*@/, '@')),
      });
      expect(await podSql(ns(), 'pg-0', "SELECT current_setting('data_directory'), current_user")).toEqual([
        ['/var/lib/postgresql/data/pgdata', 'postgres'],
      ]);

      // The host reaches the pod at its own address (the node's bridge): pgbench and the commit log write there.
      load = await startLoad(ns(), 'pg-0', pod.status.podIP, '5432');
      const committedBefore = load.commitLog.lastCommitted;
      const created = await pgbackup(['create', 'pg', '-n', ns(), '--wait', '--timeout', '2m', '-o', 'json']);
      expect(created).toMatchObject({ code: 0 });
      const backup = JSON.parse(created.stdout) as { id: string; status: string; method: string };
      expect(backup).toMatchObject({ status: 'completed', method: 'checkpoint-snapshot' });
      expect(load.commitLog.lastCommitted).toBeGreaterThan(committedBefore);

      // Restored as a new StatefulSet, from the source's pod template: on the real node too, and one instant of the load.
      const restored = await pgbackup(['restore', backup.id, '--to', 'copy', '-n', ns(), '--wait', '--timeout', '3m', '-o', 'json']);
      expect(restored).toMatchObject({ code: 0 });
      expect(JSON.parse(restored.stdout)).toMatchObject({ ready: true });
      expect(await jsonpath(ns(), 'pod/copy-0', '{.spec.nodeName}')).toBe(REAL_NODE);
      await expectConsistentCopy(ns(), 'copy-0', committedBefore);

      const verified = await pgbackup(['verify', backup.id, '-n', ns(), '--sql', committedBeforeSql(committedBefore), '-o', 'json']);
      expect(verified).toMatchObject({ code: 0 });
      const report = JSON.parse(verified.stdout) as {
        verification: { result: string; restoreSeconds: number };
        checks: { name: string; passed: boolean }[];
        leftovers: string[];
      };
      expect(report.checks.map((c) => [c.name, c.passed])).toEqual([
        ['starts', true],
        ['amcheck', true],
        ['row-counts', true],
        ['sql', true],
      ]);
      expect(report.leftovers).toEqual([]);
      load.commitLog.check();
      expect(load.pgbenchOutput()).not.toMatch(/FATAL|aborted in command/);
      process.stdout.write(
        `PostgreSQL on the real node: pg-0 Ready ${readyMs} ms after apply; backup ${backup.id} under load (committed before ${committedBefore}); verify restore ${report.verification.restoreSeconds}s\n`,
      );
    },
    15 * MIN,
  );

  it(
    'with pg_wal on a volume of its own (POSTGRES_INITDB_WALDIR): one VolumeGroupSnapshot under load, verified consistent',
    async () => {
      await k(['apply', '-n', ns(), '-f', '-'], { input: await postgres('pgwal', true) });
      await waitStatefulSetReady(ns(), 'pgwal', { timeoutMs: 3 * MIN });
      // The image's entrypoint put pg_wal on the second claim.
      expect((await k(['exec', '-n', ns(), 'pgwal-0', '--', 'readlink', '/var/lib/postgresql/data/pgdata/pg_wal'])).trim()).toBe(
        '/var/lib/postgresql/wal/pg_wal',
      );
      await podSql(ns(), 'pgwal-0', 'CREATE TABLE commit_log (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())');
      const walLog = new CommitLog(await podIP(ns(), 'pgwal-0'), '5432');
      try {
        await eventually('the load on pgwal to write', 30_000, async () => (walLog.lastCommitted > 50 ? true : undefined));
        const committedBefore = walLog.lastCommitted;
        const created = await pgbackup(['create', 'pgwal', '-n', ns(), '--wait', '--timeout', '2m', '-o', 'json']);
        expect(created).toMatchObject({ code: 0 });
        const backup = JSON.parse(created.stdout) as { id: string; status: string; method: string; snapshots: { pvc: string }[] };
        expect(backup).toMatchObject({ status: 'completed', method: 'group-snapshot' });
        expect(backup.snapshots.map((s) => s.pvc).sort()).toEqual(['data-pgwal-0', 'wal-pgwal-0']);
        expect(walLog.lastCommitted).toBeGreaterThan(committedBefore);
        const sql = `SELECT count(*) FILTER (WHERE id <= ${committedBefore}) = ${committedBefore} AND coalesce(max(id), 0) = count(*) FROM commit_log`;
        const verified = await pgbackup(['verify', backup.id, '-n', ns(), '--sql', sql, '-o', 'json']);
        expect(verified).toMatchObject({ code: 0 });
        expect(JSON.parse(verified.stdout)).toMatchObject({ verification: { result: 'passed' } });
        walLog.check();
      } finally {
        await walLog.stop();
      }
    },
    10 * MIN,
  );
});
