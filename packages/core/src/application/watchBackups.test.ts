import { describe, expect, it } from '@jest/globals';
import { aBackupSnapshot } from '../testing/builders.js';
import { fakeDeps } from '../testing/fakes.js';
import { watchBackups } from './watchBackups.js';

describe('watchBackups', () => {
  it('hands over the list at once and after every change, filtered as listBackups filters; ends when the signal aborts', async () => {
    const deps = fakeDeps({ snapshots: [aBackupSnapshot({ id: 'pg-20260601020000-aaaa' })] });
    const seen: string[][] = [];
    const stop = new AbortController();
    const watching = watchBackups(
      deps,
      { namespace: 'db', status: 'in_progress' },
      (backups) => seen.push(backups.map((b) => b.id)),
      stop.signal,
    );
    deps.snapshots.put(aBackupSnapshot({ id: 'pg-20260601030000-bbbb', startedAt: '2026-06-01T03:00:00Z', phase: 'consistency' }));
    deps.snapshots.put(aBackupSnapshot({ id: 'pg-20260601030000-bbbb', startedAt: '2026-06-01T03:00:00Z', phase: 'cut' }));
    stop.abort(new Error('done'));
    await expect(watching).rejects.toThrow('done');
    expect(seen).toEqual([[], ['pg-20260601030000-bbbb'], []]);
    expect(deps.snapshots.openWatches).toBe(0);
  });

  it('refuses an invalid selector before watching', async () => {
    const deps = fakeDeps();
    await expect(watchBackups(deps, { selector: '!!' }, () => undefined, new AbortController().signal)).rejects.toMatchObject({
      code: 'Invalid',
    });
    expect(deps.snapshots.openWatches).toBe(0);
  });
});
