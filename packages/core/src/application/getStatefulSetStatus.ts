import type { Backup } from '../domain/backup.js';
import { assertName } from '../domain/names.js';
import { type Freshness, type Schedule, freshness } from '../domain/schedule.js';
import type { StatefulSetInfo } from '../domain/readModels.js';
import type { Deps } from './deps.js';
import { listBackups } from './listBackups.js';

export interface StatefulSetStatus extends StatefulSetInfo {
  newestBackup?: Backup;
  newestCompletedBackup?: Backup;
  schedule?: Schedule;
  freshness?: Freshness;
}

/** Replicas and pods of a StatefulSet, its newest backups, and their freshness against its schedule. */
export async function getStatefulSetStatus(
  deps: Pick<Deps, 'workloads' | 'snapshots' | 'schedules' | 'clock'>,
  namespace: string,
  name: string,
): Promise<StatefulSetStatus> {
  assertName('namespace', namespace);
  assertName('StatefulSet', name);
  const [sts, backups, scheduled] = await Promise.all([
    deps.workloads.getStatefulSet(namespace, name),
    listBackups(deps, { namespace, statefulSet: name }),
    deps.schedules.get(namespace, name),
  ]);
  const schedule = scheduled && !scheduled.suspended ? scheduled.schedule : undefined;
  return {
    ...sts,
    newestBackup: backups[0],
    newestCompletedBackup: backups.find((b) => b.status === 'completed'),
    schedule,
    freshness: schedule ? freshness(schedule, backups, deps.clock.now(), { scheduledSince: scheduled?.createdAt }) : undefined,
  };
}
