import { setTimeout as delay } from 'node:timers/promises';

/**
 * Node's timer, rejecting with the signal's reason when it aborts first (not Node's AbortError): callers
 * pass their cause through the signal (a Timeout, the user's Ctrl-C) and expect it back.
 */
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  delay(ms, undefined, { signal }).catch((e: unknown) => {
    signal?.throwIfAborted();
    throw e;
  });
