import { describe, expect, it } from '@jest/globals';
import { Annotations } from '../contract.js';
import { parseInPlaceRestoreRecord } from '../domain/inPlaceRestoreRecord.js';
import { unavailable } from '../errors.js';
import { type FakeDeps, inPlaceWorld } from '../testing/index.js';
import type { Deps } from './deps.js';
import { recoverInPlaceRestore } from './recoverInPlaceRestore.js';
import { restoreBackup } from './restoreBackup.js';

const ID = 'pg-20260601020000-abcd';
const RESTORED = `${ID}-data-pg-0`;

/**
 * The deps of a process that is sent SIGTERM just before its `terminateAt`-th call to a port (its
 * signal aborts, it may still clean up) and dies just before its `dieAt`-th: that call and every later
 * one fail, as after SIGKILL nothing more reaches the cluster. Counts the calls.
 */
function mortal(deps: FakeDeps, { terminateAt = Number.POSITIVE_INFINITY, dieAt = Number.POSITIVE_INFINITY }) {
  const controller = new AbortController();
  const state = { calls: 0, dead: false };
  const gate = () => {
    const call = state.calls++;
    if (call >= terminateAt || call >= dieAt) controller.abort(new Error('terminated'));
    if (call >= dieAt) state.dead = true;
    if (state.dead) throw new Error('killed');
  };
  const wrap = <T extends object>(port: T): T =>
    new Proxy(port, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          gate();
          const out = (await (value as (...a: unknown[]) => unknown).apply(target, args)) as Record<string, unknown> | undefined;
          // Sessions and held locks are ports too.
          return out && typeof out === 'object' && (typeof out.close === 'function' || typeof out.release === 'function') ? wrap(out) : out;
        };
      },
    });
  const ports: Deps = {
    ...deps,
    workloads: wrap(deps.workloads),
    workloadWriter: wrap(deps.workloadWriter),
    snapshots: wrap(deps.snapshots),
    groups: wrap(deps.groups),
    discovery: wrap(deps.discovery),
    database: wrap(deps.database),
    lock: wrap(deps.lock),
    schedules: wrap(deps.schedules),
  };
  return { deps: ports, signal: controller.signal, state };
}

/** The restored pod never gets ready, and from then on no claim can be deleted: the restore's rollback fails half-way. */
function failStartAndRollback(deps: FakeDeps): () => void {
  const writer = deps.workloadWriter;
  writer.waitReady = async () => {
    writer.failures.delete = unavailable('injected: the API server is gone');
    throw unavailable('injected: the node went away');
  };
  return () => {
    Reflect.deleteProperty(writer, 'waitReady');
    delete writer.failures.delete;
  };
}

const manifest = (deps: FakeDeps) => deps.workloadWriter.get('StatefulSet', 'db', 'pg')!;
const record = (deps: FakeDeps) =>
  parseInPlaceRestoreRecord((manifest(deps).metadata.annotations as Record<string, string>)[Annotations.inPlaceRestore]);

/** One of the two databases, whole: the restored one on 1 replica, or the original on its 2; nothing kept, no record. */
function database(deps: FakeDeps): 'original' | 'restored' {
  expect(record(deps)).toBeUndefined();
  const volume = (deps.workloadWriter.get('PersistentVolumeClaim', 'db', 'data-pg-0')?.spec as { volumeName?: string } | undefined)
    ?.volumeName;
  const content = volume && deps.workloadWriter.volumes.get(volume)?.content;
  expect([
    ['live', 2],
    [RESTORED, 1],
  ]).toContainEqual([content, (manifest(deps).spec as { replicas: number }).replicas]);
  for (const [name, pv] of deps.workloadWriter.volumes) {
    expect([name, pv.annotations[Annotations.keptForClaim]]).toEqual([name, undefined]);
    expect([name, pv.reclaimPolicy]).toEqual([name, 'Delete']);
  }
  expect(deps.lock.isHeld('db', 'pg')).toBe(false);
  return content === 'live' ? 'original' : 'restored';
}

async function callsOfARestore(): Promise<number> {
  const deps = await inPlaceWorld(ID, 2);
  const run = mortal(deps, {});
  await restoreBackup(run.deps, { namespace: 'db', id: ID, inPlace: true, signal: run.signal });
  expect(database(deps)).toBe('restored');
  return run.state.calls;
}

describe('an interrupted in-place restore', () => {
  it('killed before any one of its calls to the cluster: recover leaves the restored or the original database, never neither', async () => {
    const calls = await callsOfARestore();
    expect(calls).toBeGreaterThan(15);
    const seen = new Set<string>();
    for (let at = 0; at <= calls; at++) {
      const deps = await inPlaceWorld(ID, 2);
      const run = mortal(deps, { dieAt: at });
      await restoreBackup(run.deps, { namespace: 'db', id: ID, inPlace: true, signal: run.signal }).catch(() => undefined);
      const step = record(deps)?.step ?? 'no record';
      // The Lease of a killed holder expires.
      deps.lock.free('db', 'pg');
      const result = await recoverInPlaceRestore(deps, { namespace: 'db', statefulSet: 'pg' });
      const outcome = database(deps);
      if (result.outcome === 'none') expect([at, step]).toEqual([at, 'no record']);
      if (result.outcome === 'rolled-back') expect([at, outcome]).toEqual([at, 'original']);
      seen.add(`${step} → ${outcome}`);
    }
    // Every step was reached by some kill, and the later ones are finished rather than undone.
    expect([...seen].sort()).toEqual([
      'finishing → restored',
      'no record → original',
      'no record → restored',
      'starting → restored',
      'stopping → original',
      'swapping → original',
    ]);
  });

  it('sent SIGTERM at any step and killed during its rollback, or killed again during recover: the next recover still ends on one of the two', async () => {
    const calls = await callsOfARestore();
    const outcomes = new Set<string>();
    for (let at = 0; at <= calls; at += 2)
      for (let later = 1; later <= 12; later += 3) {
        const deps = await inPlaceWorld(ID, 2);
        const run = mortal(deps, { terminateAt: at, dieAt: at + later });
        await restoreBackup(run.deps, { namespace: 'db', id: ID, inPlace: true, signal: run.signal }).catch(() => undefined);
        deps.lock.free('db', 'pg');
        // A recover killed part-way, then one that runs to its end.
        const first = mortal(deps, { dieAt: later });
        await recoverInPlaceRestore(first.deps, { namespace: 'db', statefulSet: 'pg' }).catch(() => undefined);
        deps.lock.free('db', 'pg');
        await recoverInPlaceRestore(deps, { namespace: 'db', statefulSet: 'pg' });
        outcomes.add(database(deps));
      }
    expect([...outcomes].sort()).toEqual(['original', 'restored']);
  });

  it('on SIGTERM at any step rolls itself back (or finishes), so recover finds nothing left', async () => {
    const calls = await callsOfARestore();
    for (let at = 0; at <= calls; at++) {
      const deps = await inPlaceWorld(ID, 2);
      const run = mortal(deps, { terminateAt: at });
      await restoreBackup(run.deps, { namespace: 'db', id: ID, inPlace: true, signal: run.signal }).catch(() => undefined);
      database(deps);
      await expect(recoverInPlaceRestore(deps, { namespace: 'db', statefulSet: 'pg' })).resolves.toMatchObject({ outcome: 'none' });
    }
  });

  it('rolls back at step starting when asked to, although it could be finished', async () => {
    const deps = await inPlaceWorld(ID, 2);
    const heal = failStartAndRollback(deps);
    await expect(restoreBackup(deps, { namespace: 'db', id: ID, inPlace: true })).rejects.toMatchObject({
      message: expect.stringMatching(/putting the old volumes back failed too .*the data from before is in the pinned backup pg-/),
      hint: { step: { operation: 'recover', target: 'pg', namespace: 'db' } },
    });
    expect(record(deps)).toMatchObject({ step: 'starting', backup: ID, replicas: 2 });
    // Stopped at 0 rather than started on claims that are neither database.
    expect((manifest(deps).spec as { replicas: number }).replicas).toBe(0);
    heal();
    const result = await recoverInPlaceRestore(deps, { namespace: 'db', statefulSet: 'pg', rollBack: true });
    expect(result).toMatchObject({ outcome: 'rolled-back', reason: 'asked to roll back' });
    expect(database(deps)).toBe('original');
  });

  it('finishes a restore stopped at step starting whose database comes up', async () => {
    const deps = await inPlaceWorld(ID, 2);
    const heal = failStartAndRollback(deps);
    await restoreBackup(deps, { namespace: 'db', id: ID, inPlace: true }).catch(() => undefined);
    expect(record(deps)?.step).toBe('starting');
    heal();
    const result = await recoverInPlaceRestore(deps, { namespace: 'db', statefulSet: 'pg' });
    expect(result).toMatchObject({ outcome: 'restored', record: { step: 'starting', backup: ID } });
    expect(database(deps)).toBe('restored');
  });

  it('waits for the Lease, and says a restore may still be running when it stays held', async () => {
    const deps = await inPlaceWorld(ID, 2);
    deps.lock.hold('db', 'pg', 'kubectl-pgbackup restore --in-place');
    await expect(recoverInPlaceRestore(deps, { namespace: 'db', statefulSet: 'pg' })).rejects.toMatchObject({
      code: 'Conflict',
      message: expect.stringMatching(/the restore may still be running; a killed one's Lease expires within a minute/),
    });
  });

  it('leaves a claim alone that neither the restore nor the old database owns, and keeps the old volume', async () => {
    const deps = await inPlaceWorld(ID, 2);
    // The old claim is deleted, then no claim can be created: neither the restored one nor the old one again.
    deps.workloadWriter.failCreateOf = 'PersistentVolumeClaim';
    await restoreBackup(deps, { namespace: 'db', id: ID, inPlace: true }).catch(() => undefined);
    expect(record(deps)?.step).toBe('swapping');
    delete deps.workloadWriter.failCreateOf;
    await deps.workloadWriter.create({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data-pg-0', namespace: 'db' },
      spec: {},
    });
    await expect(recoverInPlaceRestore(deps, { namespace: 'db', statefulSet: 'pg' })).rejects.toMatchObject({
      message: expect.stringMatching(/claim data-pg-0 is bound to pv-2, and not by this restore: left alone/),
    });
    expect(deps.workloadWriter.get('PersistentVolumeClaim', 'db', 'data-pg-0')).toBeDefined();
    expect(deps.workloadWriter.volumes.get('pv-1')).toMatchObject({ content: 'live', reclaimPolicy: 'Retain' });
    expect(record(deps)?.step).toBe('swapping');
  });
});
