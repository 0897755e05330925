import { describe, expect, it } from '@jest/globals';
import {
  BackupPageSchema,
  BackupResourceSchema,
  ProblemSchema,
  RestoreResultSchema,
  SnapshotListResponseSchema,
  StatefulSetStatusResponseSchema,
} from '@pgbackup/core';
import { type FakeDeps, aBackupSnapshot, aStatefulSetManifest } from '@pgbackup/core/testing';
import express from 'express';
import request from 'supertest';
import { captureLogger, seedBackups, world } from './__fixtures__/world.js';
import { type RouterOptions, createRouter } from './router.js';
import { BackupRunner } from './runner.js';

function app(deps: FakeDeps, extra: Partial<RouterOptions> = {}) {
  const logger = captureLogger();
  const router = createRouter({ clusters: [{ name: 'local', deps, defaultNamespace: 'db' }], logger, ...extra });
  return { app: express().use('/api/pgbackup', router), logger };
}

const expectProblem = (res: request.Response, status: number) => {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const problem = ProblemSchema.parse(res.body);
  expect(problem.status).toBe(status);
  expect(JSON.stringify(res.body)).not.toMatch(/\bat .+\.(ts|js):\d+/); // never a stack trace
  return res.body as {
    detail: string;
    code?: string;
    hint?: string;
    options?: { option: string }[];
    errors?: { path: string; message: string }[];
  };
};

const seedBody = { databaseName: 'pg', namespace: 'db', backupType: 'manual' };

describe('POST /backup (the seed body)', () => {
  it('answers 202 with the seed shape and a Location once the VolumeSnapshots exist', async () => {
    const deps = world();
    const { app: server } = app(deps);
    const res = await request(server).post('/api/pgbackup/backup').send(seedBody);
    expect(res.status).toBe(202);
    const body = BackupResourceSchema.parse(res.body);
    expect(body).toMatchObject({
      databaseName: 'pg',
      namespace: 'db',
      status: 'in_progress',
      backupType: 'manual',
      isCompleted: false,
      isFailed: false,
      snapshotReady: false,
    });
    expect(body.id).toMatch(/^pg-20260601120000-[a-z0-9]{4}$/);
    expect(body.snapshotName).toBe(`${body.id}-data-pg-0`);
    expect(res.headers.location).toBe(`/api/pgbackup/backup/${body.id}?namespace=db`);
    expect(deps.snapshots.all()).toHaveLength(1);
  });

  it('follows the backup to completed through GET on the Location', async () => {
    const deps = world();
    const { app: server } = app(deps);
    const created = await request(server).post('/api/pgbackup/backup').send(seedBody).expect(202);
    deps.snapshots.cut('db', created.body.snapshotName);
    let status = '';
    for (let i = 0; i < 50 && status !== 'completed'; i++) {
      await new Promise((r) => setTimeout(r, 5));
      status = (await request(server).get(created.headers.location!).expect(200)).body.status;
    }
    const res = await request(server).get(created.headers.location!).expect(200);
    expect(res.body).toMatchObject({
      id: created.body.id,
      status: 'completed',
      isCompleted: true,
      isFailed: false,
      snapshotReady: true,
      snapshotSize: 1024 ** 3,
    });
    expect(res.body.snapshots).toHaveLength(1);
    expect(deps.database.openSessions).toHaveLength(0);
  });

  it('returns the same backup for the same Idempotency-Key, and refuses the key with another body', async () => {
    const deps = world();
    const { app: server } = app(deps);
    const first = await request(server).post('/api/pgbackup/backup').set('Idempotency-Key', 'k-1').send(seedBody).expect(202);
    const again = await request(server).post('/api/pgbackup/backup').set('Idempotency-Key', 'k-1').send(seedBody).expect(202);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers['idempotency-key']).toBe('k-1');
    expect(deps.snapshots.all()).toHaveLength(1);
    const reused = expectProblem(
      await request(server)
        .post('/api/pgbackup/backup')
        .set('Idempotency-Key', 'k-1')
        .send({ ...seedBody, backupType: 'scheduled' }),
      422,
    );
    expect(reused.code).toBe('IdempotencyKeyReused');
  });

  it('answers 409 while another backup of the StatefulSet runs', async () => {
    const deps = world();
    const { app: server } = app(deps);
    await request(server).post('/api/pgbackup/backup').send(seedBody).expect(202);
    const problem = expectProblem(await request(server).post('/api/pgbackup/backup').send(seedBody), 409);
    expect(problem.detail).toMatch(/already running/);
  });

  it('answers 404 for a StatefulSet that does not exist', async () => {
    const { app: server } = app(world());
    const problem = expectProblem(
      await request(server)
        .post('/api/pgbackup/backup')
        .send({ ...seedBody, databaseName: 'nope' }),
      404,
    );
    expect(problem.detail).toMatch(/StatefulSet "nope" not found/);
  });

  it.each([
    ['an unknown field', { ...seedBody, extra: 1 }, 'body', /unknown field\(s\): extra/],
    ['a wrong type', { ...seedBody, databaseName: 5 }, 'body.databaseName', /string/],
    ['a name that is not DNS-1123', { ...seedBody, databaseName: 'Bad_Name' }, 'body.databaseName', /invalid StatefulSet name "Bad_Name"/],
    ['an unknown backupType', { ...seedBody, backupType: 'full' }, 'body.backupType', /manual/],
    ['a missing namespace', { databaseName: 'pg' }, 'body.namespace', /.+/],
    ['an array body', [seedBody], 'body', /object/],
  ])('answers 422 with the issue path for %s', async (_what, body, path, message) => {
    const { app: server } = app(world());
    const problem = expectProblem(
      await request(server)
        .post('/api/pgbackup/backup')
        .send(body as object),
      422,
    );
    expect(problem.code).toBe('ValidationFailed');
    expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path, message: expect.stringMatching(message) })]));
  });

  it('answers 413 for a body over 16 KiB, 400 for malformed JSON and 415 for a non-JSON body', async () => {
    const { app: server } = app(world());
    const huge = expectProblem(
      await request(server)
        .post('/api/pgbackup/backup')
        .send({ ...seedBody, pad: 'x'.repeat(20_000) }),
      413,
    );
    expect(huge.detail).toMatch(/exceeds the limit/);
    expectProblem(
      await request(server).post('/api/pgbackup/backup').set('Content-Type', 'application/json').send('{"databaseName": '),
      400,
    );
    expectProblem(await request(server).post('/api/pgbackup/backup').set('Content-Type', 'text/plain').send('databaseName=pg'), 415);
  });

  it('answers 400 for an Idempotency-Key that is not visible ASCII', async () => {
    const { app: server } = app(world());
    const problem = expectProblem(
      await request(server).post('/api/pgbackup/backup').set('Idempotency-Key', 'x'.repeat(300)).send(seedBody),
      400,
    );
    expect(problem.code).toBe('InvalidIdempotencyKey');
  });
});

describe('reads', () => {
  it('GET /backup/:id finds the backup without a namespace and renders every snapshot and the verification', async () => {
    const deps = world();
    const [id] = seedBackups(deps, 1);
    deps.snapshots.annotate('db', `${id}-data-pg-0`, {
      'pgbackup.io/verified': JSON.stringify({ result: 'passed', at: '2026-05-01T03:00:00Z' }),
    });
    const { app: server } = app(deps);
    const res = await request(server).get(`/api/pgbackup/backup/${id}`).expect(200);
    const body = BackupResourceSchema.parse(res.body);
    expect(body).toMatchObject({
      id,
      status: 'completed',
      isCompleted: true,
      snapshotReady: true,
      snapshotName: `${id}-data-pg-0`,
      verification: { result: 'passed' },
    });
  });

  it('GET /backup/:id answers 404 for an unknown id and 400 for an id that is not DNS-1123', async () => {
    const { app: server } = app(world());
    expectProblem(await request(server).get('/api/pgbackup/backup/pg-20990101-000000-zzzz'), 404);
    const bad = expectProblem(await request(server).get('/api/pgbackup/backup/NOT_AN_ID'), 400);
    expect(bad.errors?.[0]?.path).toBe('path.id');
  });

  it('GET /backups pages newest first with an opaque cursor', async () => {
    const deps = world();
    const ids = seedBackups(deps, 5);
    const { app: server } = app(deps);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await request(server)
        .get('/api/pgbackup/backups')
        .query({ namespace: 'db', statefulset: 'pg', limit: 2, ...(cursor ? { continue: cursor } : {}) })
        .expect(200);
      const page = BackupPageSchema.parse(res.body);
      expect(page.total).toBe(5);
      seen.push(...page.items.map((b) => b.id));
      cursor = page.continue;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
  });

  it('GET /backups rejects bad query parameters with 400', async () => {
    const { app: server } = app(world());
    for (const query of [
      'limit=0',
      'limit=abc',
      'status=done',
      'namespace=a&namespace=b',
      'unknown=1',
      'continue=garbage',
      'statefulset=UPPER',
    ])
      expectProblem(await request(server).get(`/api/pgbackup/backups?${query}`), 400);
  });

  it('GET /backup/statefulset/:name/status shows replicas and the newest backups', async () => {
    const deps = world();
    const ids = seedBackups(deps, 2);
    const { app: server } = app(deps);
    const res = await request(server).get('/api/pgbackup/backup/statefulset/pg/status').query({ namespace: 'db' }).expect(200);
    const body = StatefulSetStatusResponseSchema.parse(res.body);
    expect(body).toMatchObject({ replicas: 1, readyReplicas: 1, currentReplicas: 1, updatedReplicas: 1 });
    expect(body.newestBackup?.id).toBe(ids[1]);
    expect(body.newestCompletedBackup?.isCompleted).toBe(true);
    expectProblem(await request(server).get('/api/pgbackup/backup/statefulset/missing/status?namespace=db'), 404);
  });

  it('GET /backup/snapshots/:pvcName lists the snapshots of one PVC', async () => {
    const deps = world();
    seedBackups(deps, 3);
    const { app: server } = app(deps);
    const res = await request(server).get('/api/pgbackup/backup/snapshots/data-pg-0?namespace=db').expect(200);
    const body = SnapshotListResponseSchema.parse(res.body);
    expect(body.items).toHaveLength(3);
    expect(body.items.every((s) => s.pvc === 'data-pg-0')).toBe(true);
  });

  it('an unexpected error is a generic 500 that names no internals, and is logged', async () => {
    const deps = world();
    deps.snapshots.failures.list = new Error('secret internal detail');
    const { app: server, logger } = app(deps);
    const problem = expectProblem(await request(server).get('/api/pgbackup/backups'), 500);
    expect(problem.detail).not.toMatch(/secret/);
    expect(logger.lines.some((l) => l.level === 'error' && (l.meta as Error).message === 'secret internal detail')).toBe(true);
  });

  it('an unknown route is a 404 problem', async () => {
    const { app: server } = app(world());
    expectProblem(await request(server).get('/api/pgbackup/nope'), 404);
  });
});

describe('DELETE /backup/:id', () => {
  it('refuses the last completed backup unless forced, then deletes its snapshots', async () => {
    const deps = world();
    const [id] = seedBackups(deps, 1);
    const { app: server } = app(deps);
    const refused = expectProblem(await request(server).delete(`/api/pgbackup/backup/${id}`), 409);
    expect(refused.options).toEqual([{ option: 'force' }]);
    const res = await request(server).delete(`/api/pgbackup/backup/${id}?namespace=db&force=true`).expect(200);
    expect(res.body.id).toBe(id);
    expect(deps.snapshots.all()).toHaveLength(0);
  });

  it('deletes an older backup and records an audit event', async () => {
    const deps = world();
    const [older] = seedBackups(deps, 2);
    const events: string[] = [];
    const { app: server } = app(deps, {
      audit: async (_req, eventId, meta) => ({
        success: async () => void events.push(`${eventId} ${meta.backup} ok`),
        fail: async (e) => void events.push(`${eventId} failed ${e.message}`),
      }),
    });
    await request(server).delete(`/api/pgbackup/backup/${older}`).expect(200);
    expect(events).toEqual([`backup-delete ${older} ok`]);
  });
});

describe('restore and verify', () => {
  const withSource = (deps: FakeDeps) => {
    deps.workloadWriter.put(aStatefulSetManifest());
    deps.database.fallback = {
      answer: (sql) =>
        sql.includes('pg_postmaster_start_time')
          ? [['false', '17.2', 'now']]
          : sql.includes('FROM pg_database')
            ? [['postgres']]
            : sql.includes('bt_index_check')
              ? [['150', '0', '']]
              : undefined,
    };
    return deps;
  };

  it('POST /backup/:id/restore with dryRun answers 200 with the plan and writes nothing', async () => {
    const deps = withSource(world());
    const [id] = seedBackups(deps, 1);
    const { app: server } = app(deps);
    const res = await request(server)
      .post(`/api/pgbackup/backup/${id}/restore?namespace=db`)
      .send({ to: 'pg-restored', dryRun: true })
      .expect(200);
    expect(RestoreResultSchema.parse(res.body)).toMatchObject({
      backupId: id,
      dryRun: true,
      target: { namespace: 'db', statefulSet: 'pg-restored' },
      delete: [],
    });
    // References only: the cloned StatefulSet (its env among it) is never sent back.
    expect(JSON.stringify(res.body)).not.toMatch(/"spec"|"env"|"containers"/);
    expect(res.body.create.map((o: { kind: string; name: string }) => `${o.kind}/${o.name}`)).toEqual([
      'PersistentVolumeClaim/data-pg-restored-0',
      'Service/pg-restored',
      'StatefulSet/pg-restored',
    ]);
    expect(deps.workloadWriter.objects.size).toBe(1);
  });

  it('POST /backup/:id/restore creates the objects (201), then refuses a second time with 409', async () => {
    const deps = withSource(world());
    const [id] = seedBackups(deps, 1);
    const { app: server, logger } = app(deps);
    await request(server).post(`/api/pgbackup/backup/${id}/restore`).send({ to: 'pg-restored' }).expect(201);
    expect(deps.workloadWriter.get('StatefulSet', 'db', 'pg-restored')).toBeDefined();
    expect(logger.lines.some((l) => /audit backup-restore succeeded/.test(l.message))).toBe(true);
    const problem = expectProblem(await request(server).post(`/api/pgbackup/backup/${id}/restore`).send({ to: 'pg-restored' }), 409);
    expect(problem.options).toEqual([{ option: 'to' }, { option: 'replace' }]);
    expectProblem(await request(server).post(`/api/pgbackup/backup/${id}/restore`).send({ to: 'Bad_Name' }), 422);
  });

  it('POST /backup/:id/verify answers 202 and records the verification on the backup in the background', async () => {
    const deps = withSource(world());
    const [id] = seedBackups(deps, 1);
    const runner = new BackupRunner(captureLogger());
    const { app: server } = app(deps, { runner });
    const res = await request(server).post(`/api/pgbackup/backup/${id}/verify?namespace=db`).send({}).expect(202);
    expect(res.headers.location).toBe(`/api/pgbackup/backup/${id}?namespace=db`);
    await runner.drain(10_000);
    const backup = BackupResourceSchema.parse((await request(server).get(`/api/pgbackup/backup/${id}?namespace=db`).expect(200)).body);
    expect(backup.verification).toMatchObject({ result: 'passed', indexesChecked: 150 });
    expect([...deps.workloadWriter.objects.keys()].filter((k) => k.includes('verify'))).toEqual([]);
  });

  it('an in-place restore in flight when the server drains is interrupted and rolled back: the old volume in place, no record left', async () => {
    const deps = withSource(world({ storage: 'ready' }));
    const [id] = seedBackups(deps, 1);
    const writer = deps.workloadWriter;
    await writer.create({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data-pg-0', namespace: 'db' }, spec: {} });
    // The restored pod never gets ready: only the drain's interrupt ends the wait.
    writer.waitReady = (_ns: string, _sts: string, _n: number, options: { signal?: AbortSignal }) =>
      new Promise<void>((_, reject) => options.signal?.addEventListener('abort', () => reject(options.signal?.reason as Error)));
    const runner = new BackupRunner(captureLogger());
    const { app: server } = app(deps, { runner });
    const answer = request(server)
      .post(`/api/pgbackup/backup/${id}/restore?namespace=db`)
      .send({ inPlace: true })
      .then((r) => r);
    const claim = () => writer.get('PersistentVolumeClaim', 'db', 'data-pg-0');
    while (!(claim()?.metadata.labels as Record<string, string> | undefined)?.['pgbackup.io/restored-from'])
      await new Promise((r) => setTimeout(r, 10));
    await runner.drain(0);
    expect((await answer).status).toBeGreaterThanOrEqual(500);
    expect((claim()?.spec as { volumeName: string }).volumeName).toBe('pv-1');
    expect(writer.volumes.get('pv-1')).toMatchObject({ reclaimPolicy: 'Delete', annotations: {} });
    expect(writer.get('StatefulSet', 'db', 'pg')?.metadata.annotations).not.toHaveProperty('pgbackup.io/in-place-restore');
    expect((writer.get('StatefulSet', 'db', 'pg')?.spec as { replicas: number }).replicas).toBe(1);
  });

  it('POST /backup/:id/verify refuses a backup that is not completed with 409', async () => {
    const deps = withSource(world());
    deps.snapshots.put(aBackupSnapshot({ id: 'pg-20260601020000-bbbb', phase: 'failed', recordedError: 'boom' }));
    const { app: server } = app(deps);
    expectProblem(await request(server).post('/api/pgbackup/backup/pg-20260601020000-bbbb/verify?namespace=db').send({}), 409);
  });
});

describe('health', () => {
  it('is live, started and ready when the snapshot API is served', async () => {
    const { app: server } = app(world());
    await request(server).get('/api/pgbackup/health/live').expect(200);
    await request(server).get('/api/pgbackup/health/startup').expect(200);
    const ready = await request(server).get('/api/pgbackup/health/ready').expect(200);
    expect(ready.body.checks[0]).toMatchObject({ ok: true, detail: 'snapshot.storage.k8s.io v1' });
  });

  it('is not ready when the snapshot CRDs are missing or the cache is not synced', async () => {
    const deps = world();
    deps.discovery.support = { snapshotVersions: [], groupSnapshotVersions: [] };
    const cache = {
      start: async () => undefined,
      stop: async () => undefined,
      synced: () => false,
      status: () => [{ resource: 'volumesnapshots', synced: false, items: 0, restarts: 2, lastError: 'HTTP 403' }],
      contents: () => ({ snapshots: [], schedules: [] }),
      apiRequests: () => 0,
    };
    const server = express().use(createRouter({ clusters: [{ name: 'local', deps, cache }], logger: captureLogger() }));
    const ready = await request(server).get('/health/ready').expect(503);
    expect(ready.body.status).toBe('unavailable');
    expect(ready.body.checks.map((c: { ok: boolean }) => c.ok)).toEqual([false, false]);
    expect((await request(server).get('/health/startup').expect(503)).body.status).toBe('starting');
  });
});

describe('entity routes without the catalog', () => {
  it('are neither served nor documented by a router that cannot resolve entities', async () => {
    const { app: server } = app(world());
    expectProblem(await request(server).get('/api/pgbackup/entity/component/default/db'), 404);
    const doc = (await request(server).get('/api/pgbackup/openapi.json').expect(200)).body as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/entity'))).toEqual([]);
  });
});

describe('the route table', () => {
  it('answers a known path with another method 405 and Allow', async () => {
    const { app: server } = app(world());
    const put = await request(server).put('/api/pgbackup/backup/pg-20260501020000-aaaa').send({});
    expectProblem(put, 405);
    expect(put.headers.allow).toBe('GET, DELETE, HEAD');
    expect((await request(server).get('/api/pgbackup/backup')).headers.allow).toBe('POST');
    expect((await request(server).post('/api/pgbackup/health/live')).status).toBe(405);
    expect((await request(server).delete('/api/pgbackup/openapi.json')).headers.allow).toBe('GET, HEAD');
  });

  it('authenticates before it parses, and authorizes each access the route declares, in its namespace', async () => {
    const deps = world();
    const [id] = seedBackups(deps, 1);
    deps.workloadWriter.put(aStatefulSetManifest());
    const asked: string[] = [];
    const guard = {
      authenticate: async (req: express.Request) => {
        if (!req.get('authorization')) throw Object.assign(new Error('no token'), { name: 'AuthenticationError' });
        return { name: 'alice' };
      },
      authorize: async (_req: express.Request, _caller: { name: string }, a: { verb: string; subresource?: string; namespace: string }) => {
        asked.push(`${a.verb} ${a.subresource ?? ''} ${a.namespace}`.replace('  ', ' '));
        if (a.namespace === 'other') throw Object.assign(new Error('denied'), { name: 'NotAllowedError' });
      },
    };
    // The accepted verify runs in the background: drained at the end, so that it leaves nothing running after the test.
    const runner = new BackupRunner(captureLogger());
    const { app: server } = app(deps, { guard, runner });
    // No credentials: 401 whatever the input, before validation.
    expectProblem(await request(server).get('/api/pgbackup/backup/NOT_A_NAME'), 401);
    expect(asked).toEqual([]);
    const auth = { authorization: 'Bearer x' };
    await request(server).get(`/api/pgbackup/backup/${id}`).set(auth).expect(200);
    await request(server).get('/api/pgbackup/backups').set(auth).expect(200);
    await request(server)
      .post(`/api/pgbackup/backup/${id}/verify`)
      .set(auth)
      .send({ checks: ['amcheck'] })
      .expect(202);
    // A restore into another namespace is authorized there too, and refused there before anything is written.
    expectProblem(
      await request(server).post(`/api/pgbackup/backup/${id}/restore`).set(auth).send({ to: 'copy', targetNamespace: 'other' }),
      403,
    );
    expect([...deps.workloadWriter.objects.keys()].filter((k) => k.includes('other') || k.includes('copy'))).toEqual([]);
    expect(asked).toEqual(['get db', 'list ', 'create verify db', 'create restore db', 'create restore other']);
    // Verify takes named checks, never SQL.
    expectProblem(await request(server).post(`/api/pgbackup/backup/${id}/verify`).set(auth).send({ sql: 'select 1' }), 422);
    await runner.drain(0);
    expect(runner.size).toBe(0);
  });

  it('returns an allowlist: no snapshot labels or annotations (the recorded StatefulSet), no StatefulSet manifest', async () => {
    const deps = world();
    const secret = 'inline-secret-value';
    deps.snapshots.put(
      aBackupSnapshot({
        id: 'pg-20260501020000-aaaa',
        annotations: { 'pgbackup.io/statefulset-spec': JSON.stringify({ env: [{ name: 'POSTGRES_PASSWORD', value: secret }] }) },
      }),
    );
    const sts = await deps.workloads.getStatefulSet('db', 'pg');
    deps.workloads.set({
      ...sts,
      manifest: {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'pg', namespace: 'db' },
        spec: { env: [{ name: 'POSTGRES_PASSWORD', value: secret }] },
      },
    });
    const { app: server } = app(deps);
    const bodies = await Promise.all(
      ['/backup/pg-20260501020000-aaaa', '/backups', '/backup/statefulset/pg/status', '/backup/snapshots/data-pg-0'].map(
        async (p) => (await request(server).get(`/api/pgbackup${p}`).expect(200)).text,
      ),
    );
    for (const body of bodies) {
      expect(body).not.toContain(secret);
      expect(body).not.toMatch(/"annotations"|"labels"|"manifest"/);
    }
  });
});
