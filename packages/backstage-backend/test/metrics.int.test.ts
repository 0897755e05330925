/**
 * /metrics of the standalone server on the local cluster: a real backup and a real CronJob show up
 * in the metrics, a scrape sends no request to the API server, and when the API server cannot be
 * reached (a real TCP proxy in front of it is cut) the scrape still answers from the cache with
 * its staleness.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BackupResourceSchema, scheduleManifests } from '@pgbackup/core';
import { MIN, apply, eventually, k, kubectl, requireClusterUp, sleep } from '../../../tools/cluster/test/kube.js';
import { IMAGES_TIMEOUT, postgresImage, postgresStatefulSet } from '../../../tools/cluster/test/postgres.js';
import type { Standalone } from '../src/standalone.js';
import { startLocalApi } from './localApi.js';

const NS = `metrics-${Date.now().toString(36)}`;
const TOKEN = 'int-test-token';
/** The standalone server names its cluster after the kubeconfig's context. */
let CLUSTER = '';
let LABELS = '';

/** A TCP proxy to the API server that can be cut: the outage the cache must survive, without touching the shared cluster. */
class CuttableProxy {
  private readonly sockets = new Set<Socket>();
  private server?: Server;
  port = 0;

  constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {}

  async start(port = 0): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.targetPort, this.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Refuses new connections and resets the open ones. */
  async cut(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server?.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }
}

let api: Standalone;
let proxy: CuttableProxy;

const scrape = async () => {
  const res = await fetch(`${api.url}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
};
const value = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

// The stand-in PostgreSQL by digest, built (cached) before any test: a cold build takes many minutes.
beforeAll(postgresImage, IMAGES_TIMEOUT);

describe('GET /metrics on the local cluster', () => {
  beforeAll(async () => {
    await requireClusterUp();
    await k(['create', 'namespace', NS]);
    await apply(NS, await postgresStatefulSet('pg'));
    // A yearly schedule that will not run during the test: the StatefulSet is late until a backup completes.
    const cronJob = (
      scheduleManifests({ namespace: NS, statefulSet: 'pg', schedule: { cron: '0 0 1 1 *' }, image: 'kubectl-pgbackup:test' }) as {
        kind: string;
      }[]
    ).find((o) => o.kind === 'CronJob');
    await apply(NS, JSON.stringify(cronJob));

    // The server reaches the API server through the proxy only.
    const config = JSON.parse(await k(['config', 'view', '--raw', '--minify', '-o', 'json'])) as {
      clusters: { cluster: { server: string } }[];
      'current-context': string;
    };
    CLUSTER = config['current-context'];
    LABELS = `cluster="${CLUSTER}",namespace="${NS}",statefulset="pg"`;
    const server = new URL(config.clusters[0]!.cluster.server);
    proxy = new CuttableProxy(server.hostname, Number(server.port || 443));
    await proxy.start();
    config.clusters[0]!.cluster.server = `https://${server.hostname === 'localhost' ? 'localhost' : '127.0.0.1'}:${proxy.port}`;
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'pgbackup-metrics-')), 'kubeconfig');
    writeFileSync(file, JSON.stringify(config));

    api = await startLocalApi({
      KUBECONFIG: file,
      PGBACKUP_AUTH: 'static-token',
      PGBACKUP_API_TOKEN: TOKEN,
      PGBACKUP_WATCH_NAMESPACES: NS,
    });
  }, 5 * MIN);

  afterAll(async () => {
    await api?.close();
    await proxy?.cut();
    await kubectl(['delete', 'namespace', NS, '--wait=false']).catch(() => undefined);
  }, MIN);

  it(
    'shows a scheduled StatefulSet without a backup as late',
    async () => {
      const text = await eventually('the CronJob in the metrics', MIN, async () => {
        const t = await scrape();
        return value(t, `pgbackup_backup_late{${LABELS}}`) !== undefined ? t : undefined;
      });
      expect(value(text, `pgbackup_backup_late{${LABELS}}`)).toBe(1);
      expect(value(text, `pgbackup_backups{${LABELS},status="completed"}`)).toBe(0);
      expect(value(text, `pgbackup_backup_expected_timestamp_seconds{${LABELS}}`)).toBe(Date.UTC(new Date().getUTCFullYear(), 0, 1) / 1000);
    },
    2 * MIN,
  );

  it(
    'shows a completed backup: its time, size, phases, and the StatefulSet no longer late',
    async () => {
      await eventually('pg to be ready', 3 * MIN, async () =>
        (await k(['get', 'sts', 'pg', '-n', NS, '-o', 'jsonpath={.status.readyReplicas}'])).trim() === '1' ? true : undefined,
      );
      const res = await fetch(`${api.url}/backup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ databaseName: 'pg', namespace: NS, backupType: 'manual' }),
      });
      expect(res.status).toBe(202);
      const { id } = BackupResourceSchema.parse(await res.json());
      const text = await eventually('the completed backup in the metrics', 3 * MIN, async () => {
        const t = await scrape();
        return value(t, `pgbackup_backups{${LABELS},status="completed"}`) === 1 ? t : undefined;
      });
      const backup = BackupResourceSchema.parse(
        await (await fetch(`${api.url}/backup/${id}?namespace=${NS}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json(),
      );
      expect(value(text, `pgbackup_last_completed_backup_timestamp_seconds{${LABELS}}`)).toBe(Date.parse(backup.cutAt!) / 1000);
      expect(value(text, `pgbackup_last_completed_backup_size_bytes{${LABELS}}`)).toBe(backup.size);
      // The storage's cut time has a clock (and precision) of its own: a cut a moment before the recorded start reads 0.
      expect(value(text, `pgbackup_last_backup_duration_seconds{${LABELS},phase="start_to_cut"}`)).toBe(
        Math.max(0, (Date.parse(backup.cutAt!) - Date.parse(backup.startedAt)) / 1000),
      );
      expect(value(text, `pgbackup_backup_late{${LABELS}}`)).toBe(0);
      expect(value(text, 'pgbackup_http_requests_total{method="POST",route="/backup",code="202"}')).toBe(1);
    },
    5 * MIN,
  );

  it(
    'sends no request to the API server while it is scraped',
    async () => {
      const requests = async () => value(await scrape(), `pgbackup_kubernetes_requests_total{cluster="${CLUSTER}"}`)!;
      // The backup the API started finishes in the background (annotations, Events, the Lease): let it settle first.
      const before = await eventually('the server to be idle', MIN, async () => {
        const a = await requests();
        await sleep(3000);
        return (await requests()) === a ? a : undefined;
      });
      expect(before).toBeGreaterThan(0); // the lists, watches and the backup went through the counter
      for (let i = 0; i < 50; i++) await scrape();
      expect(await requests()).toBe(before);
      // The counter does count: one read that the cache cannot answer goes to the API server.
      await fetch(`${api.url}/backup/snapshots/data-pg-0?namespace=kube-system`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(await requests()).toBeGreaterThan(before);
    },
    2 * MIN,
  );

  it(
    'answers from the cache when the API server cannot be reached, with the staleness',
    async () => {
      const healthy = await scrape();
      const completedAt = value(healthy, `pgbackup_last_completed_backup_timestamp_seconds{${LABELS}}`);
      expect(value(healthy, `pgbackup_cache_stale_seconds{cluster="${CLUSTER}",resource="volumesnapshots/${NS}"}`)).toBe(0);
      await proxy.cut();
      const text = await eventually('the cache to notice the outage', 2 * MIN, async () => {
        const t = await scrape();
        return (value(t, `pgbackup_cache_stale_seconds{cluster="${CLUSTER}",resource="volumesnapshots/${NS}"}`) ?? 0) > 0 ? t : undefined;
      });
      expect(value(text, `pgbackup_cache_synced{cluster="${CLUSTER}",resource="volumesnapshots/${NS}"}`)).toBe(0);
      expect(value(text, `pgbackup_last_completed_backup_timestamp_seconds{${LABELS}}`)).toBe(completedAt);
      expect(value(text, `pgbackup_backups{${LABELS},status="completed"}`)).toBe(1);
    },
    3 * MIN,
  );
});
