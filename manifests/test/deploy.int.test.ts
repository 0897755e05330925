// Deploy as a user does (issue 22), on the real node: `helm install` of the chart with the images `npm run images`
// built (by digest), and the chart's own placement values putting the API Deployment and the backup CronJob's pods on
// node-real (nodeSelector + tolerations, as for a dedicated node pool); PostgreSQL stays on kwok's node. The API pod's
// own HTTP probes (kubelet → pod IP) make it Ready; a Job from the CronJob runs the shipped CLI image with its
// ServiceAccount's projected token, execs into PostgreSQL through the API server and leaves a completed backup. The
// chart's `helm test` API pod (the API's image and placement) reaches the API by its Service's name.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtImages } from '../../tools/cluster/test/images.js';
import { MIN, describe as describeObj, ensureClusterUp } from '../../tools/cluster/test/kube.js';
import { waitStatefulSetReady } from '../../tools/cluster/test/postgres.js';
import { CHART, CLI, HELM, eventually, helm, k, kubectl, ok } from './helpers.js';

const REAL_NODE = 'node-real';
const KEY = 'pgbackup.io/real-node';
const ns = `mf-deploy-${randomBytes(3).toString('hex')}`;
const release = 'pg';

interface Pod {
  metadata: { name: string };
  spec: { nodeName?: string; containers: { readinessProbe?: { httpGet?: unknown }; livenessProbe?: { httpGet?: unknown } }[] };
  status: {
    phase: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { imageID: string; restartCount: number; state: { terminated?: { exitCode: number } } }[];
  };
}
const podsOf = async (selector: string): Promise<Pod[]> =>
  (JSON.parse(await k(['get', 'pods', '-n', ns, '-l', selector, '-o', 'json'])) as { items: Pod[] }).items;

/** `<registry>/pgbackup/<name>@sha256:…` → the chart's image values (repository + digest). */
const imageValues = (ref: string) => {
  const [repository, digest] = ref.split('@');
  return { repository, digest };
};

describe('helm install on the real node, with the built images by digest', () => {
  let images: Record<string, string>;
  let dir: string;

  beforeAll(async () => {
    await ensureClusterUp();
    images = await builtImages();
    // What a user with a dedicated node pool writes: the chart's nodeSelector and tolerations per workload.
    const placement = {
      nodeSelector: { [KEY]: 'true' },
      tolerations: [{ key: KEY, operator: 'Equal', value: 'true', effect: 'NoSchedule' }],
    };
    const values = {
      postgresql: {
        storage: { storageClass: 'pgbackup-local', size: '1Gi' },
        parameters: { max_wal_size: '64MB', shared_buffers: '32MB' },
      },
      backup: { image: imageValues(images['kubectl-pgbackup']!), waitTimeoutSeconds: 600, ...placement },
      api: { image: imageValues(images['pgbackup-api']!), ...placement },
    };
    dir = mkdtempSync(path.join(os.tmpdir(), 'pgbackup-deploy-'));
    writeFileSync(path.join(dir, 'values.yaml'), JSON.stringify(values));
    await ok(
      HELM,
      ['install', release, CHART, '-n', ns, '--create-namespace', '--wait', '--timeout', '5m', '-f', path.join(dir, 'values.yaml')],
      { timeoutMs: 6 * MIN },
    );
    await waitStatefulSetReady(ns, 'pg-postgresql');
  }, 52 * MIN);

  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await helm(['uninstall', release, '-n', ns, '--wait', '--timeout', '2m'], { timeoutMs: 3 * MIN });
    await kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s'], { timeoutMs: 150_000 });
  }, 5 * MIN);

  it('the API pod runs its image on node-real and is Ready through its own HTTP probes', async () => {
    const [api, ...more] = await podsOf('app.kubernetes.io/name=pgbackup-api');
    expect(more).toEqual([]);
    expect({
      node: api!.spec.nodeName,
      ready: api!.status.conditions?.find((c) => c.type === 'Ready')?.status,
      image: api!.status.containerStatuses?.[0]?.imageID,
      restarts: api!.status.containerStatuses?.[0]?.restartCount,
      probes: [api!.spec.containers[0]!.livenessProbe?.httpGet, api!.spec.containers[0]!.readinessProbe?.httpGet],
    }).toEqual({
      node: REAL_NODE,
      ready: 'True',
      image: expect.stringContaining(images['pgbackup-api']!.replace(/^.*@/, '@')),
      restarts: 0,
      probes: [
        { path: '/health/live', port: 'http', scheme: 'HTTP' },
        { path: '/health/ready', port: 'http', scheme: 'HTTP' },
      ],
    });
    // What the kubelet asked is what the pod answers on its own address (the node's bridge reaches the pod network).
    const ready = await fetch(`http://${api!.status.podIP}:3000/health/ready`);
    expect(ready.status).toBe(200);
  });

  it(
    "helm test: the chart's API test pod on node-real reaches the API through its Service (cluster DNS + kube-proxy)",
    async () => {
      // The pod exits 0 only on a 2xx from http://pg-pgbackup-api.<ns>.svc:80/health/ready, and a passed pod is deleted
      // (hook-delete-policy hook-succeeded), so helm's phase is the evidence.
      const r = await helm(['test', release, '-n', ns, '--filter', 'name=pg-test-api', '--timeout', '3m'], { timeoutMs: 4 * MIN });
      expect({ code: r.code, err: r.stderr }).toEqual({ code: 0, err: '' });
      expect(r.stdout).toMatch(/TEST SUITE:\s+pg-test-api[\s\S]*Phase:\s+Succeeded/);
    },
    5 * MIN,
  );

  it(
    'a Job from the CronJob runs the CLI image on node-real as its ServiceAccount and leaves a completed backup',
    async () => {
      await k(['create', 'job', '--from=cronjob/pgbackup-pg-postgresql', 'backup-1', '-n', ns]);
      const pod = await eventually(
        'the Job backup-1 to end',
        4 * MIN,
        async () => {
          const [p] = await podsOf('job-name=backup-1');
          return p && ['Succeeded', 'Failed'].includes(p.status.phase) ? p : undefined;
        },
        () => describeObj(ns, 'job/backup-1'),
      );
      const log = await k(['logs', `job/backup-1`, '-n', ns]);
      expect({
        node: pod.spec.nodeName,
        phase: pod.status.phase,
        exit: pod.status.containerStatuses?.[0]?.state.terminated?.exitCode,
        image: pod.status.containerStatuses?.[0]?.imageID,
        log,
      }).toEqual({
        node: REAL_NODE,
        phase: 'Succeeded',
        exit: 0,
        image: expect.stringContaining(images['kubectl-pgbackup']!.replace(/^.*@/, '@')),
        log: expect.stringMatching(/backup\/pg-postgresql-\S+ completed/),
      });
      const backups = JSON.parse(await ok(CLI, ['list', '-n', ns, '-o', 'json'])) as { items: Record<string, unknown>[] };
      expect(backups.items).toEqual([expect.objectContaining({ status: 'completed', type: 'scheduled', statefulSet: 'pg-postgresql' })]);
      const ready = await k(['get', 'volumesnapshots', '-n', ns, '-o', 'jsonpath={.items[*].status.readyToUse}']);
      expect(ready).toBe('true');
    },
    5 * MIN,
  );
});
