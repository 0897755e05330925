import type { RecordedEvent } from '../domain/events.js';
import { assertName } from '../domain/names.js';
import type { Deps } from './deps.js';

/**
 * The StatefulSet's recent pgbackup Events, newest first, or why they cannot be read (Events are
 * best-effort: a caller without `list events` still gets the rest of the status).
 */
export async function recentEvents(
  deps: Pick<Deps, 'events'>,
  namespace: string,
  statefulSet: string,
  limit = 10,
): Promise<{ events: RecordedEvent[]; error?: string }> {
  assertName('namespace', namespace);
  assertName('StatefulSet', statefulSet);
  try {
    return { events: await deps.events.recent(namespace, statefulSet, limit) };
  } catch (e) {
    return { events: [], error: (e as Error).message };
  }
}
