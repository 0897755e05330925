import { describe, expect, it } from '@jest/globals';
import type { SnapshotInfo } from '../domain/backup.js';
import { aBackupSnapshot } from './builders.js';
import { labelsMatch as matchesLabelSelector } from '../domain/labelSelector.js';
import { FakeBackupLock, FakeClock, FakeDatabaseConnector, FakeSnapshotStore } from './fakes.js';

describe('matchesLabelSelector', () => {
  const labels = { app: 'pg', tier: 'db', 'pgbackup.io/backup': 'x' };
  it.each([
    ['', true],
    ['app=pg', true],
    ['app==pg', true],
    ['app!=pg', false],
    ['app!=other', true],
    ['missing!=x', true],
    ['tier in (db,cache)', true],
    ['tier notin (db)', false],
    ['missing notin (db)', true],
    ['pgbackup.io/backup', true],
    ['!pgbackup.io/backup', false],
    ['!missing', true],
    ['app=pg,tier in (cache)', false],
  ])('%p → %p', (selector, expected) => {
    expect(matchesLabelSelector(labels, selector)).toBe(expected);
  });
});

describe('FakeSnapshotStore', () => {
  it('watch re-calls onChange on every mutation until it returns true', async () => {
    const store = new FakeSnapshotStore({ storage: 'never' });
    const calls: number[] = [];
    const done = store.watch(
      { namespace: 'db', labelSelector: 'pgbackup.io/backup=a' },
      (s: SnapshotInfo[]) => (calls.push(s.length), s.length === 2),
      new AbortController().signal,
    );
    store.put(aBackupSnapshot({ id: 'a', pvc: 'one' }));
    store.put(aBackupSnapshot({ id: 'other' }));
    store.put(aBackupSnapshot({ id: 'a', pvc: 'two' }));
    await done;
    expect(calls).toEqual([0, 1, 1, 2]);
    expect(store.openWatches).toBe(0);
  });

  it('watch rejects with the abort reason, or with what onChange throws', async () => {
    const store = new FakeSnapshotStore();
    const controller = new AbortController();
    const watching = store.watch({ labelSelector: '' }, () => false, controller.signal);
    controller.abort(new Error('stop'));
    await expect(watching).rejects.toThrow('stop');
    await expect(
      store.watch(
        { labelSelector: '' },
        () => {
          throw new Error('bad');
        },
        new AbortController().signal,
      ),
    ).rejects.toThrow('bad');
    expect(store.openWatches).toBe(0);
  });

  it('create stamps the clock, and the storage then cuts and readies the snapshot', async () => {
    const clock = new FakeClock('2026-01-01T00:00:00Z');
    const store = new FakeSnapshotStore({ clock, restoreSize: 7 });
    const created = await store.create({ namespace: 'db', name: 's', pvc: 'p', className: 'c', labels: {}, annotations: {} });
    expect(created).toMatchObject({ createdAt: '2026-01-01T00:00:00.000Z', readyToUse: false });
    await Promise.resolve();
    expect(store.get('db', 's')).toMatchObject({ cutAt: '2026-01-01T00:00:00.000Z', readyToUse: true, restoreSize: 7 });
    await expect(store.create({ namespace: 'db', name: 's', pvc: 'p', className: 'c', labels: {}, annotations: {} })).rejects.toMatchObject(
      { code: 'Conflict' },
    );
  });

  it('annotate merges and removes keys; delete of a missing snapshot is NotFound', async () => {
    const store = new FakeSnapshotStore();
    store.put(aBackupSnapshot({ id: 'a', annotations: { keep: '1', drop: '1' } }));
    await store.annotate('db', 'a-data-pg-0', { drop: null, add: '2' });
    expect(store.get('db', 'a-data-pg-0')!.annotations).toMatchObject({ keep: '1', add: '2' });
    expect(store.get('db', 'a-data-pg-0')!.annotations).not.toHaveProperty('drop');
    await expect(store.delete('db', 'nope')).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('returns copies: callers cannot change the stored snapshots', async () => {
    const store = new FakeSnapshotStore();
    store.put(aBackupSnapshot({ id: 'a' }));
    (await store.list({ labelSelector: '' }))[0]!.labels.x = 'y';
    expect(store.get('db', 'a-data-pg-0')!.labels).not.toHaveProperty('x');
  });
});

describe('FakeDatabaseConnector and FakeBackupLock', () => {
  it('sessions record queries and closing; undeclared pods are unreachable', async () => {
    const db = new FakeDatabaseConnector().primary('db', 'pg-0');
    const s = await db.open('db', 'pg-0');
    expect(await s.query('SELECT pg_is_in_recovery()::text')).toEqual([['false']]);
    await s.close();
    expect(db.sessions[0]!.queries).toEqual(['SELECT pg_is_in_recovery()::text']);
    expect(db.openSessions).toEqual([]);
    await expect(s.query('SELECT 1')).rejects.toThrow(/closed/);
    await expect(db.open('db', 'pg-9')).rejects.toMatchObject({ code: 'Unavailable' });
  });

  it('the lock is exclusive per StatefulSet until released', async () => {
    const lock = new FakeBackupLock();
    const grant = await lock.acquire('db', 'pg', 'me', 60);
    await expect(lock.acquire('db', 'pg', 'you', 60)).rejects.toMatchObject({ code: 'Conflict', message: expect.stringContaining('me') });
    await lock.acquire('db', 'other', 'you', 60);
    await grant.release();
    await expect(lock.acquire('db', 'pg', 'you', 60)).resolves.toBeDefined();
  });

  it('the clock moves only when told', () => {
    const clock = new FakeClock('2026-01-01T00:00:00Z');
    clock.advance(90);
    expect(clock.now().toISOString()).toBe('2026-01-01T00:01:30.000Z');
    clock.set('2027-01-01T00:00:00Z');
    expect(clock.now().toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });
});
