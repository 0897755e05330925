// The proof that a backup is a backup: under continuous write load (pgbench + a commit log whose
// committed ids are recorded client-side), take backups with the CLI, restore each into a new
// StatefulSet and check PostgreSQL starts, amcheck is clean, pgbench's balances agree and every id
// committed before the backup began is there. Then: a StatefulSet with WAL on its own volume is
// backed up with a VolumeGroupSnapshot under load and verified the same way, and a CLI killed
// (SIGKILL) after the snapshot leaves no session behind and a truthful backup record.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import {
  KUBECTL,
  MIN,
  apply,
  createNamespace,
  deleteNamespace,
  eventually,
  k,
  kubectl,
  requireClusterUp,
} from '../../../tools/cluster/test/kube.js';
import { hostPort, podSql, postgresStatefulSet, waitStatefulSetReady } from '../../../tools/cluster/test/postgres.js';
import { CommitLog, ENV, PASSWORD, committedBeforeSql, expectConsistentCopy, pgbackup, startLoad } from './load.js';

const BACKUPS = Number(process.env.PGBACKUP_CONSISTENCY_BACKUPS ?? 10);
// At least 2: the test deletes one, and the last completed backup is protected.
const GROUP_BACKUPS = Math.max(2, Number(process.env.PGBACKUP_GROUP_BACKUPS ?? 3));

/** Its servers: a Service in front, a small max_wal_size (checkpoints during the load); pg_wal on a volume of its own with walVolume. */
const postgres = (name: string, walVolume = false) =>
  postgresStatefulSet(name, {
    simulated: true,
    service: true,
    password: PASSWORD,
    walVolume,
    args: ['-c', 'max_wal_size=96MB', '-c', 'checkpoint_timeout=300'],
  });

const waitReady = (ns: string, name: string) => waitStatefulSetReady(ns, name, { timeoutMs: 2 * MIN });

describe('consistency under write load', () => {
  let ns = '';
  let load: Awaited<ReturnType<typeof startLoad>> | undefined;
  let commitLog: CommitLog | undefined;
  const results: {
    id: string;
    method: string;
    committedBefore: number;
    restoredMax: number;
    restoreSeconds: number;
    verifySeconds: number;
    indexes: number;
    tps?: string;
  }[] = [];
  const groupResults: { id: string; committedBefore: number; restoreSeconds: number; indexes: number }[] = [];

  beforeAll(async () => {
    await requireClusterUp();
    ns = await createNamespace('consistency');
    await apply(ns, await postgres('pg'));
    await waitReady(ns, 'pg');
    load = await startLoad(ns, 'pg-0', '127.0.0.1', await hostPort(ns, 'pg-0'));
    commitLog = load.commitLog;
  }, 5 * MIN);

  afterAll(async () => {
    await load?.stop();
    if (results.length > 0) {
      const times = results.map((r) => r.restoreSeconds).sort((a, b) => a - b);
      process.stdout.write(
        `consistency: ${results.length} backups under load restored and verified; restore seconds min ${times[0]} median ${times[Math.floor(times.length / 2)]} max ${times.at(-1)}\n` +
          results
            .map(
              (r) =>
                `  ${r.id} ${r.method}: committed before ${r.committedBefore}, restored max ${r.restoredMax}, restore ${r.restoreSeconds}s, verify ${r.verifySeconds}s, amcheck ${r.indexes} indexes`,
            )
            .join('\n') +
          '\n',
      );
    }
    if (groupResults.length > 0)
      process.stdout.write(
        `consistency (WAL on its own volume, group-snapshot): ${groupResults.length} backups under load verified\n` +
          groupResults
            .map((r) => `  ${r.id}: committed before ${r.committedBefore}, restore ${r.restoreSeconds}s, amcheck ${r.indexes} indexes`)
            .join('\n') +
          '\n',
      );
    if (ns) await deleteNamespace(ns, 3 * MIN);
  }, 5 * MIN);

  it(
    `restores ${BACKUPS} backups taken while pgbench and the commit log write, each consistent and complete`,
    async () => {
      for (let i = 0; i < BACKUPS; i++) {
        commitLog!.check();
        const committedBefore = commitLog!.lastCommitted;
        const created = await pgbackup(['create', 'pg', '-n', ns, '--wait', '--timeout', '2m', '-o', 'json']);
        expect(created).toMatchObject({ code: 0 });
        const backup = JSON.parse(created.stdout) as { id: string; status: string; method: string };
        expect(backup.status).toBe('completed');
        expect(backup.method).toBe('checkpoint-snapshot');
        const writtenDuring = commitLog!.lastCommitted - committedBefore;

        // Restore into a new StatefulSet and look inside.
        const target = `restored-${i}`;
        const restored = await pgbackup(['restore', backup.id, '--to', target, '-n', ns, '--wait', '--timeout', '3m', '-o', 'json']);
        expect(restored).toMatchObject({ code: 0 });
        const restore = JSON.parse(restored.stdout) as { ready: boolean; restoreSeconds: number };
        expect(restore.ready).toBe(true);
        const max = await expectConsistentCopy(ns, `${target}-0`, committedBefore);
        await k(['delete', 'statefulset', target, '-n', ns, '--wait=true', '--timeout=2m']);
        await eventually(`pod ${target}-0 gone`, 2 * MIN, async () =>
          (await kubectl(['get', 'pod', `${target}-0`, '-n', ns])).code !== 0 ? true : undefined,
        );
        await k(['delete', 'pvc', `data-${target}-0`, '-n', ns, '--wait=true', '--timeout=2m']);
        await k(['delete', 'service', target, '-n', ns, '--wait=true']);

        // The product's own proof: verify (scratch restore + amcheck + the commit-log check), recorded on the backup.
        const verifyStarted = Date.now();
        const verified = await pgbackup(['verify', backup.id, '-n', ns, '--sql', committedBeforeSql(committedBefore), '-o', 'json']);
        expect(verified).toMatchObject({ code: 0 });
        const report = JSON.parse(verified.stdout) as {
          verification: { result: string; restoreSeconds: number; indexesChecked: number };
          checks: { name: string; passed: boolean }[];
          leftovers: string[];
        };
        expect(report.verification.result).toBe('passed');
        expect(report.checks.map((c) => [c.name, c.passed])).toEqual([
          ['starts', true],
          ['amcheck', true],
          ['row-counts', true],
          ['sql', true],
        ]);
        expect(report.verification.indexesChecked).toBeGreaterThan(100);
        expect(report.leftovers).toEqual([]);
        results.push({
          id: backup.id,
          method: backup.method,
          committedBefore,
          restoredMax: max,
          restoreSeconds: restore.restoreSeconds,
          verifySeconds: Math.round((Date.now() - verifyStarted) / 100) / 10,
          indexes: report.verification.indexesChecked,
        });
        // The load really ran during the backup.
        expect(writtenDuring).toBeGreaterThan(0);
      }
      const listed = JSON.parse((await pgbackup(['list', 'pg', '-n', ns, '-o', 'json'])).stdout) as {
        items: { verification?: { result: string } }[];
      };
      expect(listed.items.filter((b) => b.verification?.result === 'passed')).toHaveLength(BACKUPS);
      // No scratch or restored object left behind.
      expect((await k(['get', 'statefulsets,pvc', '-n', ns, '-o', 'name'])).trim().split('\n').sort()).toEqual([
        'persistentvolumeclaim/data-pg-0',
        'statefulset.apps/pg',
      ]);
      commitLog!.check();
      expect(load!.pgbenchOutput()).not.toMatch(/FATAL|aborted in command/);
    },
    25 * MIN,
  );

  it(
    'backs up a StatefulSet whose WAL is on its own volume with one VolumeGroupSnapshot, under load, and each restore is as consistent',
    async () => {
      await apply(ns, await postgres('pgwal', true));
      await waitReady(ns, 'pgwal');
      await podSql(ns, 'pgwal-0', 'CREATE TABLE commit_log (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())');
      const walLog = new CommitLog('127.0.0.1', await hostPort(ns, 'pgwal-0'));
      try {
        await eventually('the load on pgwal to write', 30_000, async () => (walLog.lastCommitted > 50 ? true : undefined));
        const ids: string[] = [];
        for (let i = 0; i < GROUP_BACKUPS; i++) {
          walLog.check();
          const committedBefore = walLog.lastCommitted;
          const created = await pgbackup(['create', 'pgwal', '-n', ns, '--wait', '--timeout', '2m', '-o', 'json']);
          expect(created).toMatchObject({ code: 0 });
          const backup = JSON.parse(created.stdout) as { id: string; status: string; method: string; snapshots: { pvc: string }[] };
          expect(backup).toMatchObject({ status: 'completed', method: 'group-snapshot' });
          expect(backup.snapshots.map((s) => s.pvc).sort()).toEqual(['data-pgwal-0', 'wal-pgwal-0']);
          expect(walLog.lastCommitted).toBeGreaterThan(committedBefore);
          ids.push(backup.id);
          // The product's proof on a scratch restore of both volumes: starts, amcheck, and every id committed before is there.
          const sql = `SELECT count(*) FILTER (WHERE id <= ${committedBefore}) = ${committedBefore} AND coalesce(max(id), 0) = count(*) FROM commit_log`;
          const verified = await pgbackup(['verify', backup.id, '-n', ns, '--sql', sql, '-o', 'json']);
          expect(verified).toMatchObject({ code: 0 });
          const report = JSON.parse(verified.stdout) as {
            verification: { result: string; restoreSeconds: number; indexesChecked: number };
          };
          expect(report.verification.result).toBe('passed');
          expect(report.verification.indexesChecked).toBeGreaterThan(100);
          groupResults.push({
            id: backup.id,
            committedBefore,
            restoreSeconds: report.verification.restoreSeconds,
            indexes: report.verification.indexesChecked,
          });
        }
        // The claims carry no selection label afterwards; pruning a group backup, or deleting one, deletes its
        // VolumeGroupSnapshot (named after the backup) and with it its snapshots.
        expect(await k(['get', 'pvc', '-n', ns, '-l', 'pgbackup.io/group-snapshot', '-o', 'name'])).toBe('');
        const pruned = await pgbackup(['prune', 'pgwal', '-n', ns, '--keep-last', String(ids.length - 1), '-o', 'json']);
        expect(pruned).toMatchObject({ code: 0 });
        const decisions = (JSON.parse(pruned.stdout) as { items: { backup: { id: string }; action: string }[] }).items;
        expect(decisions.filter((d) => d.action === 'delete').map((d) => d.backup.id)).toEqual([ids[0]]);
        expect((await pgbackup(['delete', ids[1]!, '-n', ns, '--yes'])).code).toBe(0);
        for (const id of ids.slice(0, 2))
          await eventually(`group backup ${id} gone`, 2 * MIN, async () =>
            (await k(['get', 'volumegroupsnapshots,volumesnapshots', '-n', ns, '-o', 'name'])).includes(id) ? undefined : true,
          );
        const left = JSON.parse((await pgbackup(['list', 'pgwal', '-n', ns, '-o', 'json'])).stdout) as { items: { id: string }[] };
        expect(left.items.map((b) => b.id)).toEqual(ids.slice(2).reverse());
        // The storage failing the group snapshot: exit 7 naming it, nothing left behind (no group, no snapshot, no label).
        const failing = `failing-group-${ns}`;
        await k(['apply', '-f', '-'], {
          input: `apiVersion: groupsnapshot.storage.k8s.io/v1
kind: VolumeGroupSnapshotClass
metadata: {name: ${failing}}
driver: pgbackup.csi.local
deletionPolicy: Delete
parameters: {failSnapshots: "true"}
`,
        });
        try {
          const failed = await pgbackup(['create', 'pgwal', '-n', ns, '--group-snapshot-class', failing, '--wait', '--timeout', '1m']);
          expect(failed.code).toBe(7);
          expect(failed.stderr).toMatch(/VolumeGroupSnapshot pgwal-\S+ failed: .*injected failure/);
          const id = /VolumeGroupSnapshot (pgwal-\S+) failed/.exec(failed.stderr)![1]!;
          // pgbackup deletes the failed group at once; the snapshot controller may take long to finish deleting it
          // (releaseStuckGroupSnapshots in kube.ts says why), so what is checked is that the deletion was asked.
          const group = await kubectl(['get', 'volumegroupsnapshot', id, '-n', ns, '-o', 'jsonpath={.metadata.deletionTimestamp}']);
          expect(group.code === 0 ? group.stdout : /NotFound/.test(group.stderr) ? 'gone' : group.stderr).toMatch(/^(gone|\d{4}-.+Z)$/);
          expect(await k(['get', 'volumesnapshots', '-n', ns, '-l', `pgbackup.io/backup=${id}`, '-o', 'name'])).toBe('');
          expect(await k(['get', 'pvc', '-n', ns, '-l', 'pgbackup.io/group-snapshot', '-o', 'name'])).toBe('');
        } finally {
          await kubectl(['delete', 'volumegroupsnapshotclass', failing, '--ignore-not-found']);
        }
        // Forcing separate snapshots of the two volumes is refused: they would be cut at different instants.
        const forced = await pgbackup(['create', 'pgwal', '-n', ns, '--method', 'checkpoint-snapshot']);
        expect(forced.code).toBe(7);
        expect(forced.stderr).toMatch(/cut at different instants/);
      } finally {
        await walLog.stop();
      }
      await k(['delete', 'statefulset', 'pgwal', '-n', ns, '--wait=true', '--timeout=2m']);
    },
    15 * MIN,
  );

  it(
    'a CLI killed after the snapshot leaves no session behind and a truthful record',
    async () => {
      const committedBefore = commitLog!.lastCommitted;
      const child = spawn(KUBECTL, ['pgbackup', 'create', 'pg', '-n', ns, '--wait'], { env: ENV });
      let stderr = '';
      const killed = new Promise<string>((resolve) => {
        child.stderr.on('data', (d) => {
          stderr += d;
          const m = /VolumeSnapshots created/.exec(stderr);
          if (m) {
            // Between the cut and the end: the snapshot object exists, the CLI has not recorded the outcome.
            child.kill('SIGKILL');
            resolve(/backup\/(\S+):/.exec(stderr)![1]!);
          }
        });
      });
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      const id = await Promise.race([
        killed,
        exited.then((c) => Promise.reject(new Error(`CLI exited ${c} before the snapshot: ${stderr}`))),
      ]);
      await exited;
      // No session of ours left: no backend runs our SQL and no backup is in progress.
      const [[ours, inBackup]] = (await podSql(
        ns,
        'pg-0',
        "SELECT count(*) FILTER (WHERE query ~* 'pg_backup_start|CHECKPOINT' AND pid <> pg_backend_pid()), (pg_stat_file('backup_label', true)).size IS NOT NULL FROM pg_stat_activity",
      )) as [[string, string]];
      expect(ours).toBe('0');
      expect(inBackup).toBe('f');
      // The record tells the truth: the atomic snapshot was taken, so once the storage made it ready it is completed.
      const final = await eventually(`backup ${id} settled`, 2 * MIN, async () => {
        const r = await pgbackup(['status', id, '-n', ns, '-o', 'json']);
        const b = JSON.parse(r.stdout) as { status: string };
        return b.status === 'in_progress' ? undefined : b;
      });
      expect(final).toMatchObject({ status: 'completed', method: 'checkpoint-snapshot' });
      // …and true: it restores with everything committed before it began.
      const verified = await pgbackup([
        'verify',
        id,
        '-n',
        ns,
        '-o',
        'json',
        '--sql',
        `SELECT count(*) FILTER (WHERE id <= ${committedBefore}) = ${committedBefore} FROM commit_log`,
      ]);
      expect(verified).toMatchObject({ code: 0 });
      // The killed CLI's Lease still blocks a second backup until it expires: never two at once.
      const second = await pgbackup(['create', 'pg', '-n', ns]);
      expect(second.code).toBe(6);
    },
    5 * MIN,
  );
});
