// Restores that change what exists: in place (with its pre-restore backup and undo), and into
// another namespace. Real PostgreSQL, the real snapshot controller and CSI provisioner, the real PV
// controller re-binding kept volumes.
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
  requireClusterUp,
  run,
} from '../../../tools/cluster/test/kube.js';
import { IMAGES_TIMEOUT, podSql, postgresImage, postgresStatefulSet, waitStatefulSetReady } from '../../../tools/cluster/test/postgres.js';
import { privilegedWithHostPath, rewriteRecordedStatefulSet } from '../../../tools/cluster/test/backups.js';
import { pluginEnv } from './plugin.js';

const ENV = pluginEnv();
const pgbackup = (args: string[], timeoutMs = 4 * MIN) => run(KUBECTL, ['pgbackup', ...args], { env: ENV, timeoutMs });

/** What the database holds: the generations written, and a checksum of every row. */
const contents = async (ns: string, pod = 'pg-0') =>
  (
    await podSql(
      ns,
      pod,
      "SELECT string_agg(generation::text, ',' ORDER BY generation), md5(string_agg(payload, '' ORDER BY id)) FROM marks",
    )
  )[0];

// The stand-in PostgreSQL by digest, built (cached) before any test: a cold build takes many minutes.
beforeAll(postgresImage, IMAGES_TIMEOUT);

describe('restore in place and into another namespace', () => {
  let ns = '';

  beforeAll(async () => {
    await requireClusterUp();
    ns = await createNamespace('inplace');
    await apply(ns, await postgresStatefulSet('pg', { service: true }));
    await waitStatefulSetReady(ns, 'pg', { timeoutMs: 2 * MIN });
  }, 4 * MIN);

  afterAll(async () => {
    if (ns) await deleteNamespace(ns, 3 * MIN);
  }, 4 * MIN);

  it(
    'replaces the data with the backup after a pinned pre-restore backup, and restoring that backup in place undoes it',
    async () => {
      await podSql(
        ns,
        'pg-0',
        'CREATE TABLE marks (id serial PRIMARY KEY, generation int, payload text); INSERT INTO marks (generation, payload) SELECT 1, md5(g::text) FROM generate_series(1, 5000) g',
      );
      const created = await pgbackup(['create', 'pg', '-n', ns, '--wait', '-o', 'json']);
      expect(created).toMatchObject({ code: 0 });
      const backup = (JSON.parse(created.stdout) as { id: string }).id;
      const atBackup = await contents(ns);
      // The mistake to recover from: more writes, then a dropped column's worth of damage.
      await podSql(
        ns,
        'pg-0',
        "INSERT INTO marks (generation, payload) SELECT 2, md5((-g)::text) FROM generate_series(1, 3000) g; UPDATE marks SET payload = 'lost' WHERE generation = 1 AND id % 2 = 0",
      );
      const beforeRestore = await contents(ns);
      expect(beforeRestore).not.toEqual(atBackup);
      const oldVolume = await k(['get', 'pvc', 'data-pg-0', '-n', ns, '-o', 'jsonpath={.spec.volumeName}']);

      // Without --yes and without a terminal it asks, and changes nothing.
      const unconfirmed = await pgbackup(['restore', backup, '-n', ns, '--in-place']);
      expect(unconfirmed.code).toBe(1);
      expect(unconfirmed.stderr).toMatch(/confirmation required/);

      const restored = await pgbackup(['restore', backup, '-n', ns, '--in-place', '--yes', '-o', 'json']);
      expect(restored).toMatchObject({ code: 0 });
      const result = JSON.parse(restored.stdout) as { ready: boolean; preRestoreBackup: string; undo: string; restoreSeconds: number };
      expect(result.ready).toBe(true);
      expect(result.undo).toBe(`kubectl pgbackup restore ${result.preRestoreBackup} -n ${ns} --in-place`);
      expect(await contents(ns)).toEqual(atBackup);
      // Same claim name, a new volume; the old one given back to its policy (Delete) once the restore was ready.
      expect(await k(['get', 'pvc', 'data-pg-0', '-n', ns, '-o', 'jsonpath={.spec.volumeName}'])).not.toBe(oldVolume);
      await eventually(`old volume ${oldVolume} reclaimed`, 2 * MIN, async () =>
        (await k(['get', 'pv', '-o', 'name'])).includes(oldVolume) ? undefined : true,
      );
      const status = JSON.parse((await pgbackup(['status', result.preRestoreBackup, '-n', ns, '-o', 'json'])).stdout) as {
        type: string;
        pinned: boolean;
        status: string;
      };
      expect(status).toMatchObject({ type: 'pre-restore', pinned: true, status: 'completed' });
      expect(await k(['get', 'statefulset', 'pg', '-n', ns, '-o', 'jsonpath={.spec.replicas} {.metadata.annotations}'])).not.toMatch(
        /in-place-restore/,
      );

      // Undo: the pre-restore backup, restored in place, brings back exactly what was there before.
      const undone = await pgbackup([...result.undo.split(' ').slice(2), '--yes', '-o', 'json']);
      expect(undone).toMatchObject({ code: 0 });
      expect(await contents(ns)).toEqual(beforeRestore);
      // No session in backup mode, one replica as before.
      expect(await podSql(ns, 'pg-0', "SELECT (pg_stat_file('backup_label', true)).size IS NULL")).toEqual([['t']]);
      expect(await k(['get', 'statefulset', 'pg', '-n', ns, '-o', 'jsonpath={.spec.replicas}'])).toBe('1');
    },
    12 * MIN,
  );

  it(
    'Ctrl-C after the claim was swapped puts the old volume back: same data, same volume, policy Delete again',
    async () => {
      const list = JSON.parse((await pgbackup(['list', 'pg', '-n', ns, '-o', 'json'])).stdout) as { items: { id: string; type: string }[] };
      const backup = list.items.find((b) => b.type === 'manual')!.id;
      const before = await contents(ns);
      const volume = await k(['get', 'pvc', 'data-pg-0', '-n', ns, '-o', 'jsonpath={.spec.volumeName}']);
      const child = spawn(KUBECTL, ['pgbackup', 'restore', backup, '-n', ns, '--in-place', '--yes'], { env: ENV });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += String(d);
        if (/created persistentvolumeclaim\/data-pg-0/.test(stderr) && !child.killed) child.kill('SIGINT');
      });
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      expect(stderr).toMatch(/the old volumes are back in place/);
      expect(code).toBe(130);
      expect(await k(['get', 'pvc', 'data-pg-0', '-n', ns, '-o', 'jsonpath={.spec.volumeName}'])).toBe(volume);
      expect(await k(['get', 'pv', volume, '-o', 'jsonpath={.spec.persistentVolumeReclaimPolicy}'])).toBe('Delete');
      expect(await k(['get', 'pv', volume, '-o', 'jsonpath={.metadata.annotations}'])).not.toMatch(/pgbackup\.io\/kept/);
      await waitStatefulSetReady(ns, 'pg', { timeoutMs: 2 * MIN });
      expect(await contents(ns)).toEqual(before);
      expect(await k(['get', 'statefulset', 'pg', '-n', ns, '-o', 'jsonpath={.metadata.annotations}'])).not.toMatch(/in-place-restore/);
      // Only the one claim: the restored claim's volume was deleted with it.
      expect((await k(['get', 'pvc', '-n', ns, '-o', 'name'])).trim()).toBe('persistentvolumeclaim/data-pg-0');
    },
    6 * MIN,
  );

  it(
    'dry run prints the swap without touching anything; --to the source itself is refused with the way to do it',
    async () => {
      const list = JSON.parse((await pgbackup(['list', 'pg', '-n', ns, '-o', 'json'])).stdout) as { items: { id: string; type: string }[] };
      const backup = list.items.find((b) => b.type === 'manual')!.id;
      const before = await contents(ns);
      const dry = await pgbackup(['restore', backup, '-n', ns, '--in-place', '--dry-run', '-o', 'json']);
      expect(dry).toMatchObject({ code: 0 });
      const plan = JSON.parse(dry.stdout) as { delete: { name: string }[]; create: { metadata: { name: string } }[]; notes: string[] };
      expect(plan.delete.map((d) => d.name)).toEqual(['data-pg-0']);
      expect(plan.create.map((c) => c.metadata.name)).toEqual(['data-pg-0']);
      expect(plan.notes.join(' ')).toMatch(/pre-restore backup/);
      expect(await contents(ns)).toEqual(before);

      const self = await pgbackup(['restore', backup, '-n', ns, '--to', 'pg']);
      expect(self.code).toBe(2);
      expect(self.stderr).toMatch(/is the backed-up StatefulSet itself/);
      expect(self.stderr).toMatch(/--in-place/);
      const neither = await pgbackup(['restore', backup, '-n', ns]);
      expect(neither.code).toBe(2);
      expect(neither.stderr).toMatch(/Exactly one of the following must be provided: --in-place, --to|--to|--in-place/);
    },
    5 * MIN,
  );

  it(
    '--target-namespace restores into another namespace through Retain copies of the snapshots, then deletes the copies; the backup is untouched',
    async () => {
      const other = await createNamespace('inplace-to');
      try {
        const created = await pgbackup(['create', 'pg', '-n', ns, '--wait', '-o', 'json']);
        expect(created).toMatchObject({ code: 0 });
        const backup = JSON.parse(created.stdout) as { id: string; snapshots: { contentName: string }[] };
        const atBackup = await contents(ns);
        const restored = await pgbackup([
          'restore',
          backup.id,
          '-n',
          ns,
          '--to',
          'pg',
          '--target-namespace',
          other,
          '--wait',
          '-o',
          'json',
        ]);
        expect(restored).toMatchObject({ code: 0 });
        const result = JSON.parse(restored.stdout) as { ready: boolean; create: { kind: string; spec: { deletionPolicy?: string } }[] };
        expect(result.ready).toBe(true);
        expect(result.create.map((o) => o.kind)).toEqual([
          'VolumeSnapshotContent',
          'VolumeSnapshot',
          'PersistentVolumeClaim',
          'Service',
          'StatefulSet',
        ]);
        expect(result.create[0]!.spec.deletionPolicy).toBe('Retain');
        expect(await contents(other)).toEqual(atBackup);
        // Its pods have DNS names of their own: a headless Service of the restored StatefulSet.
        expect(await k(['get', 'service', 'pg', '-n', other, '-o', 'jsonpath={.spec.clusterIP} {.spec.selector}'])).toBe(
          'None {"app":"pg","pgbackup.io/restore-of":"pg"}',
        );
        // The copies are gone; the backup's own snapshot and content are still there and ready.
        const selector = `pgbackup.io/restored-from=${backup.id}`;
        expect((await k(['get', 'volumesnapshots', '-n', other, '-l', selector, '-o', 'name'])).trim()).toBe('');
        expect((await k(['get', 'volumesnapshotcontents', '-l', selector, '-o', 'name'])).trim()).toBe('');
        const status = JSON.parse((await pgbackup(['status', backup.id, '-n', ns, '-o', 'json'])).stdout) as { status: string };
        expect(status.status).toBe('completed');
        expect(await k(['get', 'volumesnapshotcontent', backup.snapshots[0]!.contentName, '-o', 'jsonpath={.status.readyToUse}'])).toBe(
          'true',
        );
        // Restoring there again is refused: the target exists.
        const again = await pgbackup(['restore', backup.id, '-n', ns, '--to', 'pg', '--target-namespace', other]);
        expect(again.code).toBe(6);
        expect(again.stderr).toMatch(/the restore target exists: .*persistentvolumeclaim\/data-pg-0.*statefulset\/pg/);
      } finally {
        await deleteNamespace(other, 3 * MIN);
      }
    },
    8 * MIN,
  );

  it(
    'restores a StatefulSet that was deleted, from the spec the backup recorded (its environment from a Secret: literal values are never recorded)',
    async () => {
      await k([
        'create',
        'secret',
        'generic',
        'pgref-env',
        '-n',
        ns,
        '--from-literal=POSTGRES_PASSWORD=test',
        '--from-literal=PGDATA=/var/lib/postgresql/data/pgdata',
      ]);
      await apply(ns, await postgresStatefulSet('pgref', { envSecret: 'pgref-env' }));
      await waitStatefulSetReady(ns, 'pgref', { timeoutMs: 2 * MIN });
      await podSql(ns, 'pgref-0', 'CREATE TABLE marks AS SELECT 1 AS id');
      const created = await pgbackup(['create', 'pgref', '-n', ns, '--wait', '-o', 'json']);
      expect(created).toMatchObject({ code: 0 });
      const backup = (JSON.parse(created.stdout) as { id: string }).id;
      await k(['delete', 'statefulset', 'pgref', '-n', ns, '--wait=true', '--timeout=2m']);
      await k(['delete', 'pvc', 'data-pgref-0', '-n', ns, '--wait=true', '--timeout=2m']);
      const restored = await pgbackup(['restore', backup, '-n', ns, '--to', 'pgref', '--wait']);
      expect(restored).toMatchObject({ code: 0 });
      expect(restored.stderr).toMatch(/no longer exists: cloned from its spec as recorded in the backup/);
      expect(await podSql(ns, 'pgref-0', 'SELECT count(*) > 0 FROM marks')).toEqual([['t']]);
      expect(
        await k(['get', 'statefulset', 'pgref', '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[0].envFrom[0].secretRef.name}']),
      ).toBe('pgref-env');
    },
    6 * MIN,
  );

  it(
    'schedule set --verify: a scheduled run backs up, verifies that backup (recorded on it), leaves no scratch object, then prunes',
    async () => {
      const set = await pgbackup(['schedule', 'set', 'pg', '-n', ns, '--cron', '0 3 * * *', '--keep-last', '5', '--verify']);
      expect(set.code).toBe(0);
      try {
        const shown = JSON.parse((await pgbackup(['schedule', 'show', 'pg', '-n', ns, '-o', 'json'])).stdout) as { verify?: boolean };
        expect(shown.verify).toBe(true);
        await k(['create', 'job', 'verified', '-n', ns, '--from', 'cronjob/pgbackup-pg']);
        const exitCode = await eventually('the scheduled Job terminated', 4 * MIN, async () => {
          const out = await k([
            'get',
            'pods',
            '-n',
            ns,
            '-l',
            'job-name=verified',
            '-o',
            'jsonpath={.items[0].status.containerStatuses[0].state.terminated.exitCode}',
          ]);
          return out || undefined;
        });
        const log = (await k(['logs', '-n', ns, '-l', 'job-name=verified', '--tail', '50'])).trim();
        expect({ exitCode, log }).toMatchObject({ exitCode: '0' });
        const list = JSON.parse((await pgbackup(['list', 'pg', '-n', ns, '-o', 'json'])).stdout) as {
          items: { id: string; type: string; status: string; verification?: { result: string; indexesChecked: number } }[];
        };
        const scheduled = list.items.filter((b) => b.type === 'scheduled');
        expect(scheduled).toHaveLength(1);
        expect(scheduled[0]).toMatchObject({ status: 'completed', verification: { result: 'passed' } });
        expect(scheduled[0]!.verification!.indexesChecked).toBeGreaterThan(100);
        expect((await k(['get', 'statefulsets,services', '-n', ns, '-l', 'pgbackup.io/scratch', '-o', 'name'])).trim()).toBe('');
      } finally {
        await pgbackup(['schedule', 'remove', 'pg', '-n', ns]);
      }
    },
    6 * MIN,
  );

  it(
    'refuses a backup whose recorded pod template was rewritten to mount the host and run privileged (exit 4, nothing created); --trust-recorded-pod-template accepts it',
    async () => {
      const created = await pgbackup(['create', 'pg', '-n', ns, '--wait', '-o', 'json']);
      expect(created).toMatchObject({ code: 0 });
      const backup = (JSON.parse(created.stdout) as { id: string }).id;
      // Untouched, the same backup restores (dry run): the refusal below is the rewrite's doing.
      expect(await pgbackup(['restore', backup, '-n', ns, '--to', 'pg-evil', '--dry-run'])).toMatchObject({ code: 0 });
      await rewriteRecordedStatefulSet(ns, backup, privilegedWithHostPath);
      const refused = await pgbackup(['restore', backup, '-n', ns, '--to', 'pg-evil']);
      expect(refused.code).toBe(4);
      expect(refused.stderr).toBe(
        `error: the pod template recorded on backup ${backup} grants more than the live StatefulSet ${ns}/pg: hostPath volume host-root (/); container postgres: privileged\n` +
          'hint: the record was changed after the backup, or the StatefulSet since: compare them; to run the recorded template anyway, restore with your own credentials, accepting it: ' +
          `kubectl pgbackup restore ${backup} -n ${ns} --to pg-evil --trust-recorded-pod-template\n`,
      );
      expect(await k(['get', 'statefulset,pvc', '-n', ns, '-o', 'name'])).not.toMatch(/pg-evil/);
      const accepted = await pgbackup([
        'restore',
        backup,
        '-n',
        ns,
        '--to',
        'pg-evil',
        '--trust-recorded-pod-template',
        '--dry-run',
        '-o',
        'json',
      ]);
      expect(accepted).toMatchObject({ code: 0 });
      const plan = JSON.parse(accepted.stdout) as { create: { kind: string; spec: { template?: { spec: { volumes?: unknown[] } } } }[] };
      expect(plan.create.find((o) => o.kind === 'StatefulSet')!.spec.template!.spec.volumes).toEqual([
        { name: 'host-root', hostPath: { path: '/' } },
      ]);
    },
    3 * MIN,
  );
});
