// The images, without a Docker engine: hadolint-style rules on the Dockerfiles, and the artifacts they copy
// (the CLI release build, the API bundle) built the same way and started outside the repository like in the image.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MANIFESTS, ROOT, type Obj, find, helmTemplate, kustomizeBuild, ok, parseYaml, run, sleep } from './helpers.js';

const IMAGES = path.join(MANIFESTS, 'images');
const NODE = path.join(ROOT, 'node_modules/.bin/node');

interface Instruction {
  line: number;
  cmd: string;
  args: string;
  stage: number;
}

/** Instructions of a Dockerfile: continuations joined, comments dropped, each tagged with its stage. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!buf && (line === '' || line.startsWith('#'))) return;
    if (line.startsWith('#')) return;
    if (!buf) start = i + 1;
    buf += (buf ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (line.endsWith('\\')) return;
    const m = /^(\w+)\s*(.*)$/.exec(buf)!;
    const cmd = m[1]!.toUpperCase();
    if (cmd === 'FROM') stage++;
    out.push({ line: start, cmd, args: m[2]!, stage });
    buf = '';
  });
  return out;
}

/** The rules; returns the violations as "file:line rule: detail". */
export function lintDockerfile(file: string, text: string, opts: { healthcheck: 'cmd' | 'none-ok' }): string[] {
  const ins = parseDockerfile(text);
  const problems: string[] = [];
  const bad = (i: Instruction | undefined, rule: string, detail: string) =>
    problems.push(`${path.basename(file)}:${i?.line ?? 0} ${rule}: ${detail}`);
  const froms = ins.filter((i) => i.cmd === 'FROM');
  const stages = new Set<string>();
  for (const f of froms) {
    const [image, as, alias] = f.args.split(/\s+/);
    if (stages.has(image!)) continue;
    if (as?.toUpperCase() === 'AS' && alias) stages.add(alias);
    if (/\$/.test(image!)) bad(f, 'DL3006', `FROM ${image}: variables hide what is built on`);
    else if (!/@sha256:[0-9a-f]{64}$/.test(image!) && !/:[^/:]*\d[^/:]*$/.test(image!))
      bad(f, 'DL3006', `FROM ${image}: pin a version tag or a digest`);
    if (/:latest$/.test(image!)) bad(f, 'DL3007', `FROM ${image}: latest`);
    if (!/^[\w.-]+\.[\w.-]+(:\d+)?\//.test(image!)) bad(f, 'registry', `FROM ${image}: name the registry (docker.io/library/…)`);
  }
  if (froms.length < 2) bad(froms[0], 'multi-stage', 'build in one stage, copy the artifacts into a runtime stage');
  const last = froms.length - 1;
  const final = ins.filter((i) => i.stage === last);
  for (const i of ins) {
    if (i.cmd === 'ADD') bad(i, 'DL3020', 'use COPY (ADD fetches URLs and unpacks archives)');
    if (i.cmd === 'MAINTAINER') bad(i, 'DL4000', 'MAINTAINER is deprecated');
    if (i.cmd === 'WORKDIR' && !i.args.startsWith('/')) bad(i, 'DL3000', 'WORKDIR must be absolute');
    if (i.cmd === 'RUN' && /(^|&&|;)\s*cd\s/.test(i.args)) bad(i, 'DL3003', 'use WORKDIR, not cd');
    if (i.cmd === 'RUN' && /\bsudo\b/.test(i.args)) bad(i, 'DL3004', 'no sudo');
    if (i.cmd === 'RUN' && /\bapk add\b/.test(i.args) && !/--no-cache/.test(i.args)) bad(i, 'DL3019', 'apk add --no-cache');
    if (i.cmd === 'RUN' && /\bapt-get install\b/.test(i.args)) bad(i, 'DL3008', 'no apt-get here (alpine)');
    if (i.cmd === 'RUN' && /\b(curl|wget)\b.*\|\s*(sh|bash)\b/.test(i.args)) bad(i, 'DL4006', 'no curl | sh');
    if ((i.cmd === 'ENV' || i.cmd === 'ARG') && /(PASSWORD|SECRET|TOKEN|API_KEY)\w*=/i.test(i.args))
      bad(i, 'secrets', `${i.cmd} ${i.args}: no secrets in the image`);
    if (i.cmd === 'COPY' && /^(--[\w-]+=\S+\s+)*\.\s/.test(i.args)) bad(i, 'context', 'COPY . copies the whole context');
  }
  const users = final.filter((i) => i.cmd === 'USER');
  const user = users.at(-1);
  if (!user) bad(final[0], 'DL3002', 'the runtime stage needs a USER');
  else if (!/^[1-9]\d*(:[1-9]\d*)?$/.test(user.args))
    bad(user, 'DL3002', `USER ${user.args}: a numeric non-root uid[:gid] (runAsNonRoot can only verify numbers)`);
  if (!final.some((i) => i.cmd === 'COPY' && /--from=\S+/.test(i.args)))
    bad(final[0], 'multi-stage', 'the runtime stage copies nothing from the build stage');
  const health = final.find((i) => i.cmd === 'HEALTHCHECK');
  if (!health) bad(final[0], 'healthcheck', 'HEALTHCHECK missing (or HEALTHCHECK NONE for a batch image)');
  else if (opts.healthcheck === 'cmd' && !/\bCMD\b/.test(health.args)) bad(health, 'healthcheck', 'a server image needs HEALTHCHECK CMD');
  for (const i of final.filter((x) => x.cmd === 'ENTRYPOINT' || x.cmd === 'CMD')) {
    try {
      if (!Array.isArray(JSON.parse(i.args))) throw new Error();
    } catch {
      bad(i, 'DL3025', `${i.cmd} ${i.args}: use the JSON (exec) form, so signals reach the program`);
    }
  }
  if (!final.some((i) => i.cmd === 'ENTRYPOINT')) bad(final[0], 'entrypoint', 'no ENTRYPOINT');
  return problems;
}

/** COPY sources from the build context exist and the .dockerignore next to the Dockerfile lets them through. */
function contextProblems(file: string, text: string): string[] {
  const ignore = `${file}.dockerignore`;
  if (!existsSync(ignore)) return [`${path.basename(file)}: no ${path.basename(ignore)} (the context is the repository)`];
  const allowed = readFileSync(ignore, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('!'))
    .map((l) => l.slice(1));
  const glob = (p: string) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/.*)?$`);
  const problems: string[] = [];
  for (const i of parseDockerfile(text).filter((x) => x.cmd === 'COPY' && !/--from=/.test(x.args))) {
    const parts = i.args.split(/\s+/).filter((a) => !a.startsWith('--'));
    for (const src of parts.slice(0, -1)) {
      if (!existsSync(path.join(ROOT, src))) problems.push(`${path.basename(file)}:${i.line} COPY ${src}: not in the repository`);
      else if (!allowed.some((a) => glob(a).test(src)))
        problems.push(`${path.basename(file)}:${i.line} COPY ${src}: excluded by ${path.basename(ignore)}`);
    }
  }
  return problems;
}

const dockerfiles = {
  'kubectl-pgbackup': { file: path.join(IMAGES, 'kubectl-pgbackup.Dockerfile'), healthcheck: 'none-ok' as const },
  'pgbackup-api': { file: path.join(IMAGES, 'pgbackup-api.Dockerfile'), healthcheck: 'cmd' as const },
};

describe('Dockerfiles (hadolint-style rules)', () => {
  it.each(Object.entries(dockerfiles))(
    '%s: pinned multi-stage build, numeric non-root USER, no ADD, exec-form ENTRYPOINT, HEALTHCHECK',
    (_name, d) => {
      const text = readFileSync(d.file, 'utf8');
      expect(lintDockerfile(d.file, text, { healthcheck: d.healthcheck })).toEqual([]);
      expect(contextProblems(d.file, text)).toEqual([]);
    },
  );

  it('the rules catch what they are for', () => {
    const bad = [
      'FROM node',
      'ADD https://example.com/x.tgz /x',
      'RUN cd /x && make',
      'ENV DB_PASSWORD=hunter2',
      'USER root',
      'ENTRYPOINT node server.js',
    ].join('\n');
    const rules = lintDockerfile('bad.Dockerfile', bad, { healthcheck: 'cmd' }).map((p) => p.split(' ')[1]!.replace(/:$/, ''));
    expect(new Set(rules)).toEqual(
      new Set(['DL3006', 'registry', 'multi-stage', 'DL3020', 'DL3003', 'secrets', 'DL3002', 'healthcheck', 'DL3025']),
    );
    expect(
      lintDockerfile('x', 'FROM docker.io/library/node:latest AS b\nFROM b\nUSER 0\nHEALTHCHECK NONE\nENTRYPOINT ["x"]', {
        healthcheck: 'none-ok',
      }).join('\n'),
    ).toMatch(/DL3006[\s\S]*DL3007[\s\S]*DL3002/);
  });

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
    for (const [name, d] of Object.entries(dockerfiles)) expect(readFileSync(d.file, 'utf8')).toContain(`ghcr.io/pgbackup/${name}:`);
  }, 60_000);
});

describe('the artifacts the images copy', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(path.join(tmpdir(), 'pgbackup-images-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('CLI: `npm run release -w kubectl-pgbackup` builds release/kubectl-pgbackup, which runs from /opt like in the image', async () => {
    // release.js also rewrites the tracked krew/pgbackup.yaml: put it back as it was (a test leaves the tree clean).
    const krew = path.join(ROOT, 'packages/kubectl-pgbackup/krew/pgbackup.yaml');
    const before = existsSync(krew) ? readFileSync(krew) : undefined;
    try {
      await ok('npm', ['run', 'release', '-w', 'kubectl-pgbackup'], { timeoutMs: 180_000 });
    } finally {
      if (before) writeFileSync(krew, before);
    }
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
