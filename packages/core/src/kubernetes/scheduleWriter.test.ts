import { describe, expect, it } from '@jest/globals';
import { scheduleManifests } from './scheduleWriter.js';

type CronJob = { spec: { concurrencyPolicy: string; jobTemplate: { spec: { activeDeadlineSeconds?: number; template: { spec: any } } } } };

const cronJob = (waitTimeoutSeconds?: number) =>
  scheduleManifests({ namespace: 'db', statefulSet: 'pg', schedule: { cron: '@daily' }, image: 'i', waitTimeoutSeconds }).find(
    (o) => o.kind === 'CronJob',
  ) as unknown as CronJob;

describe('the CronJob schedule set writes', () => {
  it('stops a hung run (concurrencyPolicy Forbid would let it block every later one): its waits plus an hour', () => {
    expect(cronJob().spec.concurrencyPolicy).toBe('Forbid');
    expect(cronJob().spec.jobTemplate.spec.activeDeadlineSeconds).toBe(3600 + 3600);
    expect(cronJob(600).spec.jobTemplate.spec.activeDeadlineSeconds).toBe(600 + 3600);
  });

  it('runs as Pod Security "restricted" asks, with resources', () => {
    const pod = cronJob().spec.jobTemplate.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    for (const c of pod.containers) {
      expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      expect(c.resources).toMatchObject({
        requests: { cpu: expect.any(String), memory: expect.any(String) },
        limits: { memory: expect.any(String) },
      });
    }
  });
});
