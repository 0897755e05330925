// The test-support module of every integration test: drive the local cluster with the kubectl built for it
// (.tools/bin/kubectl), poll, check the cluster is up, a namespace per describe block.
// PostgreSQL StatefulSets (manifest, readiness, SQL through kubectl exec) are in ./postgres.ts.
import { afterAll, beforeAll } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const KUBECTL = path.join(ROOT, '.tools/bin/kubectl');
export const KUBECONFIG = path.join(ROOT, '.cluster/kubeconfig');
export const MIN = 60_000;

/** The real node (tools/cluster/node.sh), and what a pod spec needs to run there: select its label, tolerate its taint. */
export const REAL_NODE = 'node-real';
export const REAL_NODE_KEY = 'pgbackup.io/real-node';
export const ON_REAL_NODE = {
  nodeSelector: { [REAL_NODE_KEY]: 'true' },
  tolerations: [{ key: REAL_NODE_KEY, operator: 'Exists', effect: 'NoSchedule' }],
};

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  /** Added to process.env and KUBECONFIG. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Runs a program; never throws on a non-zero exit (the code is in the result). */
export function run(file: string, args: string[], opts: RunOptions = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 << 20, cwd: opts.cwd, env: { ...process.env, KUBECONFIG, ...opts.env } },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          reject(new Error(`${path.basename(file)} ${args.join(' ')}: ${err.message}\n${stderr}`));
          return;
        }
        resolve({ code: err ? (err.code as number) : 0, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs a program that must succeed (exit 0); returns stdout, throws with the output otherwise. */
export async function ok(file: string, args: string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(file, args, opts);
  if (r.code !== 0) throw new Error(`${path.basename(file)} ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** kubectl against the local cluster; never throws on a non-zero exit. */
export function kubectl(args: string[], opts: RunOptions = {}): Promise<Result> {
  return run(KUBECTL, ['--kubeconfig', KUBECONFIG, ...args], opts);
}

/** kubectl that must succeed; returns stdout. */
export async function k(args: string[], opts: RunOptions = {}): Promise<string> {
  const r = await kubectl(args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

export const apply = (ns: string, manifest: string) => k(['apply', '-n', ns, '-f', '-'], { input: manifest });

/** Starts kubectl in the background (e.g. a long-running exec); the caller kills it. */
export function kubectlBackground(args: string[]): ChildProcess {
  return spawn(KUBECTL, ['--kubeconfig', KUBECONFIG, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a value other than undefined, or fails with the last observation. */
export async function eventually<T>(
  what: string,
  timeoutMs: number,
  fn: () => Promise<T | undefined>,
  describeLast: () => Promise<string> = async () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      lastErr = e;
    }
    await sleep(500);
  }
  const extra = await describeLast().catch((e: unknown) => String(e));
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `; last error: ${String(lastErr)}` : ''}\n${extra}`);
}

/** Creates a namespace with a unique name for one test. */
export async function createNamespace(prefix: string): Promise<string> {
  const ns = `${prefix}-${randomBytes(3).toString('hex')}`;
  await k(['create', 'namespace', ns]);
  await eventually('default ServiceAccount in ' + ns, 30_000, async () =>
    (await kubectl(['get', 'sa', 'default', '-n', ns])).code === 0 ? true : undefined,
  );
  return ns;
}

export async function deleteNamespace(ns: string, timeoutMs = 120_000): Promise<void> {
  const r = await kubectl(['delete', 'namespace', ns, '--wait=true', `--timeout=${Math.round(timeoutMs / 1000)}s`], {
    timeoutMs: timeoutMs + 10_000,
  });
  if (r.code !== 0 && !/NotFound/.test(r.stderr)) {
    // snapshot-controller v8.6 can leave its source-protection finalizer on a PVC whose snapshots are
    // all gone; once nothing is left in the namespace to protect, drop it and wait once more.
    const pvcs = (await kubectl(['get', 'pvc', '-n', ns, '-o', 'name'])).stdout.split('\n').filter(Boolean);
    for (const pvc of pvcs) await kubectl(['patch', '-n', ns, pvc, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await releaseStuckGroupSnapshots(ns);
    const again = await kubectl(['wait', '--for=delete', `namespace/${ns}`, '--timeout=60s'], { timeoutMs: 70_000 });
    if (again.code === 0 || /NotFound/.test(again.stderr)) return;
    const left = await kubectl(['get', 'all,pvc,volumesnapshot', '-n', ns, '-o', 'wide']);
    throw new Error(`namespace ${ns} not deleted: ${r.stderr}\n${left.stdout}${left.stderr}`);
  }
}

/**
 * external-snapshotter v8.6 loses its own deletion protocol on a VolumeGroupSnapshotContent whose creation keeps failing:
 * the sidecar re-patches the whole annotation map on every retry (several a second) and overwrites the controller's
 * `volumegroupsnapshot-being-deleted` mark, so a deleted group can stay Terminating for minutes (upstream:
 * kubernetes-csi/external-snapshotter#880). Only groups that never got a handle from the storage are released here —
 * nothing exists on the storage to leak — and each one is named on stderr.
 */
async function releaseStuckGroupSnapshots(ns: string): Promise<void> {
  const listed = await kubectl(['get', 'volumegroupsnapshots', '-n', ns, '-o', 'json']);
  if (listed.code !== 0) return;
  const groups = (JSON.parse(listed.stdout) as { items: GroupSnapshotView[] }).items;
  for (const group of groups) {
    const contentName = group.status?.boundVolumeGroupSnapshotContentName;
    if (!group.metadata.deletionTimestamp || !contentName) continue;
    const content = await kubectl(['get', 'volumegroupsnapshotcontent', contentName, '-o', 'json']);
    if (content.code === 0 && (JSON.parse(content.stdout) as GroupSnapshotContentView).status?.volumeGroupSnapshotHandle) continue;
    process.stderr.write(
      `cleanup: VolumeGroupSnapshot ${ns}/${group.metadata.name} stuck Terminating with no storage handle; releasing its finalizers\n`,
    );
    const clear = ['--type=merge', '-p', '{"metadata":{"finalizers":null}}'];
    if (content.code === 0) await kubectl(['patch', 'volumegroupsnapshotcontent', contentName, ...clear]);
    await kubectl(['patch', 'volumegroupsnapshot', group.metadata.name, '-n', ns, ...clear]);
  }
}
interface GroupSnapshotView {
  metadata: { name: string; deletionTimestamp?: string };
  status?: { boundVolumeGroupSnapshotContentName?: string };
}
interface GroupSnapshotContentView {
  status?: { volumeGroupSnapshotHandle?: string };
}

export const clusterBinariesBuilt = () => existsSync(KUBECTL);

export async function jsonpath(ns: string, resource: string, expr: string): Promise<string> {
  const r = await kubectl(['get', '-n', ns, resource, '-o', `jsonpath=${expr}`]);
  return r.code === 0 ? r.stdout : '';
}

/** A short dump for failure messages. */
export async function describe(ns: string, what: string): Promise<string> {
  const r = await kubectl(['describe', '-n', ns, what]);
  return r.stdout + r.stderr;
}

let status: Promise<Result> | undefined;
/** `bash tools/cluster/status.sh`, run once per test file. */
export function clusterStatus(): Promise<Result> {
  status ??= run('bash', [path.join(ROOT, 'tools/cluster/status.sh')], { timeoutMs: 30_000 });
  return status;
}

/**
 * Fails fast (instead of after minutes of polling) when the local cluster, or a part of it such as the CSI
 * chain, is not up. The check runs once per test file: every later call fails at once with the same message.
 */
export async function requireClusterUp(): Promise<void> {
  if (!existsSync(KUBECONFIG)) throw new Error(`no ${KUBECONFIG}: start the local cluster with \`npm run cluster:up\``);
  const s = await clusterStatus();
  if (s.code !== 0) throw new Error(`the local cluster is not up: run \`npm run cluster:up\`\n${s.stdout}${s.stderr}`);
}

/** Starts the local cluster when it is down (fast when built: a warm start is well under a minute). */
export async function ensureClusterUp(): Promise<void> {
  if (!clusterBinariesBuilt()) throw new Error('cluster binaries are not built: run `npm run cluster:build`');
  if ((await clusterStatus()).code === 0) return;
  const up = await run('bash', [path.join(ROOT, 'tools/cluster/up.sh')], { timeoutMs: 4 * MIN, input: '' });
  if (up.code !== 0) throw new Error(`cluster is down and up.sh failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
  status = Promise.resolve(up);
}

/**
 * A namespace of its own for the enclosing describe block: created (`<prefix>-<random>`) in beforeAll,
 * deleted in afterAll. Returns its name (empty until beforeAll ran).
 */
export function namespaceFor(prefix: string, deleteTimeoutMs = 2 * MIN): () => string {
  let ns = '';
  beforeAll(async () => {
    ns = await createNamespace(prefix);
  }, MIN);
  afterAll(async () => {
    if (ns) await deleteNamespace(ns, deleteTimeoutMs);
  }, deleteTimeoutMs + MIN);
  return () => ns;
}

/** A kubeconfig file (in a fresh temporary folder) that acts as ServiceAccount `sa` of `ns`, with a token from `kubectl create token`. */
export async function serviceAccountKubeconfig(ns: string, sa: string, opts: { duration?: string } = {}): Promise<string> {
  const token = (await k(['create', 'token', sa, '-n', ns, ...(opts.duration ? ['--duration', opts.duration] : [])])).trim();
  const view = JSON.parse(await k(['config', 'view', '--raw', '--minify', '-o', 'json'])) as {
    clusters: { cluster: Record<string, string> }[];
  };
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'pgbackup-')), 'kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'local', cluster: view.clusters[0]!.cluster }],
      users: [{ name: sa, user: { token } }],
      contexts: [{ name: sa, context: { cluster: 'local', user: sa, namespace: ns } }],
      'current-context': sa,
    }),
  );
  return file;
}
