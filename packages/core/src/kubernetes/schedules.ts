import { BatchV1Api, type KubeConfig, type V1CronJob } from '@kubernetes/client-node';
import { Annotations, Labels, MANAGED_SELECTOR } from '../contract.js';
import type { RetentionPolicy } from '../domain/retention.js';
import type { ScheduledBackup } from '../domain/readModels.js';
import type { ScheduleStore } from '../ports.js';
import { call } from './apiErrors.js';

/** Schedules are the CronJobs pgbackup manages, labelled with the StatefulSet they back up. */
export class CronJobScheduleStore implements ScheduleStore {
  private readonly api: BatchV1Api;

  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(BatchV1Api);
  }

  async get(namespace: string, statefulSet: string): Promise<ScheduledBackup | undefined> {
    const list = await call(`listing CronJobs in ${namespace}`, () =>
      this.api.listNamespacedCronJob({ namespace, labelSelector: `${MANAGED_SELECTOR},${Labels.statefulSet}=${statefulSet}` }),
    );
    return toScheduledBackup(list.items[0]);
  }
}

/** A managed CronJob as the schedule of the StatefulSet its label names (undefined without a spec). */
export function toScheduledBackup(cj: V1CronJob | undefined): ScheduledBackup | undefined {
  if (!cj?.spec) return undefined;
  return {
    namespace: cj.metadata?.namespace ?? '',
    statefulSet: cj.metadata?.labels?.[Labels.statefulSet] ?? '',
    schedule: { cron: cj.spec.schedule, timeZone: cj.spec.timeZone },
    retention: parseRetention(cj.metadata?.annotations?.[Annotations.retention]),
    suspended: cj.spec.suspend === true,
    verify: cj.metadata?.annotations?.[Annotations.verify] === 'true',
    cronJob: cj.metadata?.name,
    image: cj.spec.jobTemplate.spec?.template.spec?.containers[0]?.image,
    lastScheduleTime: cj.status?.lastScheduleTime ? new Date(cj.status.lastScheduleTime).toISOString() : undefined,
    createdAt: cj.metadata?.creationTimestamp ? new Date(cj.metadata.creationTimestamp).toISOString() : undefined,
  };
}

function parseRetention(raw: string | undefined): RetentionPolicy | undefined {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as RetentionPolicy;
  } catch {
    return undefined;
  }
}
