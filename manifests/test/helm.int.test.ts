// Static checks of the Helm chart: lint, template with the defaults and with every toggle, values.schema.json.
import { describe, expect, it } from '@jest/globals';
import { assertSchedule } from '../../packages/core/src/domain/schedule.js';
import { expectApi, expectHardenedPods, expectNetworkPoliciesAndPdbs, expectPostgresql } from './checks.js';
import { CHART, all, find, helm, helmTemplate, helmTogglesOn } from './helpers.js';

const ALL_ON = [...helmTogglesOn('ebs.csi.aws.com'), '--set', 'api.tls.existingSecret=pgbackup-api-tls'];

describe('helm chart', () => {
  it('lints clean (--strict), with the defaults and with every toggle on', async () => {
    for (const args of [[], ALL_ON]) {
      const r = await helm(['lint', CHART, '--strict', ...args]);
      expect({ args, code: r.code, out: r.stdout.match(/\[(WARNING|ERROR)\].*/g) }).toEqual({ args, code: 0, out: null });
    }
  });

  it('renders the seed values: postgresql.enabled/replicas/storage.size, backup.enabled/schedule/retentionDays, snapshot.enabled', async () => {
    const objects = await helmTemplate([
      '--set',
      'postgresql.replicas=2',
      '--set',
      'postgresql.storage.size=20Gi',
      '--set',
      'backup.schedule=30 3 * * 1-5',
      '--set',
      'backup.retentionDays=14',
      '--set',
      'snapshot.enabled=true',
      '--set',
      'snapshot.driver=pd.csi.storage.gke.io',
      '--set',
      'postgresql.storage.storageClass=fast',
    ]);
    const sts = expectPostgresql(objects, { size: '20Gi', storageClass: 'fast' });
    expect(sts.spec.replicas).toBe(2);
    const cj = find(objects, 'CronJob');
    expect(cj.spec).toMatchObject({
      schedule: '30 3 * * 1-5',
      concurrencyPolicy: 'Forbid',
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
    });
    expect(cj.spec.jobTemplate.spec.template.spec.containers[0].command[2]).toMatch(/--max-age 14$/);
    expect(find(objects, 'VolumeSnapshotClass')).toMatchObject({ driver: 'pd.csi.storage.gke.io', deletionPolicy: 'Delete' });
    expectHardenedPods(objects);
    expectApi(objects);

    const off = await helmTemplate(['--set', 'postgresql.enabled=false', '--set', 'backup.enabled=false', '--set', 'api.enabled=false']);
    expect(off.map((o) => o.kind)).toEqual([]);
    const noApi = await helmTemplate(['--set', 'api.enabled=false']);
    expect(all(noApi, 'Deployment')).toEqual([]);
    expect(all(await helmTemplate(), 'VolumeSnapshotClass')).toEqual([]);
  });

  it('with every toggle on: PodDisruptionBudgets and NetworkPolicies for every pod', async () => {
    const objects = await helmTemplate(ALL_ON);
    expectNetworkPoliciesAndPdbs(objects);
    expectHardenedPods(objects);
    const api = find(objects, 'Deployment').spec.template.spec;
    expect(api.containers[0].env).toContainEqual({ name: 'PGBACKUP_TLS_CERT_FILE', value: '/etc/pgbackup/tls/tls.crt' });
    expect(api.containers[0].readinessProbe.httpGet.scheme).toBe('HTTPS');
    expect(api.volumes).toContainEqual({ name: 'tls', secret: { secretName: 'pgbackup-api-tls' } });
  });

  it.each([
    ['a 6-field cron (seconds)', ['--set', 'backup.schedule=0 0 2 * * *'], /backup\/schedule/],
    ['a cron of words', ['--set', 'backup.schedule=every day'], /backup\/schedule/],
    ['an empty cron', ['--set', 'backup.schedule='], /backup\/schedule/],
    ['an unknown macro', ['--set', 'backup.schedule=@sometimes'], /backup\/schedule/],
    ['negative retention', ['--set', 'backup.retentionDays=-1'], /backup\/retentionDays/],
    ['negative keepLast', ['--set', 'backup.keepLast=-2'], /backup\/keepLast/],
    ['a retention that keeps nothing', ['--set', 'backup.retentionDays=0'], /keeps nothing by rule/],
    ['negative replicas', ['--set', 'postgresql.replicas=-1'], /postgresql\/replicas/],
    ['a storage size that is no quantity', ['--set', 'postgresql.storage.size=ten gigs'], /storage\/size/],
    ['a string for a boolean', ['--set-string', 'backup.enabled=yes'], /backup\/enabled/],
    ['a misspelt key', ['--set', 'backup.retentionDay=7'], /retentionDay/],
    ['snapshot.enabled without a driver', ['--set', 'snapshot.enabled=true'], /driver/],
    ['a bad pull policy', ['--set', 'backup.image.pullPolicy=Sometimes'], /pullPolicy/],
  ])('rejects %s', async (_what, args, message) => {
    const r = await helm(['template', 'demo', CHART, ...(args as string[])]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message as RegExp);
  });

  it('accepts every schedule the CLI accepts (5 fields, ranges, steps, names, macros)', async () => {
    for (const cron of [
      '0 2 * * *',
      '*/15 * * * *',
      '0 0-23/2 * * 1-5',
      '0 3 1,15 * *',
      '0 4 * * sun',
      '0 4 * JAN,JUL MON',
      '@daily',
      '@hourly',
      '@weekly',
      '@monthly',
      '@yearly',
      '@midnight',
    ]) {
      expect(() => assertSchedule({ cron })).not.toThrow();
      const r = await helm(['template', 'demo', CHART, '--set-string', `backup.schedule=${cron.replace(/,/g, '\\,')}`]);
      expect({ cron, code: r.code, err: r.stderr }).toEqual({ cron, code: 0, err: '' });
    }
  });
});
