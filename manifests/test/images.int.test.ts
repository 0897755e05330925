// The images' artifacts (the CLI release build, the API bundle) built the same way as in the Dockerfiles and started
// outside the repository like in the image, and the manifests that run them (helm and kubectl from .tools/bin).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MANIFESTS, ROOT, type Obj, find, helmTemplate, kustomizeBuild, ok, parseYaml, run, sleep } from './helpers.js';
import { BUILD_IMAGES, builtImages } from '../../tools/cluster/test/images.js';
import { type Bundle, type Container, removeBundle, runToEnd, start, unpack } from './oci.js';

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

  it('CLI: `npm run release -w kubectl-pgbackup -- --platform linux/<arch>` builds the single executable, which runs from /opt like in the image', async () => {
    const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch as string]!;
    const out = path.join(scratch, 'release');
    await ok('npm', ['run', 'release', '-w', 'kubectl-pgbackup', '--', '--platform', `linux/${arch}`, '--out', out], {
      timeoutMs: 180_000,
    });
    // The runtime stage: that directory as /opt/kubectl-pgbackup, on PATH; no node_modules anywhere.
    const opt = path.join(scratch, 'opt/kubectl-pgbackup');
    cpSync(path.join(out, `kubectl-pgbackup_linux_${arch}`), opt, { recursive: true });
    for (const f of ['kubectl-pgbackup', 'kubectl_complete-pgbackup', 'lib/main.mjs', 'package.json', 'oclif.manifest.json', 'LICENSE'])
      expect(existsSync(path.join(opt, f))).toBe(true);
    const env = { PATH: `${opt}:/usr/bin:/bin`, HOME: scratch };
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

// `npm run images` (tools/images/build.sh): every image built from its Dockerfile, pushed to the local registry, and run
// here as a container runtime runs it (skopeo + umoci + runc: the image's own user, entrypoint, env; no kubelet).
describe('the images `npm run images` builds, run by runc', () => {
  const version = JSON.parse(readFileSync(path.join(ROOT, 'packages/kubectl-pgbackup/package.json'), 'utf8')).version;
  let refs: Record<string, string>;
  const bundles: Bundle[] = [];
  const containers: Container[] = [];
  const bundle = async (name: string) => {
    const b = await unpack(refs[name]!);
    bundles.push(b);
    return b;
  };
  const started = async (b: Bundle, spec: Parameters<typeof start>[1]) => {
    const c = await start(b, spec);
    containers.push(c);
    return c;
  };
  const labels = async (name: string) =>
    JSON.parse(await ok('skopeo', ['inspect', '--tls-verify=false', `docker://${refs[name]}`])).Labels as Record<string, string>;

  beforeAll(async () => {
    refs = await builtImages();
    for (const ref of Object.values(refs)) expect(ref).toMatch(/^[\w.-]+(:\d+)?\/pgbackup\/[\w-]+@sha256:[0-9a-f]{64}$/);
    expect(Object.keys(refs).sort()).toEqual(['kubectl-pgbackup', 'pgbackup-api', 'postgres']);
  }, 46 * 60_000);
  afterAll(async () => {
    for (const c of containers) await c.remove();
    for (const b of bundles) removeBundle(b);
  });

  it('a second `npm run images` rebuilds nothing and prints the same digests', async () => {
    const r = await run('bash', [BUILD_IMAGES], { timeoutMs: 120_000 });
    expect({ code: r.code, refs: r.stdout.trim().split('\n') }).toEqual({ code: 0, refs: Object.values(refs) });
    expect(r.stderr).not.toMatch(/building/);
  }, 130_000);

  it('a registry that does not answer, or refuses the push, stops `npm run images` with a message naming it', async () => {
    const none = await run('bash', [BUILD_IMAGES], { env: { IMAGES_REGISTRY: '127.0.0.1:9' } });
    expect({ code: none.code, err: none.stderr }).toEqual({
      code: 1,
      err: expect.stringContaining('no image registry answers on http://127.0.0.1:9/v2/'),
    });
    // A registry that answers but refuses every upload, as one without write access does.
    const server = createServer((req, res) => {
      const api = req.url === '/v2/';
      res.writeHead(api ? 200 : 403, { 'content-type': 'application/json' });
      res.end(api ? '{}' : '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const registry = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const refused = await run('bash', [BUILD_IMAGES], { env: { IMAGES_REGISTRY: registry }, timeoutMs: 180_000 });
      expect({ code: refused.code, out: refused.stdout, err: refused.stderr }).toEqual({
        code: 1,
        out: '',
        err: expect.stringContaining(`kubectl-pgbackup: push to ${registry}/pgbackup/kubectl-pgbackup failed`),
      });
    } finally {
      server.close();
    }
  }, 200_000);

  it('kubectl-pgbackup: runs as uid 1000, entrypoint kubectl-pgbackup, prints its version, its single executable (no node, no npm)', async () => {
    const b = await bundle('kubectl-pgbackup');
    expect(b.spec.process.user).toMatchObject({ uid: 1000, gid: 1000 });
    expect(b.spec.process.args).toEqual(['kubectl-pgbackup', '--help']);
    const v = await runToEnd(b, { args: ['kubectl-pgbackup', 'version', '-o', 'json'] });
    expect({ code: v.code, stderr: v.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(v.stdout)).toMatchObject({ clientVersion: version });
    // The CronJob's shape: sh -c "… kubectl-pgbackup create … && kubectl-pgbackup prune …"; a usage error exits 2.
    expect((await runToEnd(b, { args: ['sh', '-c', 'set -e; kubectl-pgbackup prune'] })).code).toBe(2);
    const tools = await runToEnd(b, {
      args: ['sh', '-c', 'id -u; command -v kubectl-pgbackup; command -v node || command -v npm || echo none'],
    });
    expect(tools.stdout.trim().split('\n')).toEqual(['1000', '/opt/kubectl-pgbackup/kubectl-pgbackup', 'none']);
    expect(await labels('kubectl-pgbackup')).toMatchObject({
      'org.opencontainers.image.title': 'kubectl-pgbackup',
      'org.opencontainers.image.source': expect.stringMatching(/^https:\/\//),
    });
  }, 300_000);

  it('pgbackup-api: runs as uid 1000 its server.mjs, which answers /health/live (no cluster: not ready)', async () => {
    const b = await bundle('pgbackup-api');
    expect(b.spec.process.user).toMatchObject({ uid: 1000, gid: 1000 });
    expect(b.spec.process.args).toEqual(['node', '/opt/pgbackup-api/server.mjs']);
    const dir = mkdtempSync(path.join(tmpdir(), 'pgbackup-api-kube-'));
    chmodSync(dir, 0o755); // the image's user (1000) reads it
    writeFileSync(
      path.join(dir, 'kubeconfig'),
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u, namespace: db}}]\ncurrent-context: x\n',
      { mode: 0o644 },
    );
    const c = await started(b, { env: ['KUBECONFIG=/etc/pgbackup/kubeconfig', 'LOG_LEVEL=error'], mounts: { [dir]: '/etc/pgbackup' } });
    const status = (p: string) =>
      c.exec(['node', '-e', `fetch('http://127.0.0.1:3000${p}').then(r=>{console.log(r.status)},()=>console.log('down'))`]);
    let live = '';
    for (let i = 0; i < 80 && live !== '200'; i++) {
      live = (await status('/health/live')).stdout.trim();
      if (live !== '200') await sleep(250);
    }
    expect({ live, log: live === '200' ? '' : c.log() }).toEqual({ live: '200', log: '' });
    expect((await status('/health/ready')).stdout.trim()).toBe('503');
    expect((await c.exec(['sh', '-c', 'id -u; command -v npm || echo no-npm'])).stdout.trim().split('\n')).toEqual(['1000', 'no-npm']);
    rmSync(dir, { recursive: true, force: true });
  }, 300_000);

  it('postgres (local stand-in): uid 999; POSTGRES_PASSWORD, PGDATA and /docker-entrypoint-initdb.d honoured', async () => {
    const b = await bundle('postgres');
    expect(b.spec.process.user).toMatchObject({ uid: 999, gid: 999 });
    expect(b.spec.process.args).toEqual(['docker-entrypoint.sh', 'postgres']);
    expect(await labels('postgres')).toMatchObject({ 'org.opencontainers.image.title': expect.stringContaining('local stand-in') });
    // Without a password an empty PGDATA is refused, as the official image does.
    const refused = await runToEnd(b);
    expect({ code: refused.code, out: refused.stdout + refused.stderr }).toEqual({
      code: 1,
      out: expect.stringContaining('superuser password is not specified'),
    });
    const init = mkdtempSync(path.join(tmpdir(), 'pgbackup-initdb-'));
    chmodSync(init, 0o755); // the image's user (999) reads it
    writeFileSync(path.join(init, '01-schema.sql'), 'CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 7);\n', {
      mode: 0o644,
    });
    writeFileSync(path.join(init, '02-mark.sh'), 'psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -c "CREATE TABLE from_sh ()"\n', {
      mode: 0o644,
    });
    const pgdata = '/var/lib/postgresql/data/custom';
    const c = await started(b, {
      env: ['POSTGRES_PASSWORD=s3cret', `PGDATA=${pgdata}`],
      mounts: { [init]: '/docker-entrypoint-initdb.d' },
    });
    let ready = -1;
    for (let i = 0; i < 240 && ready !== 0; i++) {
      ready = (await c.exec(['pg_isready', '-h', '127.0.0.1', '-q'])).code;
      if (ready !== 0) await sleep(500);
    }
    expect({ ready, log: ready === 0 ? '' : c.log() }).toEqual({ ready: 0, log: '' });
    const sql = (password: string, q: string) =>
      c.exec(['psql', '-h', '127.0.0.1', '-U', 'postgres', '-tAc', q], [`PGPASSWORD=${password}`]);
    const rows = await sql('s3cret', "SELECT count(*) || ' ' || current_setting('data_directory') || ' ' || to_regclass('from_sh') FROM t");
    expect({ code: rows.code, out: rows.stdout.trim(), err: rows.stderr }).toEqual({ code: 0, out: `7 ${pgdata} from_sh`, err: '' });
    // As in the official image, loopback is trusted inside the container; every other address needs the password
    // (checked from outside in the real node's test), which is stored as SCRAM.
    const auth = await sql('', "SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'postgres'");
    expect(auth.stdout.trim()).toBe('t');
    const hba = await c.exec(['sh', '-c', `grep -v '^#' ${pgdata}/pg_hba.conf | grep . | tail -1`]);
    expect(hba.stdout.trim().split(/\s+/)).toEqual(['host', 'all', 'all', 'all', 'scram-sha-256']);
    expect(c.log()).toContain('PostgreSQL init process complete');
    rmSync(init, { recursive: true, force: true });
  }, 300_000);
});
