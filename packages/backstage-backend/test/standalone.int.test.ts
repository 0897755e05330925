/**
 * The standalone server against the local cluster (`npm run cluster:up`): a real PostgreSQL
 * StatefulSet, a real backup through POST /backup, followed through GET until completed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BackupPageSchema, BackupResourceSchema, SnapshotListResponseSchema, StatefulSetStatusResponseSchema } from '@pgbackup/core';
import { MIN, apply, eventually, k, kubectl, requireClusterUp } from '../../../tools/cluster/test/kube.js';
import { IMAGES_TIMEOUT, postgresImage, postgresStatefulSet } from '../../../tools/cluster/test/postgres.js';
import { jsonLogger } from '../src/logger.js';
import type { Standalone } from '../src/standalone.js';
import { startLocalApi } from './localApi.js';

const NS = `api-${Date.now().toString(36)}`;
const TOKEN = 'int-test-token';

let api: Standalone;
const logLines: string[] = [];

const url = (p: string) => `${api.url}${p}`;
/** Every request carries the token (the development mode; security.int.test.ts covers TokenReview and RBAC). */
const get = (u: string) => fetch(u, { headers: { authorization: `Bearer ${TOKEN}` } });
const json = async <T = Record<string, unknown>>(res: Response) => (await res.json()) as T;

// The stand-in PostgreSQL by digest, built (cached) before any test: a cold build takes many minutes.
beforeAll(postgresImage, IMAGES_TIMEOUT);

describe('pgbackup-api on the local cluster', () => {
  beforeAll(async () => {
    await requireClusterUp();
    await k(['create', 'namespace', NS]);
    await apply(NS, await postgresStatefulSet('pg'));
    api = await startLocalApi(
      { PGBACKUP_AUTH: 'static-token', PGBACKUP_API_TOKEN: TOKEN },
      jsonLogger('info', (l) => logLines.push(l)),
    );
    await eventually(`StatefulSet ${NS}/pg ready`, 3 * MIN, async () => {
      const status = await json<{ readyReplicas: number }>(await get(url(`/backup/statefulset/pg/status?namespace=${NS}`)));
      return status.readyReplicas === 1 ? true : undefined;
    });
  }, 5 * MIN);

  afterAll(async () => {
    await api?.close();
    await kubectl(['delete', 'namespace', NS, '--wait=false']).catch(() => undefined);
  }, MIN);

  it('is ready: cache synced and the snapshot API served', async () => {
    const res = await fetch(url('/health/ready'));
    expect(res.status).toBe(200);
    const body = await json<{ checks: { name: string; ok: boolean }[] }>(res);
    expect(body.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining([expect.stringMatching(/cache volumesnapshots/), expect.stringMatching(/snapshot CRDs/)]),
    );
  });

  let id = '';

  it(
    'creates a backup with POST /backup and follows it to completed',
    async () => {
      const unauthorized = await fetch(url('/backup'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ databaseName: 'pg', namespace: NS, backupType: 'manual' }),
      });
      expect(unauthorized.status).toBe(401);
      const res = await fetch(url('/backup'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'idempotency-key': `${NS}-1` },
        body: JSON.stringify({ databaseName: 'pg', namespace: NS, backupType: 'manual' }),
      });
      const answer = await res.json();
      expect({ status: res.status, answer }).toMatchObject({ status: 202 });
      const created = BackupResourceSchema.parse(answer);
      expect(res.status).toBe(202);
      expect(created).toMatchObject({
        databaseName: 'pg',
        namespace: NS,
        status: 'in_progress',
        backupType: 'manual',
        isCompleted: false,
        isFailed: false,
      });
      id = created.id;
      const location = res.headers.get('location')!;
      expect(location).toBe(`/backup/${id}?namespace=${NS}`);

      const replay = await fetch(url('/backup'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'idempotency-key': `${NS}-1` },
        body: JSON.stringify({ databaseName: 'pg', namespace: NS, backupType: 'manual' }),
      });
      expect(replay.status).toBe(202);
      expect((await json<{ id: string }>(replay)).id).toBe(id);

      const done = await eventually('the backup to complete', 3 * MIN, async () => {
        const b = BackupResourceSchema.parse(await json(await get(url(location))));
        if (b.isFailed) throw new Error(`backup failed: ${b.error}`);
        return b.isCompleted ? b : undefined;
      });
      expect(done).toMatchObject({ id, status: 'completed', snapshotReady: true, method: 'checkpoint-snapshot' });
      expect(done.snapshotName).toBe(`${id}-data-pg-0`);
      expect(done.snapshots[0]?.readyToUse).toBe(true);
      expect(done.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    },
    4 * MIN,
  );

  it(
    'serves GET /backup/:id from the cache, without a call to the API server',
    async () => {
      await eventually('the cache to hold the backup', 30_000, async () => {
        const b = await json<{ status: string }>(await get(url(`/backup/${id}?namespace=${NS}`)));
        return b.status === 'completed' ? true : undefined;
      });
      const samples: number[] = [];
      for (let i = 0; i < 200; i++) {
        const start = performance.now();
        const res = await get(url(`/backup/${id}?namespace=${NS}`));
        await res.arrayBuffer();
        samples.push(performance.now() - start);
        expect(res.status).toBe(200);
      }
      samples.sort((a, b) => a - b);
      const p50 = samples[100]!;
      const p99 = samples[198]!;
      logLines.push(JSON.stringify({ msg: 'latency', p50, p99 }));
      process.stdout.write(`GET /backup/:id from the cache: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms over 200 requests\n`);
      expect(p50).toBeLessThan(20);
    },
    MIN,
  );

  it('shows the StatefulSet status with the newest backup, the PVC snapshots and the paginated list', async () => {
    const status = StatefulSetStatusResponseSchema.parse(await json(await get(url(`/backup/statefulset/pg/status?namespace=${NS}`))));
    expect(status).toMatchObject({ replicas: 1, readyReplicas: 1 });
    expect(status.newestCompletedBackup?.id).toBe(id);
    const snapshots = SnapshotListResponseSchema.parse(await json(await get(url(`/backup/snapshots/data-pg-0?namespace=${NS}`))));
    expect(snapshots.items.map((s) => s.name)).toEqual([`${id}-data-pg-0`]);
    const page = BackupPageSchema.parse(await json(await get(url(`/backups?namespace=${NS}&statefulset=pg&limit=10`))));
    expect(page.items.map((b) => b.id)).toEqual([id]);
  });

  it('answers bad input with a problem, never a 500', async () => {
    const send = (body: string, type = 'application/json') =>
      fetch(url('/backup'), { method: 'POST', headers: { 'content-type': type, authorization: `Bearer ${TOKEN}` }, body });
    const cases: [Promise<Response>, number][] = [
      [send(JSON.stringify({ databaseName: 'pg', namespace: NS, backupType: 'manual', extra: true })), 422],
      [send(JSON.stringify({ databaseName: 'Not_DNS', namespace: NS })), 422],
      [send(JSON.stringify({ databaseName: 'pg', namespace: 7 })), 422],
      [send(JSON.stringify({ databaseName: 'pg', namespace: NS, pad: 'x'.repeat(32 * 1024) })), 413],
      [send('{'), 400],
      [send('databaseName=pg', 'application/x-www-form-urlencoded'), 415],
      [send(JSON.stringify({ databaseName: 'nope', namespace: NS })), 404],
      [send(JSON.stringify({ databaseName: 'pg', namespace: 'no-such-namespace' })), 404],
      [get(url('/backup/UPPER_CASE')), 400],
      [get(url('/backups?limit=100000')), 400],
      [get(url(`/backup/pg-20000101000000-zzzz?namespace=${NS}`)), 404],
    ];
    for (const [pending, status] of cases) {
      const res = await pending;
      expect({ url: res.url, status: res.status }).toEqual({ url: res.url, status });
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
  });

  it(
    'deletes the backup only with force, since it is the last completed one',
    async () => {
      const del = (query: string) =>
        fetch(url(`/backup/${id}${query}`), { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
      expect((await del(`?namespace=${NS}`)).status).toBe(409);
      expect((await del(`?namespace=${NS}&force=true`)).status).toBe(200);
      await eventually('the snapshots to be gone', MIN, async () =>
        (await get(url(`/backup/${id}?namespace=${NS}`))).status === 404 ? true : undefined,
      );
    },
    2 * MIN,
  );
});
