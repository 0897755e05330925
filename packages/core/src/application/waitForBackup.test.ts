import { describe, expect, it } from '@jest/globals';
import type { Backup } from '../domain/backup.js';
import { Annotations } from '../contract.js';
import { PgBackupError } from '../errors.js';
import { aBackupSnapshot } from '../testing/builders.js';
import { fakeDeps } from '../testing/fakes.js';
import { waitForBackup } from './waitForBackup.js';

const NOW = '2026-06-01T12:00:00Z';
const running = () => aBackupSnapshot({ id: 'b', phase: 'cut', readyToUse: false, cutAt: '2026-06-01T11:59:00Z' });

describe('waitForBackup', () => {
  it('returns the backup once it is completed', async () => {
    const deps = fakeDeps({ now: NOW, snapshots: [running()] });
    const seen: Backup['status'][] = [];
    setTimeout(() => deps.snapshots.cut('db', 'b-data-pg-0', { at: '2026-06-01T11:59:00Z', restoreSize: 42 }), 10);
    const backup = await waitForBackup(deps, 'db', 'b', { timeoutSeconds: 5, onProgress: (b) => seen.push(b.status) });
    expect(backup.status).toBe('completed');
    expect(backup.size).toBe(42);
    expect(backup.readyAt).toBe(deps.clock.now().toISOString());
    expect(deps.snapshots.all()[0]!.annotations[Annotations.readyAt]).toBe(backup.readyAt);
    expect(seen).toEqual(['in_progress', 'completed']);
    expect(deps.snapshots.openWatches).toBe(0);
    expect(deps.events.recorded).toMatchObject([
      {
        namespace: 'db',
        statefulSet: 'pg',
        reason: 'BackupCompleted',
        note: 'backup b completed: 1 VolumeSnapshot, 42 B, cut at 2026-06-01T11:59:00Z',
      },
    ]);
  });

  it('returns the backup once it failed', async () => {
    const deps = fakeDeps({ now: NOW, snapshots: [running()] });
    setTimeout(() => deps.snapshots.update('db', 'b-data-pg-0', { error: 'storage error' }), 10);
    const backup = await waitForBackup(deps, 'db', 'b', { timeoutSeconds: 5 });
    expect(backup.status).toBe('failed');
    expect(backup.error).toBe('b-data-pg-0: storage error');
    expect(deps.events.recorded).toMatchObject([{ reason: 'BackupFailed', note: 'backup b failed: b-data-pg-0: storage error' }]);
  });

  it('returns at once for a backup that is already finished', async () => {
    const deps = fakeDeps({ now: NOW, snapshots: [aBackupSnapshot({ id: 'b' })] });
    expect((await waitForBackup(deps, 'db', 'b', { timeoutSeconds: 5 })).status).toBe('completed');
    // Storage faster than the caller (ready by the time it waits): the end is recorded all the same.
    expect(deps.events.reasons()).toEqual(['BackupCompleted']);
  });

  it('throws Timeout when the backup is still in progress after the timeout, saying how far it got', async () => {
    const deps = fakeDeps({ now: NOW, snapshots: [running()] });
    const e = await waitForBackup(deps, 'db', 'b', { timeoutSeconds: 0.05 }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(PgBackupError);
    expect(e).toMatchObject({
      code: 'Timeout',
      message: 'backup b is still in progress after 0.05s (0/1 snapshots ready)',
      hint: { text: expect.stringMatching(/follow it/), step: { operation: 'status', target: 'b', namespace: 'db' } },
    });
    expect(deps.snapshots.openWatches).toBe(0);
  });

  it('accepts a fractional timeout (the CLI passes what is left of --timeout, e.g. 1.2080000000000002 s)', async () => {
    const deps = fakeDeps({ now: NOW, snapshots: [running()] });
    await expect(waitForBackup(deps, 'db', 'b', { timeoutSeconds: 0.0500000001 })).rejects.toMatchObject({
      code: 'Timeout',
      message: 'backup b is still in progress after 0.05s (0/1 snapshots ready)', // not 0.0500000001s
    });
  });

  it('passes the caller abort on as it is, not as a Timeout', async () => {
    const deps = fakeDeps({ now: NOW, snapshots: [running()] });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('cancelled by user')), 10);
    await expect(waitForBackup(deps, 'db', 'b', { timeoutSeconds: 5, signal: controller.signal })).rejects.toThrow('cancelled by user');
  });

  it('is NotFound when the backup has no snapshot', async () => {
    const deps = fakeDeps({ now: NOW });
    await expect(waitForBackup(deps, 'db', 'nope', { timeoutSeconds: 1 })).rejects.toMatchObject({ code: 'NotFound' });
  });
});
