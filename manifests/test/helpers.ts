// Helpers of the manifests tests: run kubectl/helm from .tools/bin, render Kustomize and Helm, parse YAML.
// Running programs and polling come from the integration tests' support module, tools/cluster/test/kube.ts.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  KUBECTL,
  ROOT,
  type Result,
  type RunOptions,
  ok as clusterOk,
  run as clusterRun,
  eventually,
  sleep,
} from '../../tools/cluster/test/kube.js';

export const MANIFESTS = path.join(ROOT, 'manifests');
export const KUSTOMIZE = path.join(MANIFESTS, 'kustomize');
export const CHART = path.join(MANIFESTS, 'helm/pgbackup');
export const HELM = path.join(ROOT, '.tools/bin/helm');
export const CLI = path.join(ROOT, 'packages/kubectl-pgbackup/bin/kubectl-pgbackup');
export const OVERLAYS = ['local', 'development', 'production'] as const;

export { KUBECTL, ROOT, type Result, eventually, sleep };

/** The manifests tests' defaults: 120 s, in the repository root, without jest's NODE_OPTIONS. */
const withDefaults = (opts: RunOptions = {}): RunOptions => ({
  timeoutMs: 120_000,
  cwd: ROOT,
  ...opts,
  env: { NODE_OPTIONS: '', ...opts.env },
});

/** Runs a program; never throws on a non-zero exit. */
export const run = (file: string, args: string[], opts?: RunOptions): Promise<Result> => clusterRun(file, args, withDefaults(opts));

/** Like run, but throws with the output when the exit code is not 0. */
export const ok = (file: string, args: string[], opts?: RunOptions): Promise<string> => clusterOk(file, args, withDefaults(opts));

export const kubectl = (args: string[], opts?: RunOptions) => run(KUBECTL, args, opts);
export const k = (args: string[], opts?: RunOptions) => ok(KUBECTL, args, opts);
export const helm = (args: string[], opts?: RunOptions) => run(HELM, args, opts);

/** `--set` arguments of the chart's optional parts, all on: NetworkPolicies, both PodDisruptionBudgets, the VolumeSnapshotClass of `driver`. */
export const helmTogglesOn = (driver: string): string[] => [
  '--set',
  'networkPolicy.enabled=true',
  '--set',
  'postgresql.podDisruptionBudget.enabled=true',
  '--set',
  'api.podDisruptionBudget.enabled=true',
  '--set',
  'snapshot.enabled=true',
  '--set',
  `snapshot.driver=${driver}`,
];

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

/** Pod templates of every workload (StatefulSet, Deployment, CronJob) and bare pods (Helm's test pods). */
export function podSpecs(objects: Obj[]): { owner: string; spec: Obj['spec'] }[] {
  return objects.flatMap((o) => {
    if (o.kind === 'Pod') return [{ owner: `Pod/${o.metadata.name}`, spec: o.spec }];
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
