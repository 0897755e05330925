// Replicas that are replicas (issue 17), on the real node: `helm install` with postgresql.replicas=3 and the PostgreSQL
// image by digest. Ordinal 0 initialises the database; ordinals 1 and 2 clone it in their init container
// (pg_basebackup with a slot each, found through the headless Service's DNS) and stream from it. Everything runs in
// the pods' own containers: the harness knows nothing of replication.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtImages } from '../../tools/cluster/test/images.js';
import { MIN, describe as describeObj, ensureClusterUp } from '../../tools/cluster/test/kube.js';
import { CHART, CLI, HELM, eventually, helm, k, kubectl, ok } from './helpers.js';

const KEY = 'pgbackup.io/real-node';
const ns = `mf-replicas-${randomBytes(3).toString('hex')}`;
const sts = 'pg-postgresql';
const pods = [0, 1, 2].map((i) => `${sts}-${i}`);

/** SQL as a client in the cluster sends it: from a pod (pod 2's container), by the Service's name and password. */
const throughService = async (service: string, text: string) =>
  (
    await k([
      'exec',
      '-n',
      ns,
      pods[2]!,
      '-c',
      'postgres',
      '--',
      'sh',
      '-c',
      `PGPASSWORD="$POSTGRES_PASSWORD" psql -X -At -h ${service} -U postgres -c "$0"`,
      text,
    ])
  ).trim();
const sql = async (pod: string, text: string) =>
  (await k(['exec', '-n', ns, pod, '-c', 'postgres', '--', 'psql', '-X', '-U', 'postgres', '-At', '-c', text])).trim();

describe('helm install with postgresql.replicas=3 on the real node', () => {
  let dir: string;

  beforeAll(async () => {
    await ensureClusterUp();
    const images = await builtImages();
    const [repository, digest] = images['postgres']!.split('@');
    const values = {
      postgresql: {
        replicas: 3,
        image: { repository, digest },
        storage: { storageClass: 'pgbackup-local', size: '1Gi' },
        parameters: { max_wal_size: '64MB', shared_buffers: '32MB' },
        nodeSelector: { [KEY]: 'true' },
        tolerations: [{ key: KEY, operator: 'Equal', value: 'true', effect: 'NoSchedule' }],
      },
      api: { enabled: false },
      backup: { enabled: false },
    };
    dir = mkdtempSync(path.join(os.tmpdir(), 'pgbackup-replicas-'));
    writeFileSync(path.join(dir, 'values.yaml'), JSON.stringify(values));
    await ok(HELM, ['install', 'pg', CHART, '-n', ns, '--create-namespace', '-f', path.join(dir, 'values.yaml')], {
      timeoutMs: 2 * MIN,
    });
    await eventually(
      'three Ready replicas',
      8 * MIN,
      async () => (await k(['get', 'statefulset', sts, '-n', ns, '-o', 'jsonpath={.status.readyReplicas}'])) === '3' || undefined,
      () => describeObj(ns, `statefulset/${sts}`),
    );
  }, 12 * MIN);

  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await helm(['uninstall', 'pg', '-n', ns, '--wait', '--timeout', '2m'], { timeoutMs: 3 * MIN });
    await kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s'], { timeoutMs: 150_000 });
  }, 5 * MIN);

  it('pod 0 is the primary, pods 1 and 2 are standbys streaming from it through their own slots', async () => {
    expect(await Promise.all(pods.map((p) => sql(p, 'SELECT pg_is_in_recovery()')))).toEqual(['f', 't', 't']);
    const streaming = await eventually('both standbys streaming', MIN, async () => {
      const rows = await sql(
        pods[0]!,
        `SELECT s.application_name, s.state, r.slot_name, r.active FROM pg_stat_replication s
           JOIN pg_replication_slots r ON r.active_pid = s.pid ORDER BY 1`,
      );
      return rows.split('\n').length === 2 ? rows : undefined;
    });
    expect(streaming.split('\n')).toEqual([`${pods[1]}|streaming|pg_postgresql_1|t`, `${pods[2]}|streaming|pg_postgresql_2|t`]);
    // The standbys' password never went into their data directory (backups copy it).
    const conninfo = await sql(pods[1]!, 'SHOW primary_conninfo');
    expect(conninfo).toContain(`host=${pods[0]}.${sts}-headless`);
    expect(conninfo).not.toMatch(/password/);
  });

  it('a row written through the read-write Service is read back from both standbys within 5 s', async () => {
    const mark = randomBytes(6).toString('hex');
    await throughService(sts, `CREATE TABLE IF NOT EXISTS marks (v text); INSERT INTO marks VALUES ('${mark}')`);
    for (const standby of pods.slice(1)) {
      await eventually(`${mark} on ${standby}`, 5_000, async () =>
        (await sql(standby, `SELECT count(*) FROM marks WHERE v = '${mark}'`).catch(() => '0')) === '1' ? true : undefined,
      );
    }
    // A standby refuses writes: it is a replica, not an independent server.
    const write = await kubectl([
      'exec',
      '-n',
      ns,
      pods[1]!,
      '-c',
      'postgres',
      '--',
      'psql',
      '-U',
      'postgres',
      '-c',
      `INSERT INTO marks VALUES ('x')`,
    ]);
    expect(write.stderr).toMatch(/read-only transaction/);
  });

  it('the read-write Service selects only the primary; the read Service every instance', async () => {
    const endpoints = async (service: string) =>
      (
        await k([
          'get',
          'endpointslices',
          '-n',
          ns,
          '-l',
          `kubernetes.io/service-name=${service}`,
          '-o',
          'jsonpath={.items[*].endpoints[*].targetRef.name}',
        ])
      )
        .split(/\s+/)
        .filter(Boolean)
        .sort();
    expect(await endpoints(sts)).toEqual([pods[0]]);
    // Through kube-proxy: the read-write Service's connections land on the primary.
    expect(await throughService(sts, 'SELECT pg_is_in_recovery()')).toBe('f');
    expect(
      await eventually('3 read endpoints', MIN, async () =>
        (await endpoints(`${sts}-read`)).length === 3 ? endpoints(`${sts}-read`) : undefined,
      ),
    ).toEqual(pods);
  });

  it(
    'a backup is taken from the primary (the first ready pod not in recovery) and names it',
    async () => {
      const backup = JSON.parse(
        await ok(CLI, ['create', sts, '-n', ns, '--wait', '--timeout', '4m', '-o', 'json'], { timeoutMs: 5 * MIN }),
      ) as {
        status: string;
        pod?: string;
      };
      expect(backup).toMatchObject({ status: 'completed', pod: pods[0] });
    },
    6 * MIN,
  );
});
