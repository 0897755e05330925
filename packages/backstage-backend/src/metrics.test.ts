import { describe, expect, it } from '@jest/globals';
import type { CachedContents, InformerStatus } from '@pgbackup/core';
import { aBackupSnapshot } from '@pgbackup/core/testing';
import express from 'express';
import request from 'supertest';
import { captureLogger, world } from './__fixtures__/world.js';
import { MetricsEndpoint, metricsAuth } from './metrics.js';
import { createRouter } from './router.js';

const now = new Date('2026-06-02T12:00:00Z');
const clock = { now: () => now };

/** A read cache that holds what the test puts in it and counts nothing but what it is told. */
function fakeCache(
  contents: CachedContents,
  status: InformerStatus[] = [{ resource: 'volumesnapshots', synced: true, items: 1, restarts: 0 }],
) {
  return {
    start: async () => undefined,
    stop: async () => undefined,
    synced: () => status.every((s) => s.synced),
    status: () => status,
    contents: () => contents,
    apiRequests: () => 7,
  };
}

const contents: CachedContents = {
  snapshots: [
    aBackupSnapshot({ id: 'pg-20260602020000-abcd', startedAt: '2026-06-02T02:00:00Z', restoreSize: 2048 }),
    aBackupSnapshot({ id: 'pg-20260602030000-abcd', startedAt: '2026-06-02T03:00:00Z', phase: 'failed', recordedError: 'boom' }),
  ],
  schedules: [{ namespace: 'db', statefulSet: 'pg', schedule: { cron: '0 2 * * *' }, suspended: false }],
};

function serve(cache: ReturnType<typeof fakeCache>, auth = metricsAuth(undefined, undefined)) {
  const endpoint = new MetricsEndpoint([{ name: 'prod', cache }], clock);
  const router = createRouter({ clusters: [{ name: 'prod', deps: world(), cache }], logger: captureLogger(), metrics: { endpoint, auth } });
  return express().use('/api/pgbackup', router);
}

const line = (text: string, metric: string) => text.split('\n').find((l) => l.startsWith(metric));

describe('GET /metrics', () => {
  it('answers the Prometheus text format computed from the cache', async () => {
    const res = await request(serve(fakeCache(contents)))
      .get('/api/pgbackup/metrics')
      .expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain;.*version=0\.0\.4/);
    const labels = 'cluster="prod",namespace="db",statefulset="pg"';
    expect(res.text).toContain('# TYPE pgbackup_last_completed_backup_timestamp_seconds gauge');
    expect(line(res.text, `pgbackup_last_completed_backup_timestamp_seconds{${labels}}`)).toBe(
      `pgbackup_last_completed_backup_timestamp_seconds{${labels}} ${Date.parse('2026-06-02T02:00:00Z') / 1000}`,
    );
    expect(line(res.text, `pgbackup_backups{${labels},status="failed"}`)).toMatch(/ 1$/);
    expect(line(res.text, `pgbackup_last_completed_backup_size_bytes{${labels}}`)).toMatch(/ 2048$/);
    expect(line(res.text, `pgbackup_backup_late{${labels}}`)).toMatch(/ 0$/);
    expect(line(res.text, 'pgbackup_kubernetes_requests_total{cluster="prod"}')).toMatch(/ 7$/);
    expect(line(res.text, 'pgbackup_cache_stale_seconds{cluster="prod",resource="volumesnapshots"}')).toMatch(/ 0$/);
  });

  it('answers from the cache during an API-server outage, and says how stale it is', async () => {
    const broken = [{ resource: 'volumesnapshots', synced: false, items: 2, restarts: 3, unsyncedSince: '2026-06-02T11:58:00Z' }];
    const res = await request(serve(fakeCache(contents, broken)))
      .get('/api/pgbackup/metrics')
      .expect(200);
    expect(line(res.text, 'pgbackup_cache_synced{cluster="prod",resource="volumesnapshots"}')).toMatch(/ 0$/);
    expect(line(res.text, 'pgbackup_cache_stale_seconds{cluster="prod",resource="volumesnapshots"}')).toMatch(/ 120$/);
    expect(res.text).toContain('pgbackup_last_completed_backup_timestamp_seconds{');
  });

  it('counts requests by route template, not by raw path', async () => {
    const app = serve(fakeCache(contents));
    await request(app).get('/api/pgbackup/backup/pg-20260602020000-abcd?namespace=db');
    await request(app).get('/api/pgbackup/backup/pg-20260602030000-abcd?namespace=db');
    await request(app).get('/api/pgbackup/no/such/path');
    const res = await request(app).get('/api/pgbackup/metrics').expect(200);
    expect(line(res.text, 'pgbackup_http_requests_total{method="GET",route="/backup/{id}",code="404"}')).toMatch(/ 2$/);
    expect(line(res.text, 'pgbackup_http_requests_total{method="GET",route="unmatched",code="404"}')).toMatch(/ 1$/);
    expect(res.text).toContain('pgbackup_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/backup/{id}"}');
  });

  it('with bearer auth: 401 without one of the tokens, 200 with it', async () => {
    const app = serve(fakeCache(contents), metricsAuth('bearer', 'one, two'));
    const denied = await request(app).get('/api/pgbackup/metrics').expect(401);
    expect(denied.headers['content-type']).toMatch(/^application\/problem\+json/);
    await request(app).get('/api/pgbackup/metrics').set('authorization', 'Bearer three').expect(401);
    await request(app).get('/api/pgbackup/metrics').set('authorization', 'Bearer two').expect(200);
  });

  it('refuses a bearer setting without tokens, and an unknown mode', () => {
    expect(() => metricsAuth('bearer', '')).toThrow(/needs at least one token/);
    expect(() => metricsAuth('basic', 'x')).toThrow(/open or bearer/);
  });
});
