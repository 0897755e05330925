// The images' artifacts (the CLI release build, the API bundle) built the same way as in the Dockerfiles and started
// outside the repository like in the image, and the manifests that run them (helm and kubectl from .tools/bin).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MANIFESTS, ROOT, type Obj, find, helmTemplate, kustomizeBuild, ok, parseYaml, run, sleep } from './helpers.js';

const IMAGES = path.join(MANIFESTS, 'images');
const NODE = path.join(ROOT, 'node_modules/.bin/node');
const dockerfiles = {
  'kubectl-pgbackup': path.join(IMAGES, 'kubectl-pgbackup.Dockerfile'),
  'pgbackup-api': path.join(IMAGES, 'pgbackup-api.Dockerfile'),
};

describe('the images the manifests run', () => {
  it("the manifests run the images these Dockerfiles build, at the packages' version", async () => {
    const version = JSON.parse(readFileSync(path.join(ROOT, 'packages/kubectl-pgbackup/package.json'), 'utf8')).version;
    const apiVersion = JSON.parse(readFileSync(path.join(ROOT, 'packages/backstage-backend/package.json'), 'utf8')).version;
    const chart = readFileSync(path.join(MANIFESTS, 'helm/pgbackup/Chart.yaml'), 'utf8');
    expect(parseYaml(chart)[0]!.appVersion).toBe(version);
    const images = (objects: Obj[]) => ({
      cli: find(objects, 'CronJob').spec.jobTemplate.spec.template.spec.containers[0].image,
      api: find(objects, 'Deployment').spec.template.spec.containers[0].image,
    });
    const want = { cli: `ghcr.io/pgbackup/kubectl-pgbackup:${version}`, api: `ghcr.io/pgbackup/pgbackup-api:${apiVersion}` };
    expect(images(await kustomizeBuild(path.join(MANIFESTS, 'kustomize/base')))).toEqual(want);
    expect(images(await helmTemplate())).toEqual(want);
    for (const [name, file] of Object.entries(dockerfiles)) expect(readFileSync(file, 'utf8')).toContain(`ghcr.io/pgbackup/${name}:`);
  }, 60_000);
});

describe('the artifacts the images copy', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(path.join(tmpdir(), 'pgbackup-images-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('CLI: `npm run release -w kubectl-pgbackup -- --no-sea` builds release/kubectl-pgbackup, which runs from /opt like in the image', async () => {
    // The Krew archives (single executables) are krew.int's; the image runs the bundle with the image's node.
    await ok('npm', ['run', 'release', '-w', 'kubectl-pgbackup', '--', '--no-sea'], { timeoutMs: 180_000 });
    const release = path.join(ROOT, 'packages/kubectl-pgbackup/release/kubectl-pgbackup');
    for (const f of ['bin/kubectl-pgbackup', 'bin/kubectl_complete-pgbackup', 'lib/main.mjs', 'package.json', 'oclif.manifest.json'])
      expect(existsSync(path.join(release, f))).toBe(true);
    // The runtime stage: /opt/kubectl-pgbackup + a symlink on PATH, node on PATH, no node_modules anywhere.
    const opt = path.join(scratch, 'opt/kubectl-pgbackup');
    cpSync(release, opt, { recursive: true });
    mkdirSync(path.join(scratch, 'bin'));
    symlinkSync(path.join(opt, 'bin/kubectl-pgbackup'), path.join(scratch, 'bin/kubectl-pgbackup'));
    symlinkSync(NODE, path.join(scratch, 'bin/node'));
    const env = { PATH: `${path.join(scratch, 'bin')}:/usr/bin:/bin`, HOME: scratch, PGBACKUP_NODE: '' };
    const version = await ok('sh', ['-c', 'kubectl-pgbackup version -o json'], { env, cwd: scratch });
    expect(JSON.parse(version)).toMatchObject({ clientVersion: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    // The CronJob's shape: sh -c "… kubectl-pgbackup create … ; kubectl-pgbackup prune …" — usage errors exit 2.
    const r = await run('sh', ['-c', 'set -e; kubectl-pgbackup prune'], { env, cwd: scratch });
    expect(r.code).toBe(2);
  }, 240_000);

  it('API: bundle-api.mjs builds server.mjs, which serves /health/live from a directory of its own', async () => {
    const out = path.join(scratch, 'opt/pgbackup-api');
    await ok('npm', ['exec', '--', 'node', path.join(IMAGES, 'bundle-api.mjs'), out], { timeoutMs: 180_000 });
    expect(existsSync(path.join(out, 'server.mjs'))).toBe(true);
    // A cluster that is not there: live answers, ready does not.
    const kubeconfig = path.join(scratch, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u, namespace: db}}]\ncurrent-context: x\n',
    );
    const port = 40000 + Math.floor(Math.random() * 20000);
    const server = spawn(NODE, [path.join(out, 'server.mjs')], {
      cwd: out,
      env: {
        PATH: '/usr/bin:/bin',
        PORT: String(port),
        HOST: '127.0.0.1',
        KUBECONFIG: kubeconfig,
        LOG_LEVEL: 'error',
        NODE_ENV: 'production',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    server.stdout.on('data', (d) => (log += d));
    server.stderr.on('data', (d) => (log += d));
    try {
      let live: Response | undefined;
      for (let i = 0; i < 60 && !live; i++) {
        live = await fetch(`http://127.0.0.1:${port}/health/live`).catch(() => undefined);
        if (!live) await sleep(250);
      }
      expect({ status: live?.status, log: live ? '' : log }).toEqual({ status: 200, log: '' });
      expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(503);
      expect((await fetch(`http://127.0.0.1:${port}/openapi.json`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/api/swagger-ui.css`)).status).toBe(200); // swagger-ui-dist next to the bundle
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
  }, 240_000);
});
