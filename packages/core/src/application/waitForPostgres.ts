import { timeout } from '../errors.js';
import type { Deps } from './deps.js';

/** Readiness says pg_isready; this says a query runs and recovery is over. */
export async function waitForPostgres(
  deps: Pick<Deps, 'database'>,
  namespace: string,
  pod: string,
  options: { timeoutSeconds: number; signal?: AbortSignal },
): Promise<void> {
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  let last: unknown;
  while (Date.now() < deadline) {
    options.signal?.throwIfAborted();
    try {
      const session = await deps.database.open(namespace, pod);
      try {
        const [row] = await session.query('SELECT pg_is_in_recovery()::text');
        if (row?.[0] === 'false') return;
        last = new Error('still in recovery');
      } finally {
        await session.close().catch(() => undefined);
      }
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw timeout(`PostgreSQL in ${namespace}/${pod} did not accept queries: ${(last as Error)?.message ?? 'no answer'}`);
}
