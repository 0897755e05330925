// Small helpers to drive the local cluster with the kubectl built for it (.tools/bin/kubectl).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const KUBECTL = path.join(ROOT, '.tools/bin/kubectl');
export const KUBECONFIG = path.join(ROOT, '.cluster/kubeconfig');

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** Runs a program; never throws on a non-zero exit (the code is in the result). */
export function run(file: string, args: string[], opts: RunOptions = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 << 20, env: { ...process.env, KUBECONFIG, ...opts.env } },
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
    const left = await kubectl(['get', 'all,pvc,volumesnapshot', '-n', ns, '-o', 'wide']);
    throw new Error(`namespace ${ns} not deleted: ${r.stderr}\n${left.stdout}${left.stderr}`);
  }
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
