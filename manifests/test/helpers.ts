// Helpers of the manifests tests: run kubectl/helm from .tools/bin, render Kustomize and Helm, parse YAML.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MANIFESTS = path.join(ROOT, 'manifests');
export const KUSTOMIZE = path.join(MANIFESTS, 'kustomize');
export const CHART = path.join(MANIFESTS, 'helm/pgbackup');
export const KUBECTL = path.join(ROOT, '.tools/bin/kubectl');
export const HELM = path.join(ROOT, '.tools/bin/helm');
export const KUBECONFIG = path.join(ROOT, '.cluster/kubeconfig');
export const CLI = path.join(ROOT, 'packages/kubectl-pgbackup/bin/kubectl-pgbackup');
export const OVERLAYS = ['local', 'development', 'production'] as const;

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program; never throws on a non-zero exit. */
export function run(
  file: string,
  args: string[],
  opts: { timeoutMs?: number; env?: Record<string, string>; cwd?: string; input?: string } = {},
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 64 << 20,
        cwd: opts.cwd ?? ROOT,
        env: { ...process.env, KUBECONFIG, NODE_OPTIONS: '', ...opts.env },
      },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number')
          return reject(new Error(`${path.basename(file)} ${args.join(' ')}: ${err.message}\n${stderr}`));
        resolve({ code: err ? (err.code as number) : 0, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Like run, but throws with the output when the exit code is not 0. */
export async function ok(file: string, args: string[], opts: Parameters<typeof run>[2] = {}): Promise<string> {
  const r = await run(file, args, opts);
  if (r.code !== 0) throw new Error(`${path.basename(file)} ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

export const kubectl = (args: string[], opts?: Parameters<typeof run>[2]) => run(KUBECTL, args, opts);
export const k = (args: string[], opts?: Parameters<typeof run>[2]) => ok(KUBECTL, args, opts);
export const helm = (args: string[], opts?: Parameters<typeof run>[2]) => run(HELM, args, opts);

export type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [k: string]: any;
};

export function parseYaml(text: string): Obj[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(`invalid YAML: ${d.errors.map((e) => e.message).join('; ')}`);
      return d.toJS() as Obj;
    })
    .filter((o): o is Obj => o !== null && typeof o === 'object');
}

export async function kustomizeBuild(dir: string): Promise<Obj[]> {
  return parseYaml(await ok(KUBECTL, ['kustomize', dir]));
}

export async function helmTemplate(args: string[] = [], namespace = 'pgbackup-test', release = 'demo'): Promise<Obj[]> {
  return parseYaml(await ok(HELM, ['template', release, CHART, '-n', namespace, ...args]));
}

export const find = (objects: Obj[], kind: string, name?: string): Obj => {
  const o = objects.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o) throw new Error(`no ${kind}${name ? ` ${name}` : ''} among ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
};
export const all = (objects: Obj[], kind: string): Obj[] => objects.filter((x) => x.kind === kind);

/** Pod templates of every workload (StatefulSet, Deployment, CronJob). */
export function podSpecs(objects: Obj[]): { owner: string; spec: Obj['spec'] }[] {
  return objects.flatMap((o) => {
    if (o.kind === 'StatefulSet' || o.kind === 'Deployment') return [{ owner: `${o.kind}/${o.metadata.name}`, spec: o.spec.template.spec }];
    if (o.kind === 'CronJob') return [{ owner: `${o.kind}/${o.metadata.name}`, spec: o.spec.jobTemplate.spec.template.spec }];
    return [];
  });
}

/**
 * A kustomization in manifests/.work/<namespace> on top of an overlay: puts it in `namespace` and renames the
 * cluster-scoped bindings after it, so tests can install an overlay into a namespace of their own.
 */
export function wrapOverlay(overlay: string, namespace: string, extra = ''): string {
  const dir = path.join(MANIFESTS, '.work', namespace);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const base = { local: 'pgbackup-local', development: 'pgbackup-dev', production: 'pgbackup' }[overlay] ?? overlay;
  const rename = (from: string, to: string) =>
    `  - target: {kind: ClusterRoleBinding, name: ${from}}\n    patch: '[{"op":"replace","path":"/metadata/name","value":"${to}"}]'\n`;
  writeFileSync(
    path.join(dir, 'kustomization.yaml'),
    `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: ${namespace}
resources:
  - ../../kustomize/overlays/${overlay}
patches:
${rename(`pgbackup-${base}-postgresql`, `pgbackup-${namespace}-postgresql`)}${rename(`pgbackup-${base}-api`, `pgbackup-${namespace}-api`)}${extra}`,
  );
  return dir;
}

export const clusterToolsBuilt = () => existsSync(KUBECTL) && existsSync(HELM);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function eventually<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  dump?: () => Promise<string>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      lastErr = e;
    }
    await sleep(500);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `; last error: ${String(lastErr)}` : ''}${dump ? `\n${await dump().catch(String)}` : ''}`,
  );
}
