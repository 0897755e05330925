// Kubernetes Events of real backups on the local cluster: what `kubectl describe`, `kubectl events` and
// `kubectl pgbackup status` show after `kubectl pgbackup create`, and that repeats aggregate into a series.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KUBECTL, MIN, apply, createNamespace, deleteNamespace, k, requireClusterUp, run } from '../../../tools/cluster/test/kube.js';
import { IMAGES_TIMEOUT, postgresImage, postgresStatefulSet, waitStatefulSetReady } from '../../../tools/cluster/test/postgres.js';
import { pluginEnv } from './plugin.js';

const pgbackup = (args: string[]) => run(KUBECTL, ['pgbackup', ...args], { env: pluginEnv(), timeoutMs: 3 * MIN });

interface EventObject {
  reason: string;
  type: string;
  note: string;
  reportingController: string;
  regarding: { kind: string; name: string };
  series?: { count: number };
}

// The stand-in PostgreSQL by digest, built (cached) before any test: a cold build takes many minutes.
beforeAll(postgresImage, IMAGES_TIMEOUT);

describe('Events of backups on the StatefulSet', () => {
  let ns = '';
  beforeAll(async () => {
    await requireClusterUp();
    ns = await createNamespace('events');
    await apply(ns, await postgresStatefulSet('pg'));
    await waitStatefulSetReady(ns, 'pg');
  }, 5 * MIN);
  afterAll(async () => {
    if (ns) await deleteNamespace(ns);
  }, 3 * MIN);

  const events = async () =>
    (
      JSON.parse(await k(['get', 'events.events.k8s.io', '-n', ns, '-l', 'pgbackup.io/statefulset=pg', '-o', 'json'])) as {
        items: EventObject[];
      }
    ).items;

  it(
    'a backup leaves BackupStarted and BackupCompleted on the StatefulSet, shown by kubectl describe, kubectl events and status',
    async () => {
      const created = await pgbackup(['create', 'pg', '-n', ns, '--wait', '--timeout', '120s', '-o', 'name']);
      expect(created).toMatchObject({ code: 0 });
      const id = created.stdout.trim().replace(/^backup\//, '');
      const items = await events();
      expect(items.map((e) => e.reason).sort()).toEqual(['BackupCompleted', 'BackupStarted']);
      for (const e of items) {
        expect(e).toMatchObject({
          type: 'Normal',
          reportingController: 'pgbackup.io/kubectl-pgbackup',
          regarding: { kind: 'StatefulSet', name: 'pg' },
        });
        expect(e.note).toContain(id);
      }
      const described = await k(['describe', 'statefulset', 'pg', '-n', ns]);
      expect(described).toMatch(/Normal\s+BackupStarted\s/);
      expect(described).toMatch(new RegExp(`Normal\\s+BackupCompleted\\s.*backup ${id} completed: 1 VolumeSnapshot`));
      const listed = await k(['events', '-n', ns, '--for', 'statefulset/pg']);
      expect(listed).toMatch(/BackupCompleted/);
      const status = await pgbackup(['status', 'pg', '-n', ns]);
      expect(status.stdout).toMatch(/Events:\n(.*\n)*\s+Normal\s+BackupCompleted\s/);
    },
    4 * MIN,
  );

  it(
    'repeats of one reason aggregate into a series instead of new Events, and prune deletions are recorded',
    async () => {
      for (let i = 0; i < 2; i++)
        expect(await pgbackup(['create', 'pg', '-n', ns, '--wait', '--timeout', '120s'])).toMatchObject({ code: 0 });
      const started = (await events()).filter((e) => e.reason === 'BackupStarted');
      // Three runs within a minute or two: one Event (or two when they straddle a 10-minute window), counting all three.
      expect(started.length).toBeLessThan(3);
      expect(started.reduce((n, e) => n + (e.series?.count ?? 1), 0)).toBe(3);
      expect(await pgbackup(['prune', 'pg', '-n', ns, '--keep-last', '1'])).toMatchObject({ code: 0 });
      const pruned = (await events()).filter((e) => e.reason === 'BackupPruned');
      expect(pruned).toHaveLength(1);
      expect(pruned[0]!.note).toMatch(/^deleted 2 backups by retention: /);
    },
    8 * MIN,
  );
});
