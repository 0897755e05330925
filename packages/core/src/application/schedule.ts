import { assertName } from '../domain/names.js';
import { assertRetentionPolicy, type RetentionPolicy } from '../domain/retention.js';
import { assertSchedule, nextRun } from '../domain/schedule.js';
import { invalid, notFound } from '../errors.js';
import type { KubernetesObject, ScheduledBackup } from '../domain/readModels.js';
import type { ScheduleSpec, ScheduleWriter } from '../ports.js';
import type { Deps } from './deps.js';

export interface SetScheduleOptions {
  namespace: string;
  statefulSet: string;
  cron: string;
  timeZone?: string;
  retention?: RetentionPolicy;
  image: string;
  suspend?: boolean;
  waitTimeoutSeconds?: number;
  /** Verify each scheduled backup before pruning. */
  verify?: boolean;
  /** Return the objects without writing them. */
  dryRun?: boolean;
}

export interface SetScheduleResult {
  spec: ScheduleSpec;
  objects: KubernetesObject[];
  /** What was written (empty on a dry run). */
  applied: { object: KubernetesObject; action: 'created' | 'configured' }[];
}

/** Creates or updates the CronJob (and its RBAC) that backs a StatefulSet up on a schedule. */
export async function setSchedule(
  deps: Pick<Deps, 'workloads'> & { scheduleWriter: ScheduleWriter },
  options: SetScheduleOptions,
): Promise<SetScheduleResult> {
  assertName('namespace', options.namespace);
  assertName('StatefulSet', options.statefulSet);
  const schedule = assertSchedule({ cron: options.cron, ...(options.timeZone ? { timeZone: options.timeZone } : {}) });
  if (options.retention) assertRetentionPolicy(options.retention);
  if (!options.image.trim())
    throw invalid('the image of the scheduled pod must not be empty', {
      text: 'name the kubectl-pgbackup image the scheduled pod runs',
      options: [{ option: 'image', value: 'REGISTRY/kubectl-pgbackup:VERSION' }],
    });
  await deps.workloads.getStatefulSet(options.namespace, options.statefulSet);
  const spec: ScheduleSpec = {
    namespace: options.namespace,
    statefulSet: options.statefulSet,
    schedule,
    retention: options.retention,
    image: options.image,
    suspend: options.suspend,
    waitTimeoutSeconds: options.waitTimeoutSeconds,
    verify: options.verify,
  };
  const objects = deps.scheduleWriter.manifests(spec);
  const applied = options.dryRun ? [] : await deps.scheduleWriter.apply(spec);
  return { spec, objects, applied };
}

export interface ScheduleView extends ScheduledBackup {
  nextRunAt?: string;
}

/** The schedule of a StatefulSet with its next run. @throws NotFound when it has none. */
export async function getSchedule(deps: Pick<Deps, 'schedules' | 'clock'>, namespace: string, statefulSet: string): Promise<ScheduleView> {
  assertName('namespace', namespace);
  assertName('StatefulSet', statefulSet);
  const scheduled = await deps.schedules.get(namespace, statefulSet);
  if (!scheduled)
    throw notFound(
      `StatefulSet "${statefulSet}" in namespace "${namespace}" has no backup schedule`,
      {
        text: 'create one',
        step: { operation: 'schedule-set', target: statefulSet, namespace, options: [{ option: 'cron', value: '0 2 * * *' }] },
      },
      { object: { kind: 'StatefulSet', name: statefulSet, namespace } },
    );
  return { ...scheduled, nextRunAt: scheduled.suspended ? undefined : nextRun(scheduled.schedule, deps.clock.now()).toISOString() };
}

/** Deletes the schedule's CronJob and RBAC. @throws NotFound when there was nothing to delete. */
export async function removeSchedule(
  deps: { scheduleWriter: ScheduleWriter },
  namespace: string,
  statefulSet: string,
  options: { dryRun?: boolean } = {},
): Promise<string[]> {
  assertName('namespace', namespace);
  assertName('StatefulSet', statefulSet);
  const removed = await deps.scheduleWriter.remove(namespace, statefulSet, options);
  if (removed.length === 0) throw notFound(`StatefulSet "${statefulSet}" in namespace "${namespace}" has no backup schedule`);
  return removed;
}
