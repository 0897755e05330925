/**
 * A real Prometheus (Debian's, tools/cluster/test/prometheus.ts) scrapes the standalone API's /metrics on the local
 * cluster with a bearer token and loads the chart's alert rules as the chart renders them, with PgBackupLate's `for:`
 * set to 15 s through the chart's monitoring.prometheusRule.for (the rules file's 10 min would not fit a test). When a
 * StatefulSet's schedule is missed PgBackupLate goes pending, then fires; a completed backup clears it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BackupResourceSchema, scheduleManifests } from '@pgbackup/core';
import { all, helmTemplate } from '../../../manifests/test/helpers.js';
import { MIN, apply, eventually, k, kubectl, requireClusterUp, sleep } from '../../../tools/cluster/test/kube.js';
import { postgresStatefulSet, waitStatefulSetReady } from '../../../tools/cluster/test/postgres.js';
import { Prometheus, requirePrometheus } from '../../../tools/cluster/test/prometheus.js';
import type { Standalone } from '../src/standalone.js';
import { startLocalApi } from './localApi.js';

const NS = `prom-${Date.now().toString(36)}`;
const TOKEN = 'int-test-token';
const METRICS_TOKEN = 'int-test-metrics-token';
const FOR_SECONDS = 15;
const LATE = `pgbackup_backup_late_seconds{namespace="${NS}",statefulset="pg"}`;

interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
}

let api: Standalone;
let prometheus: Prometheus;
let cluster = '';

/** The PgBackupLate alert of the test's StatefulSet, if Prometheus has it pending or firing. */
const lateAlert = async (): Promise<Alert | undefined> =>
  (await prometheus.api<{ alerts: Alert[] }>('alerts')).alerts.find(
    (a) => a.labels.alertname === 'PgBackupLate' && a.labels.namespace === NS && a.labels.statefulset === 'pg',
  );

describe('a real Prometheus scraping the API, with the chart alert rules', () => {
  beforeAll(async () => {
    requirePrometheus();
    await requireClusterUp();
    await k(['create', 'namespace', NS]);
    // Ready by the time the last test takes a backup.
    await apply(NS, await postgresStatefulSet('pg', { simulated: true }));
    cluster = (await k(['config', 'current-context'])).trim();
    api = await startLocalApi({
      PGBACKUP_AUTH: 'static-token',
      PGBACKUP_API_TOKEN: TOKEN,
      PGBACKUP_METRICS_AUTH: 'bearer',
      PGBACKUP_METRICS_TOKEN: METRICS_TOKEN,
      PGBACKUP_WATCH_NAMESPACES: NS,
    });
    const [rule] = all(
      await helmTemplate([
        '--api-versions',
        'monitoring.coreos.com/v1/PrometheusRule',
        '--set',
        `monitoring.prometheusRule.for.PgBackupLate=${FOR_SECONDS}s`,
      ]),
      'PrometheusRule',
    );
    prometheus = await Prometheus.start({
      rules: rule!.spec,
      scrape: [{ job: 'pgbackup', target: new URL(api.url).host, bearerToken: METRICS_TOKEN }],
    });
  }, 2 * MIN);

  afterAll(async () => {
    await prometheus?.stop();
    await api?.close();
    await kubectl(['delete', 'namespace', NS, '--wait=false']).catch(() => undefined);
  }, MIN);

  it('loads the chart rules: the five alerts, PgBackupLate pending for 15 s, the others as the rules file says', async () => {
    const { groups } = await prometheus.api<{ groups: { name: string; rules: { name: string; duration: number }[] }[] }>('rules');
    expect(groups.map((g) => ({ name: g.name, rules: g.rules.map((r) => [r.name, r.duration]) }))).toEqual([
      {
        name: 'pgbackup',
        rules: [
          ['PgBackupLate', FOR_SECONDS],
          ['PgBackupFailed', 0],
          ['PgBackupVerificationFailed', 0],
          ['PgBackupVerificationOverdue', 3600],
          ['PgBackupMetricsStale', 0],
        ],
      },
    ]);
  });

  it('scrapes /metrics with the bearer token: the target is up; no series of the StatefulSet before it has a schedule', async () => {
    const [target] = await eventually('the first scrape', 30_000, async () => {
      const { activeTargets } = await prometheus.api<{
        activeTargets: { health: string; lastError: string; labels: Record<string, string> }[];
      }>('targets');
      return activeTargets.some((t) => t.health !== 'unknown') ? activeTargets : undefined;
    });
    expect(target).toMatchObject({ health: 'up', lastError: '', labels: { job: 'pgbackup' } });
    expect((await prometheus.query('up{job="pgbackup"}')).map((s) => s.value[1])).toEqual(['1']);
    expect((await prometheus.query(`pgbackup_cache_synced{resource="volumesnapshots/${NS}"}`)).map((s) => s.value[1])).toEqual(['1']);
    expect(await prometheus.query(LATE)).toEqual([]);
    expect(await lateAlert()).toBeUndefined();
  });

  it(
    'a missed schedule: the StatefulSet is late in the scraped series, PgBackupLate is pending, then fires after its for:',
    async () => {
      // A yearly schedule and no backup: the run of January 1 was missed (and none comes during the test).
      const cronJob = (
        scheduleManifests({ namespace: NS, statefulSet: 'pg', schedule: { cron: '0 0 1 1 *' }, image: 'kubectl-pgbackup:test' }) as {
          kind: string;
        }[]
      ).find((o) => o.kind === 'CronJob');
      await apply(NS, JSON.stringify(cronJob));

      const [series] = await eventually('the late series of the StatefulSet', 30_000, async () => {
        const result = await prometheus.query(LATE);
        return result.length ? result : undefined;
      });
      const expected = Date.UTC(new Date().getUTCFullYear(), 0, 1);
      expect(series!.metric).toMatchObject({ cluster, namespace: NS, statefulset: 'pg', job: 'pgbackup' });
      expect(Number(series!.value[1])).toBeGreaterThan((series!.value[0] * 1000 - expected) / 1000 - 30);
      expect(Number(series!.value[1])).toBeLessThanOrEqual((series!.value[0] * 1000 - expected) / 1000 + 30);

      // Every state the alert is seen in, in order, until it fires.
      const seen: { state: Alert['state']; at: number; activeAt: string }[] = [];
      let firing: Alert | undefined;
      const deadline = Date.now() + FOR_SECONDS * 1000 + 30_000;
      while (!firing && Date.now() < deadline) {
        const alert = await lateAlert();
        if (alert && seen.at(-1)?.state !== alert.state) seen.push({ state: alert.state, at: Date.now(), activeAt: alert.activeAt });
        if (alert?.state === 'firing') firing = alert;
        else await sleep(250);
      }
      expect(seen.map((s) => s.state)).toEqual(['pending', 'firing']);
      // Firing only once it was pending for its `for:`, and it is the same alert (same activeAt).
      expect(seen[1]!.activeAt).toBe(seen[0]!.activeAt);
      expect(seen[1]!.at - Date.parse(seen[0]!.activeAt)).toBeGreaterThanOrEqual(FOR_SECONDS * 1000);
      expect(firing).toMatchObject({
        labels: { alertname: 'PgBackupLate', severity: 'warning', cluster, namespace: NS, statefulset: 'pg' },
        annotations: { summary: `Backup of ${NS}/pg is late` },
      });
    },
    2 * MIN,
  );

  it(
    'a completed backup clears the alert',
    async () => {
      await waitStatefulSetReady(NS, 'pg');
      const res = await fetch(`${api.url}/backup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ databaseName: 'pg', namespace: NS, backupType: 'manual' }),
      });
      expect(res.status).toBe(202);
      BackupResourceSchema.parse(await res.json());
      await eventually('the completed backup in the scraped series', 2 * MIN, async () => {
        const [completed] = await prometheus.query(`pgbackup_backups{namespace="${NS}",statefulset="pg",status="completed"}`);
        return completed?.value[1] === '1' ? true : undefined;
      });
      await eventually('PgBackupLate to clear', 30_000, async () => ((await lateAlert()) === undefined ? true : undefined));
      expect((await prometheus.query(LATE)).map((s) => s.value[1])).toEqual(['0']);
    },
    4 * MIN,
  );
});
