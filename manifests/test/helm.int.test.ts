// Static checks of the Helm chart: lint, template with the defaults and with every toggle, values.schema.json.
import { describe, expect, it } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { assertSchedule } from '../../packages/core/src/domain/schedule.js';
import { expectApi, expectHardenedPods, expectNetworkPoliciesAndPdbs, expectPostgresql } from './checks.js';
import { CHART, MANIFESTS, type Obj, ROOT, all, find, helm, helmTemplate, helmTogglesOn, podSpecs, run } from './helpers.js';

const ALL_ON = [...helmTogglesOn('ebs.csi.aws.com'), '--set', 'api.tls.existingSecret=pgbackup-api-tls'];

describe('helm chart', () => {
  it('lints clean (--strict), with the defaults and with every toggle on', async () => {
    for (const args of [[], ALL_ON]) {
      const r = await helm(['lint', CHART, '--strict', ...args]);
      expect({ args, code: r.code, out: r.stdout.match(/\[(WARNING|ERROR)\].*/g) }).toEqual({ args, code: 0, out: null });
    }
  });

  it('passes `ct lint` (chart-testing: every ci/*-values.yaml, the Chart.yaml schema, yamllint)', async () => {
    const tools = path.join(ROOT, '.tools');
    const r = await run(
      path.join(tools, 'bin/ct'),
      [
        'lint',
        '--config',
        path.join(MANIFESTS, 'helm/ct.yaml'),
        '--chart-yaml-schema',
        path.join(tools, 'ct/chart_schema.yaml'),
        '--lint-conf',
        path.join(tools, 'ct/lintconf.yaml'),
      ],
      { env: { PATH: `${path.join(tools, 'bin')}:${path.join(tools, 'ct/venv/bin')}:${process.env.PATH}` } },
    );
    expect({ code: r.code, out: r.stdout + r.stderr }).toMatchObject({
      code: 0,
      out: expect.stringMatching(/All charts linted successfully/),
    });
    const cases = readdirSync(path.join(CHART, 'ci')).filter((f) => f.endsWith('-values.yaml'));
    expect(cases.length).toBeGreaterThanOrEqual(3);
    for (const c of cases) expect(r.stdout).toContain(`Linting chart with values file "manifests/helm/pgbackup/ci/${c}"`);
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

  it("renders a platform team's values (ci/platform-values.yaml) into the workload they belong to, and nowhere else", async () => {
    const file = path.join(CHART, 'ci/platform-values.yaml');
    const values = parse(readFileSync(file, 'utf8'));
    const objects = await helmTemplate(['-f', file], 'shop');
    const workloads = {
      postgresql: find(objects, 'StatefulSet', 'orders-postgresql'),
      backup: find(objects, 'CronJob', 'pgbackup-orders-postgresql'),
      api: find(objects, 'Deployment', 'orders-pgbackup-api'),
    };
    const pods = Object.fromEntries(podSpecs(objects).map((p) => [p.owner, p.spec]));
    const templates = {
      postgresql: workloads.postgresql.spec.template,
      backup: workloads.backup.spec.jobTemplate.spec.template,
      api: workloads.api.spec.template,
    };
    for (const [workload, v] of Object.entries(values) as [keyof typeof workloads, Obj][]) {
      if (!(workload in workloads)) continue;
      const o = workloads[workload];
      const pod = pods[`${o.kind}/${o.metadata.name}`];
      const c = pod.containers[0];
      const got = {
        workload,
        nodeSelector: pod.nodeSelector,
        tolerations: pod.tolerations,
        affinity: pod.affinity,
        topologySpreadConstraints: pod.topologySpreadConstraints,
        priorityClassName: pod.priorityClassName,
        podAnnotations: templates[workload].metadata.annotations,
        podLabels: Object.fromEntries(Object.keys(v.podLabels).map((key) => [key, templates[workload].metadata.labels[key]])),
        extraEnv: c.env.slice(-v.extraEnv.length),
        extraEnvFrom: c.envFrom,
        extraVolumes: pod.volumes.slice(-v.extraVolumes.length),
        extraVolumeMounts: c.volumeMounts.slice(-v.extraVolumeMounts.length),
        image: c.image,
        pullSecrets: pod.imagePullSecrets,
      };
      expect(got).toEqual({
        workload,
        nodeSelector: v.nodeSelector,
        tolerations: v.tolerations,
        affinity: v.affinity,
        topologySpreadConstraints: v.topologySpreadConstraints,
        priorityClassName: v.priorityClassName,
        podAnnotations: v.podAnnotations,
        podLabels: v.podLabels,
        extraEnv: v.extraEnv,
        extraEnvFrom: v.extraEnvFrom,
        extraVolumes: v.extraVolumes,
        extraVolumeMounts: v.extraVolumeMounts,
        image: expect.stringMatching(new RegExp(`@${v.image.digest}$`)),
        pullSecrets: [...values.imagePullSecrets, ...(v.image.pullSecrets ?? [])].map((s: string | Obj) =>
          typeof s === 'string' ? { name: s } : s,
        ),
      });
      // The selector still selects the pods: podLabels and commonLabels never replace a selector label.
      const selector = o.kind === 'CronJob' ? undefined : o.spec.selector.matchLabels;
      if (selector) expect(templates[workload].metadata.labels).toMatchObject(selector);
      expect(templates[workload].metadata.labels.team).toBe(values.commonLabels.team);
    }
    // ServiceAccount annotations (IRSA, GKE and Azure workload identity) on the account each workload runs as.
    const accounts = Object.fromEntries(all(objects, 'ServiceAccount').map((a) => [a.metadata.name, a.metadata.annotations]));
    expect(accounts).toEqual({
      [pods['StatefulSet/orders-postgresql'].serviceAccountName]: values.postgresql.serviceAccount.annotations,
      [pods['CronJob/pgbackup-orders-postgresql'].serviceAccountName]: values.backup.serviceAccount.annotations,
      [pods['Deployment/orders-pgbackup-api'].serviceAccountName]: values.api.serviceAccount.annotations,
    });
    expect(pods['StatefulSet/orders-postgresql'].automountServiceAccountToken).toBe(false);
    expectHardenedPods(objects);
    expectApi(objects);
    expectPostgresql(objects);
  });

  it('labels every object the standard way (managed-by Helm, helm.sh/chart, instance, commonLabels), the backup by the contract', async () => {
    const objects = await helmTemplate(['--set', 'commonLabels.team=payments', ...ALL_ON], 'shop', 'orders');
    const chart = parse(readFileSync(path.join(CHART, 'Chart.yaml'), 'utf8'));
    for (const o of objects) {
      const labels = o.metadata.labels ?? {};
      const backup = labels['pgbackup.io/statefulset'] !== undefined;
      expect({ object: `${o.kind}/${o.metadata.name}`, labels }).toMatchObject({
        object: `${o.kind}/${o.metadata.name}`,
        labels: {
          // kubectl pgbackup finds its schedule (CronJob, ServiceAccount, Role) by managed-by=kubectl-pgbackup.
          'app.kubernetes.io/managed-by': backup ? 'kubectl-pgbackup' : 'Helm',
          'helm.sh/chart': `${chart.name}-${chart.version}`,
          'app.kubernetes.io/instance': 'orders',
          'app.kubernetes.io/version': chart.appVersion,
          team: 'payments',
        },
      });
    }
    expect(chart.kubeVersion).toMatch(/^>=\s*1\.\d+/);
    const r = await helm(['template', 'x', CHART, '--kube-version', '1.26.0']);
    expect({ code: r.code, err: r.stderr }).toMatchObject({ code: 1, err: expect.stringMatching(/kubeVersion/) });
  });

  it('lists the default images for Artifact Hub: the images a default install runs', async () => {
    const chart = parse(readFileSync(path.join(CHART, 'Chart.yaml'), 'utf8'));
    const listed = (parse(chart.annotations['artifacthub.io/images']) as { image: string }[]).map((i) => i.image).sort();
    const running = [
      ...new Set(podSpecs(await helmTemplate()).flatMap((p) => p.spec.containers.map((c: Obj) => c.image as string))),
    ].sort();
    expect(listed).toEqual(running);
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
    ['a digest that is no sha256 digest', ['--set', 'api.image.digest=latest'], /api\/image\/digest/],
    ['an env entry without a name', ['--set', 'backup.extraEnv[0].value=x'], /extraEnv/],
    ['a volume mount without a path', ['--set', 'api.extraVolumeMounts[0].name=x'], /mountPath/],
    ['tolerations that are no list', ['--set', 'postgresql.tolerations=all'], /tolerations/],
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
