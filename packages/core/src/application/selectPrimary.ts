import { isPgBackupError, notFound, unavailable } from '../errors.js';
import type { PodInfo, StatefulSetInfo } from '../domain/readModels.js';
import type { DatabaseConnector } from '../ports.js';

/**
 * The pod to back up: the requested one, else the first ready pod (by ordinal) whose PostgreSQL is
 * not in recovery. A pod whose database does not answer is skipped; none answering is an error.
 */
export async function selectPrimary(database: DatabaseConnector, sts: StatefulSetInfo, requested?: string): Promise<PodInfo> {
  if (requested) {
    const pod = sts.pods.find((p) => p.name === requested);
    if (!pod)
      throw notFound(
        `pod "${requested}" is not a pod of StatefulSet ${sts.name}`,
        `its pods: ${sts.pods.map((p) => p.name).join(', ') || 'none'}`,
      );
    if (!pod.ready)
      throw unavailable(
        `pod ${pod.name} is not ready`,
        { text: 'wait until it is Ready, or choose another pod', options: [{ option: 'pod' }] },
        { object: { kind: 'Pod', name: pod.name, namespace: sts.namespace } },
      );
    return pod;
  }
  const ready = sts.pods.filter((p) => p.ready).sort((a, b) => a.ordinal - b.ordinal);
  if (ready.length === 0)
    throw unavailable(`StatefulSet ${sts.namespace}/${sts.name} has no ready pod`, `check: kubectl get pods -n ${sts.namespace}`);
  const problems: string[] = [];
  const errors: unknown[] = [];
  for (const pod of ready) {
    try {
      const session = await database.open(sts.namespace, pod.name, pod.container);
      try {
        const [row] = await session.query('SELECT pg_is_in_recovery()::text');
        if (row?.[0] === 'false') return pod;
        problems.push(`${pod.name}: in recovery (a standby)`);
      } finally {
        await session.close();
      }
    } catch (e) {
      errors.push(e);
      problems.push(`${pod.name}: ${(e as Error).message}`);
    }
  }
  // Same cause everywhere (e.g. exec forbidden): report it as it is.
  if (errors.length === ready.length && errors.every((e) => isPgBackupError(e, 'Forbidden'))) throw errors[0];
  throw unavailable(`no primary found among the ready pods of ${sts.name}: ${problems.join('; ')}`, {
    text: 'choose the pod to back up',
    options: [{ option: 'pod' }],
  });
}
