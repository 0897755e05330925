// The manifests' CronJob is the one `kubectl pgbackup schedule set` writes (packages/core/src/kubernetes/scheduleWriter.ts):
// same names, labels, policy fields and the very command scheduledCommand() builds for the same retention.
import { beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { assertRetentionPolicy } from '../../packages/core/src/domain/retention.js';
import { assertSchedule } from '../../packages/core/src/domain/schedule.js';
import { scheduleManifests } from '../../packages/core/src/kubernetes/scheduleWriter.js';
import { KUSTOMIZE, OVERLAYS, type Obj, find, helmTemplate, kustomizeBuild } from './helpers.js';

/** What scheduleWriter would write for the CronJob found in a rendering. */
function reference(cj: Obj, namespace: string): Obj {
  const container = cj.spec.jobTemplate.spec.template.spec.containers[0];
  const retention = JSON.parse(cj.metadata.annotations!['pgbackup.io/retention']!);
  const timeout = /--timeout (\d+)s/.exec(container.command[2])?.[1];
  const statefulSet = cj.metadata.labels!['pgbackup.io/statefulset']!;
  return find(
    scheduleManifests({
      namespace,
      statefulSet,
      schedule: { cron: cj.spec.schedule, ...(cj.spec.timeZone ? { timeZone: cj.spec.timeZone } : {}) },
      retention,
      image: container.image,
      waitTimeoutSeconds: Number(timeout),
      suspend: cj.spec.suspend,
      verify: cj.metadata.annotations!['pgbackup.io/verify'] === 'true',
    }) as Obj[],
    'CronJob',
  );
}

function expectSameCronJob(what: string, cj: Obj, namespace: string): void {
  const ref = reference(cj, namespace);
  const pick = (o: Obj) => {
    const job = o.spec.jobTemplate.spec;
    const pod = job.template.spec;
    return {
      what,
      name: o.metadata.name,
      labels: { managedBy: o.metadata.labels!['app.kubernetes.io/managed-by'], sts: o.metadata.labels!['pgbackup.io/statefulset'] },
      podLabels: job.template.metadata.labels['app.kubernetes.io/managed-by'],
      retention: o.metadata.annotations!['pgbackup.io/retention'],
      verify: o.metadata.annotations!['pgbackup.io/verify'],
      spec: {
        schedule: o.spec.schedule,
        timeZone: o.spec.timeZone,
        suspend: o.spec.suspend,
        concurrencyPolicy: o.spec.concurrencyPolicy,
        startingDeadlineSeconds: o.spec.startingDeadlineSeconds,
        successfulJobsHistoryLimit: o.spec.successfulJobsHistoryLimit,
        failedJobsHistoryLimit: o.spec.failedJobsHistoryLimit,
      },
      backoffLimit: job.backoffLimit,
      activeDeadlineSeconds: job.activeDeadlineSeconds,
      restartPolicy: pod.restartPolicy,
      serviceAccountName: pod.serviceAccountName,
      podSecurityContext: pod.securityContext,
      securityContext: pod.containers[0].securityContext,
      mounts: [pod.containers[0].volumeMounts, pod.volumes],
      command: pod.containers[0].command,
      webhook: pod.containers[0].env.find((e: { name: string }) => e.name === 'PGBACKUP_WEBHOOK_URL'),
    };
  };
  expect(pick(cj)).toEqual(pick(ref));
  // What the CLI would validate: the schedule and the retention policy.
  expect(() => assertSchedule({ cron: cj.spec.schedule, timeZone: cj.spec.timeZone })).not.toThrow();
  expect(() => assertRetentionPolicy(JSON.parse(cj.metadata.annotations!['pgbackup.io/retention']!))).not.toThrow();
}

let kustomize: Record<string, Obj[]>;
beforeAll(async () => {
  kustomize = { base: await kustomizeBuild(path.join(KUSTOMIZE, 'base')) };
  for (const o of OVERLAYS) kustomize[o] = await kustomizeBuild(path.join(KUSTOMIZE, 'overlays', o));
}, 60_000);

describe('the CronJob == scheduleWriter', () => {
  it.each(['base', ...OVERLAYS])('kustomize %s (namespace from the pod: $(POD_NAMESPACE))', (name) => {
    expectSameCronJob(name, find(kustomize[name]!, 'CronJob'), '$(POD_NAMESPACE)');
  });

  it.each([
    ['defaults', []],
    [
      'keep rules and a time zone',
      [
        '--set',
        'backup.keepLast=3',
        '--set',
        'backup.keepDaily=7',
        '--set',
        'backup.keepWeekly=4',
        '--set',
        'backup.retentionDays=30',
        '--set',
        'backup.timeZone=Europe/Berlin',
      ],
    ],
    [
      'hourly, keep-last only, suspended',
      [
        '--set',
        'backup.schedule=@hourly',
        '--set',
        'backup.retentionDays=0',
        '--set',
        'backup.keepLast=24',
        '--set',
        'backup.suspend=true',
        '--set',
        'backup.waitTimeoutSeconds=900',
      ],
    ],
    ['verify before pruning', ['--set', 'backup.verify=true', '--set', 'backup.keepLast=3']],
    [
      'fractional days, an existing StatefulSet',
      ['--set-json', 'backup.retentionDays=0.5', '--set', 'postgresql.enabled=false', '--set', 'backup.statefulSet=orders-db'],
    ],
  ])('helm: %s', async (what, args) => {
    const objects = await helmTemplate(args as string[], 'db-team');
    const cj = find(objects, 'CronJob');
    expectSameCronJob(what, cj, 'db-team');
    expect(cj.spec.jobTemplate.spec.template.spec.containers[0].command[2]).toContain(' -n db-team ');
  });

  it('helm: the retention annotation and the prune flags follow the values', async () => {
    const cj = find(await helmTemplate(['--set', 'backup.retentionDays=14', '--set', 'backup.keepWeekly=8']), 'CronJob');
    expect(JSON.parse(cj.metadata.annotations!['pgbackup.io/retention'])).toEqual({ keepWeekly: 8, maxAgeDays: 14 });
    expect(cj.spec.jobTemplate.spec.template.spec.containers[0].command[2]).toMatch(
      /prune demo-postgresql -n pgbackup-test --keep-weekly 8 --max-age 14$/,
    );
  });
});
