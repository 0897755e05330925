import { describe, expect, it } from '@jest/globals';
import { aBackupSnapshot, aStatefulSet } from '../testing/builders.js';
import { fakeDeps } from '../testing/fakes.js';
import { getStatefulSetStatus } from './getStatefulSetStatus.js';

const NOW = '2026-06-01T12:00:00Z';
const snapshots = () => [
  aBackupSnapshot({ id: 'running', phase: 'consistency', readyToUse: false, startedAt: '2026-06-01T11:59:00Z' }),
  aBackupSnapshot({ id: 'done', startedAt: '2026-06-01T02:00:10Z' }),
  aBackupSnapshot({ id: 'older', startedAt: '2026-05-31T02:00:10Z' }),
  aBackupSnapshot({ id: 'other-sts', startedAt: '2026-06-01T11:00:00Z', statefulSet: 'other' }),
];

describe('getStatefulSetStatus', () => {
  it('without a schedule: the StatefulSet, its newest backup and newest completed backup, no freshness', async () => {
    const deps = fakeDeps({ now: NOW, statefulSets: [aStatefulSet({ replicas: 2 })], snapshots: snapshots() });
    const status = await getStatefulSetStatus(deps, 'db', 'pg');
    expect(status).toMatchObject({ name: 'pg', namespace: 'db', replicas: 2, readyReplicas: 2 });
    expect(status.pods.map((p) => p.name)).toEqual(['pg-0', 'pg-1']);
    expect(status.newestBackup?.id).toBe('running');
    expect(status.newestCompletedBackup?.id).toBe('done');
    expect(status.schedule).toBeUndefined();
    expect(status.freshness).toBeUndefined();
  });

  it('with a schedule: freshness against it at the clock time', async () => {
    const deps = fakeDeps({ now: NOW, statefulSets: [aStatefulSet()], snapshots: snapshots() });
    deps.schedules.set({ namespace: 'db', statefulSet: 'pg', schedule: { cron: '0 2 * * *' }, suspended: false });
    const status = await getStatefulSetStatus(deps, 'db', 'pg');
    expect(status.schedule).toEqual({ cron: '0 2 * * *' });
    expect(status.freshness).toEqual({
      state: 'ok',
      expectedSince: '2026-06-01T02:00:00.000Z',
      newestCompletedAt: '2026-06-01T02:00:10.000Z',
      rpoSeconds: 10 * 3600 - 10,
      nextRunAt: '2026-06-02T02:00:00.000Z',
    });
    deps.clock.set('2026-06-02T03:00:00Z');
    expect((await getStatefulSetStatus(deps, 'db', 'pg')).freshness).toMatchObject({ state: 'late', lateBySeconds: 3600 });
  });

  it('with a schedule and no completed backup: freshness missing', async () => {
    const deps = fakeDeps({ now: NOW, statefulSets: [aStatefulSet()] });
    deps.schedules.set({ namespace: 'db', statefulSet: 'pg', schedule: { cron: '@hourly' }, suspended: false });
    const status = await getStatefulSetStatus(deps, 'db', 'pg');
    expect(status.newestBackup).toBeUndefined();
    expect(status.freshness?.state).toBe('missing');
  });

  it('ignores a suspended schedule: no schedule, no freshness', async () => {
    const deps = fakeDeps({ now: NOW, statefulSets: [aStatefulSet()], snapshots: snapshots() });
    deps.schedules.set({ namespace: 'db', statefulSet: 'pg', schedule: { cron: '@hourly' }, suspended: true });
    const status = await getStatefulSetStatus(deps, 'db', 'pg');
    expect(status.schedule).toBeUndefined();
    expect(status.freshness).toBeUndefined();
  });

  it('is NotFound for an unknown StatefulSet and Invalid for a bad name', async () => {
    const deps = fakeDeps({ now: NOW });
    await expect(getStatefulSetStatus(deps, 'db', 'pg')).rejects.toMatchObject({ code: 'NotFound' });
    await expect(getStatefulSetStatus(deps, 'db', 'Pg')).rejects.toMatchObject({ code: 'Invalid' });
  });
});
