// The README's first command, run as a newcomer types it: `npm run demo`, plain mode, no flags, with a KUBECONFIG in
// the environment that names some other (unreachable) cluster, as every kubectl user's shell has.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MIN, ROOT, type Result, ensureClusterUp, kubectl, run } from '../../tools/cluster/test/kube.js';

const NAMESPACE = 'pgbackup-demo';
let scratch: string;
let demo: Result;

beforeAll(async () => {
  await ensureClusterUp();
  scratch = mkdtempSync(path.join(tmpdir(), 'pgbackup-demo-test-'));
  const foreign = path.join(scratch, 'kubeconfig');
  writeFileSync(
    foreign,
    'apiVersion: v1\nkind: Config\nclusters: [{name: other, cluster: {server: "https://127.0.0.1:9"}}]\n' +
      'users: [{name: u, user: {token: t}}]\ncontexts: [{name: other, context: {cluster: other, user: u}}]\ncurrent-context: other\n',
  );
  demo = await run('npm', ['run', 'demo'], { cwd: ROOT, timeoutMs: 12 * MIN, env: { KUBECONFIG: foreign, NODE_OPTIONS: '' } });
}, 13 * MIN);

afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await kubectl(['delete', 'namespace', NAMESPACE, '--ignore-not-found', '--wait=true', '--timeout=180s'], { timeoutMs: 4 * MIN });
}, 5 * MIN);

describe('npm run demo, as the README shows it', () => {
  it('exits 0 and ends with the figures, how to look at them and how to clean up', () => {
    expect({ code: demo.code, stderr: demo.code === 0 ? '' : demo.stderr }).toEqual({ code: 0, stderr: '' });
    const lines = demo.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('demo: passed');
    expect(lines).toContainEqual(expect.stringMatching(/^ {3}verification +passed$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {3}restore +ready in \d+(\.\d+)?s$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {3}backup +completed in \d+s \(checkpoint-snapshot\)$/));
    expect(lines).toContainEqual(
      `clean up: kubectl delete namespace ${NAMESPACE}; npm run cluster:down (add -- --purge to drop the cluster's state too)`,
    );
    // The figures: the restore holds every row committed before the backup began.
    const [, before] = /pgbench_history rows in pg +(\d+) when the backup started/.exec(demo.stdout) ?? [];
    const [, restored] = /rows in pg-restored +(\d+)/.exec(demo.stdout) ?? [];
    expect(Number(restored)).toBeGreaterThanOrEqual(Number(before));
    expect(Number(before)).toBeGreaterThan(0);
  });

  it('shows progress, never mixed into the data it parses (no jq parse errors, every step numbered)', () => {
    expect(demo.stdout + demo.stderr).not.toMatch(/parse error|Invalid numeric literal/);
    for (const step of ['0.', '1.', '2.', '3.', '4.', '5.']) expect(demo.stdout).toMatch(new RegExp(`^${step.replace('.', '\\.')} `, 'm'));
  });

  it('left its namespace for a look, with the restored StatefulSet in it', async () => {
    const r = await kubectl(['get', 'statefulset', 'pg-restored', '-n', NAMESPACE, '-o', 'jsonpath={.status.readyReplicas}']);
    expect(r.stdout).toBe('1');
  });
});
