// The root README's "Install on a real cluster", block by block, on the local cluster: the blocks are read from
// README.md (so they cannot drift) and run with bash as a user would, with this test's values for the names the first
// block exports (NS, STORAGE_CLASS, REGISTRY, VERSION). The Helm and the Kustomize blocks are alternatives: each gets a
// namespace of its own. A block that cannot run here says so in its first line, and this test checks which ones do.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { EntityAnnotations } from '../../packages/core/src/contract.js';
import { MIN, ensureClusterUp } from '../../tools/cluster/test/kube.js';
import { CHART, MANIFESTS, ROOT, clusterToolsBuilt, k, kubectl, run } from './helpers.js';

interface Block {
  /** The bold lead-in of the paragraph above the block (`The images`, `With Helm`, ...). */
  label: string;
  lang: string;
  code: string;
}

/** The fenced blocks of the README's section `title`, each with the last bold label before it. */
function sectionBlocks(markdown: string, title: string): Block[] {
  const start = markdown.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README.md has no section "## ${title}"`);
  const end = markdown.indexOf('\n## ', start + 4);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  const blocks: Block[] = [];
  let label = '';
  for (const m of section.matchAll(/\*\*([^*]+)\*\*|```(\w+)\n([\s\S]*?)```/g)) {
    if (m[1] !== undefined) label = m[1];
    else blocks.push({ label, lang: m[2]!, code: m[3]! });
  }
  return blocks;
}

const suffix = randomBytes(3).toString('hex');
const blocks = sectionBlocks(readFileSync(path.join(ROOT, 'README.md'), 'utf8'), 'Install on a real cluster');
const shell = blocks.filter((b) => b.lang === 'sh');
const NOT_TRIED = /^# not tried by the test: (.+)$/m;
const work = path.join(MANIFESTS, '.work', `readme-${suffix}`);
const chart = parse(readFileSync(path.join(CHART, 'Chart.yaml'), 'utf8'));
const values = {
  NS: `readme-helm-${suffix}`,
  STORAGE_CLASS: 'pgbackup-local',
  REGISTRY: 'localhost:5117/pgbackup', // pod-runner runs the images by name: …/kubectl-pgbackup, …/postgres
  VERSION: chart.appVersion as string,
};
const namespaces = [values.NS, `readme-kustomize-${suffix}`];

/** Runs a README block with bash -euo pipefail in the scratch directory, `kubectl pgbackup` on PATH. */
const runBlock = (code: string, env: Record<string, string> = {}) =>
  run('bash', ['-euo', 'pipefail', '-c', code], {
    cwd: work,
    timeoutMs: 15 * MIN,
    env: {
      ...values,
      ...env,
      PATH: [path.join(ROOT, '.tools/bin'), path.join(ROOT, 'packages/kubectl-pgbackup/bin'), process.env.PATH].join(':'),
    },
  });

const block = (label: string, lang = 'sh'): Block => {
  const found = blocks.filter((b) => b.label.startsWith(label) && b.lang === lang);
  expect(found.map((b) => b.label)).toEqual([found[0]?.label ?? label]);
  return found[0]!;
};

beforeAll(async () => {
  if (!clusterToolsBuilt()) throw new Error('cluster tools are not built: run `npm run cluster:build`');
  await ensureClusterUp();
  // The blocks run from a checkout's root: here a scratch directory whose manifests/ is this checkout's.
  mkdirSync(work, { recursive: true });
  symlinkSync(MANIFESTS, path.join(work, 'manifests'));
}, 5 * MIN);

afterAll(async () => {
  await run(path.join(ROOT, '.tools/bin/helm'), ['uninstall', 'db', '-n', values.NS, '--wait', '--timeout', '2m'], { timeoutMs: 3 * MIN });
  for (const ns of namespaces) await kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s'], { timeoutMs: 150_000 });
  const kustomized = namespaces[1]!;
  await kubectl([
    'delete',
    'clusterrolebinding',
    ...['postgresql', 'api', 'api-auth'].map((n) => `pgbackup-${kustomized}-${n}`),
    '--ignore-not-found',
  ]);
  rmSync(work, { recursive: true, force: true });
}, 5 * MIN);

describe('README: install on a real cluster', () => {
  it('the first block exports the names the others use; only the image build is not tried here (no Docker engine)', () => {
    const exported = /^export (.+)$/m
      .exec(shell[0]!.code)![1]!
      .split(/\s+/)
      .map((kv) => kv.split('=')[0]);
    expect(exported.sort()).toEqual(Object.keys(values).sort());
    const used = new Set(shell.slice(1).flatMap((b) => [...b.code.matchAll(/\$\{?([A-Z_]+)\}?/g)].map((m) => m[1]!)));
    for (const name of used) expect({ name, exported: exported.includes(name) }).toEqual({ name, exported: true });
    expect(shell.filter((b) => NOT_TRIED.test(b.code)).map((b) => [b.label, NOT_TRIED.exec(b.code)![1]])).toEqual([
      ['The images', expect.stringMatching(/Docker engine/)],
    ]);
  });

  it('what the cluster needs: the snapshot API, the StorageClass driver, the VolumeSnapshotClasses', async () => {
    const r = await runBlock(shell[1]!.code);
    expect({ code: r.code, err: r.stderr }).toEqual({ code: 0, err: '' });
    expect(r.stdout).toMatch(/volumesnapshotclasses/);
    expect(r.stdout).toMatch(/^pgbackup\.csi\.local$/m);
    expect(r.stdout).toMatch(/pgbackup-local\s+pgbackup\.csi\.local\s+true/);
  });

  it(
    'with Helm: install, doctor, a first backup from the CronJob, listed completed',
    async () => {
      const r = await runBlock(block('With Helm').code);
      expect({ code: r.code, err: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, err: '' });
      expect(r.stdout).toMatch(/STATUS: deployed/);
      expect(r.stdout).toMatch(/job\.batch\/first-backup condition met/);
      expect(r.stdout).toMatch(/db-postgresql-\S+\s+db-postgresql\s+scheduled\s+completed/);
    },
    16 * MIN,
  );

  it('Backstage: the entity names the StatefulSet the Helm block made, which names the entity back', async () => {
    const entity = parse(block('Backstage', 'yaml').code);
    const annotations: Record<string, string> = entity.metadata.annotations;
    for (const key of Object.keys(annotations)) expect(Object.values(EntityAnnotations)).toContain(key);
    expect(annotations[EntityAnnotations.statefulSet]).toBe('db-postgresql');
    const r = await runBlock(block('Backstage').code);
    expect({ code: r.code, err: r.stderr }).toEqual({ code: 0, err: '' });
    const named = await k([
      'get',
      'statefulset',
      annotations[EntityAnnotations.statefulSet]!,
      '-n',
      values.NS,
      '-o',
      'jsonpath={.metadata.annotations.pgbackup\\.io/backstage-entity}',
    ]);
    expect(named).toBe(`${entity.kind.toLowerCase()}:default/${entity.metadata.name}`);
  });

  it(
    'with Kustomize: a copy of the production overlay in your namespace, your StorageClass, PostgreSQL rolled out',
    async () => {
      const ns = namespaces[1]!;
      const r = await runBlock(block('With Kustomize').code, { NS: ns });
      expect({ code: r.code, err: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, err: '' });
      expect(r.stdout).toMatch(/statefulset rolling update complete 1 pods/);
      expect(await k(['get', 'pvc', 'data-postgresql-0', '-n', ns, '-o', 'jsonpath={.spec.storageClassName}'])).toBe(values.STORAGE_CLASS);
      expect(await k(['get', 'clusterrolebinding', `pgbackup-${ns}-postgresql`, '-o', 'jsonpath={.subjects[0].namespace}'])).toBe(ns);
    },
    12 * MIN,
  );
});
