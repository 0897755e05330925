import { KubernetesObjectApi, type KubeConfig, PatchStrategy } from '@kubernetes/client-node';
import { Annotations, Labels, MANAGED_BY } from '../contract.js';
import { PERMISSIONS, VERIFY_PERMISSIONS, rbacRules } from '../domain/kubernetesPermissions.js';
import { WEBHOOK_SECRET_KEY, WEBHOOK_URL_ENV, webhookSecretName } from '../domain/notification.js';
import { isPgBackupError } from '../errors.js';
import type { KubernetesObject } from '../domain/readModels.js';
import type { ScheduleSpec, ScheduleWriter } from '../ports.js';
import { call } from './apiErrors.js';

/** CronJob annotation holding the retention policy the scheduled prune applies (JSON). */
export const CLUSTER_ROLE = 'kubectl-pgbackup';
export const FIELD_MANAGER = 'kubectl-pgbackup';

// A CronJob name is at most 52 characters (its Jobs append an 11-character suffix).
export const cronJobName = (statefulSet: string) => `pgbackup-${statefulSet}`.slice(0, 52).replace(/-+$/, '');
const clusterBindingName = (namespace: string, statefulSet: string) => `pgbackup-${namespace}-${statefulSet}`.slice(0, 253);

/** The command a scheduled run executes: a backup, then the retention policy. */
/** A scheduled run that finds a manual backup running waits this long for it, rather than failing. */
export const SCHEDULED_LOCK_WAIT = '15m';

/** Seconds a scheduled run waits for its snapshots to be ready, unless the spec says otherwise. */
const DEFAULT_WAIT_TIMEOUT = 3600;
/** A run's deadline beyond that wait: the lock wait, the consistency step, a verification. */
const RUN_MARGIN_SECONDS = 3600;

export function scheduledCommand(spec: ScheduleSpec): string {
  const wait = `--lock-wait ${SCHEDULED_LOCK_WAIT} --wait --timeout ${spec.waitTimeoutSeconds ?? DEFAULT_WAIT_TIMEOUT}s`;
  const base = `kubectl-pgbackup create ${spec.statefulSet} -n ${spec.namespace} --type scheduled ${wait}`;
  // Verified before pruning: a backup that fails verification fails the Job and prunes nothing.
  const create = spec.verify ? `id=$(${base} -o name); kubectl-pgbackup verify "\${id#backup/}" -n ${spec.namespace}` : base;
  const r = spec.retention;
  if (!r) return `set -e; ${create}`;
  const flags = [
    r.keepLast !== undefined ? `--keep-last ${r.keepLast}` : '',
    r.keepDaily !== undefined ? `--keep-daily ${r.keepDaily}` : '',
    r.keepWeekly !== undefined ? `--keep-weekly ${r.keepWeekly}` : '',
    r.maxAgeDays !== undefined ? `--max-age ${r.maxAgeDays}` : '',
    r.timeZone ? `--time-zone ${r.timeZone}` : '',
  ].filter(Boolean);
  return `set -e; ${create}; kubectl-pgbackup prune ${spec.statefulSet} -n ${spec.namespace} ${flags.join(' ')}`;
}

export function scheduleManifests(spec: ScheduleSpec): KubernetesObject[] {
  const name = cronJobName(spec.statefulSet);
  const labels = { [Labels.managedBy]: MANAGED_BY, [Labels.statefulSet]: spec.statefulSet };
  const meta = { name, namespace: spec.namespace, labels };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta,
      // pods/exec and the Lease only for this StatefulSet's pods and Lease.
      rules: rbacRules([...PERMISSIONS.filter((p) => !p.clusterScoped), ...(spec.verify ? VERIFY_PERMISSIONS : [])], spec.statefulSet),
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: spec.namespace }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: CLUSTER_ROLE, labels: { [Labels.managedBy]: MANAGED_BY } },
      rules: rbacRules(PERMISSIONS.filter((p) => p.clusterScoped)),
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: clusterBindingName(spec.namespace, spec.statefulSet), labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: CLUSTER_ROLE },
      subjects: [{ kind: 'ServiceAccount', name, namespace: spec.namespace }],
    },
    {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: {
        ...meta,
        annotations: {
          ...(spec.retention ? { [Annotations.retention]: JSON.stringify(spec.retention) } : {}),
          ...(spec.verify ? { [Annotations.verify]: 'true' } : {}),
        },
      },
      spec: {
        schedule: spec.schedule.cron,
        ...(spec.schedule.timeZone ? { timeZone: spec.schedule.timeZone } : {}),
        suspend: spec.suspend ?? false,
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          metadata: { labels },
          spec: {
            backoffLimit: 0,
            // With concurrencyPolicy Forbid a hung run would block every later one: it is stopped after its waits plus an hour.
            activeDeadlineSeconds: (spec.waitTimeoutSeconds ?? DEFAULT_WAIT_TIMEOUT) + RUN_MARGIN_SECONDS,
            template: {
              metadata: { labels },
              spec: {
                serviceAccountName: name,
                automountServiceAccountToken: true,
                enableServiceLinks: false,
                restartPolicy: 'Never',
                // Pod Security "restricted": the image's non-root user, no privilege, the runtime's seccomp profile.
                securityContext: { runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
                containers: [
                  {
                    name: 'pgbackup',
                    image: spec.image,
                    command: ['sh', '-c', scheduledCommand(spec)],
                    env: [
                      { name: 'HOME', value: '/tmp' },
                      // The failure webhook, when its Secret exists (optional: no Secret, no webhook).
                      {
                        name: WEBHOOK_URL_ENV,
                        valueFrom: { secretKeyRef: { name: webhookSecretName(name), key: WEBHOOK_SECRET_KEY, optional: true } },
                      },
                    ],
                    resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } },
                    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
                  },
                ],
                volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
              },
            },
          },
        },
      },
    },
  ];
}

/** Writes the schedule with server-side apply, so `schedule set` is idempotent and updates in place. */
export class KubernetesScheduleWriter implements ScheduleWriter {
  private readonly api: KubernetesObjectApi;

  constructor(kc: KubeConfig) {
    this.api = KubernetesObjectApi.makeApiClient(kc);
  }

  manifests(spec: ScheduleSpec): KubernetesObject[] {
    return scheduleManifests(spec);
  }

  async apply(spec: ScheduleSpec) {
    const results: { object: KubernetesObject; action: 'created' | 'configured' }[] = [];
    for (const object of scheduleManifests(spec)) {
      const what = `${object.kind} ${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name}`;
      const exists = await call(`reading ${what}`, () => this.api.read(object as never)).then(
        () => true,
        (e) => {
          if (isPgBackupError(e, 'NotFound')) return false;
          throw e;
        },
      );
      await call(`applying ${what}`, () =>
        this.api.patch(object as never, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply),
      );
      results.push({ object, action: exists ? 'configured' : 'created' });
    }
    return results;
  }

  async remove(namespace: string, statefulSet: string, options: { dryRun?: boolean } = {}): Promise<string[]> {
    const objects = scheduleManifests({ namespace, statefulSet, schedule: { cron: '@daily' }, image: 'unused' }).filter(
      (o) => o.kind !== 'ClusterRole',
    );
    const removed: string[] = [];
    for (const object of objects.reverse()) {
      const what = `${object.kind.toLowerCase()}/${object.metadata.name}`;
      const deleted = await call(`deleting ${what}`, () =>
        this.api.delete(object as never, undefined, options.dryRun ? 'All' : undefined),
      ).then(
        () => true,
        (e) => {
          if (isPgBackupError(e, 'NotFound')) return false;
          throw e;
        },
      );
      if (deleted) removed.push(what);
    }
    return removed;
  }
}
