import { describe, expect, it } from '@jest/globals';
import { timeout } from './errors.js';
import { sleep } from './sleep.js';

describe('sleep', () => {
  it('resolves when the time is up', async () => {
    await expect(sleep(0)).resolves.toBeUndefined();
  });

  it("rejects with the signal's reason, not Node's AbortError, whether aborted before or while waiting", async () => {
    const reason = timeout('gave up');
    await expect(sleep(0, AbortSignal.abort(reason))).rejects.toBe(reason);
    const controller = new AbortController();
    const waiting = sleep(3_600_000, controller.signal);
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });
});
