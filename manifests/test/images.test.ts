// The Dockerfiles, without a Docker engine: hadolint-style rules, and every COPY source is in the build context.
// What needs helm, kubectl or the release build is in images.int.test.ts.
import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MANIFESTS, ROOT } from './helpers.js';

const IMAGES = path.join(MANIFESTS, 'images');

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
  // ARGs before the first FROM may name the base (a local build passes another); the rules apply to their defaults.
  const globalArgs = new Map(
    ins.filter((i) => i.stage === -1 && i.cmd === 'ARG').map((i) => [i.args.split('=')[0]!, i.args.split('=')[1]] as const),
  );
  for (const f of froms) {
    const [named, as, alias] = f.args.split(/\s+/);
    const image = named!.replace(/^\$\{?(\w+)\}?$/, (v, name: string) => globalArgs.get(name) ?? v);
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
    if (i.cmd === 'RUN' && /\bapt-get install\b/.test(i.args) && !/--no-install-recommends/.test(i.args))
      bad(i, 'DL3015', 'apt-get install --no-install-recommends');
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
      'RUN apt-get install -y curl',
      'ENV DB_PASSWORD=hunter2',
      'USER root',
      'ENTRYPOINT node server.js',
    ].join('\n');
    const rules = lintDockerfile('bad.Dockerfile', bad, { healthcheck: 'cmd' }).map((p) => p.split(' ')[1]!.replace(/:$/, ''));
    expect(new Set(rules)).toEqual(
      new Set(['DL3006', 'registry', 'multi-stage', 'DL3020', 'DL3003', 'DL3015', 'secrets', 'DL3002', 'healthcheck', 'DL3025']),
    );
    expect(
      lintDockerfile('x', 'FROM docker.io/library/node:latest AS b\nFROM b\nUSER 0\nHEALTHCHECK NONE\nENTRYPOINT ["x"]', {
        healthcheck: 'none-ok',
      }).join('\n'),
    ).toMatch(/DL3006[\s\S]*DL3007[\s\S]*DL3002/);
    // A base named by a global ARG is judged by its default; a variable without one hides the base.
    const viaArg = (arg: string) =>
      lintDockerfile('x', `${arg}\nFROM \${BASE} AS b\nFROM \${BASE}\nCOPY --from=b /a /a\nUSER 1\nHEALTHCHECK NONE\nENTRYPOINT ["x"]`, {
        healthcheck: 'none-ok',
      });
    expect(viaArg('ARG BASE=docker.io/library/node:24.11.1-alpine3.22')).toEqual([]);
    expect(viaArg('ARG BASE=docker.io/library/node:latest').join('\n')).toMatch(/DL3007/);
    expect(viaArg('ARG BASE').join('\n')).toMatch(/DL3006.*variables hide/);
  });
});
