// The release as Krew users get it: five single-executable archives and the manifest made from them, checked
// by krew's own validator (which installs every platform) and installed with `kubectl krew install`, after
// which `kubectl pgbackup version` runs. krew v0.4.3 and validate-krew-manifest are built by tools/cluster/build.sh.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { MIN, ROOT, ok, run } from '../../../tools/cluster/test/kube.js';
// @ts-expect-error -- a plain ESM script of the release, without types
import { machoSignatureProblems } from '../scripts/machoSignature.js';

const BIN = path.join(ROOT, '.tools/bin');
const PKG = path.join(ROOT, 'packages/kubectl-pgbackup');
const VERSION = (JSON.parse(readFileSync(path.join(PKG, 'package.json'), 'utf8')) as { version: string }).version;
const PLATFORMS = ['linux/amd64', 'linux/arm64', 'darwin/amd64', 'darwin/arm64', 'windows/amd64'];

interface KrewPlatform {
  selector: { matchLabels: { os: string; arch: string } };
  uri: string;
  sha256: string;
  bin: string;
}
interface KrewManifest {
  metadata: { name: string };
  spec: { version: string; shortDescription: string; caveats?: string; description: string; platforms: KrewPlatform[] };
}

let work: string;
let out: string;
let server: Server;
let manifest: KrewManifest;
/** PATH with kubectl and `kubectl krew` (krew is a kubectl plugin: kubectl-krew on PATH). */
let toolPath: string;

const archive = (os: string, arch: string) => path.join(out, `kubectl-pgbackup_v${VERSION}_${os}_${arch}.tar.gz`);

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'pgbackup-krew-'));
  out = path.join(work, 'release');
  // The archives are served as their release would be: krew downloads what the manifest's uri names.
  server = createServer((req, res) => {
    const file = path.join(out, path.basename(req.url ?? ''));
    if (!existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/gzip' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await ok('npm', ['run', 'release', '-w', 'kubectl-pgbackup', '--', '--out', out, '--base-url', base], {
    cwd: ROOT,
    timeoutMs: 12 * MIN,
  });
  manifest = parse(readFileSync(path.join(out, 'pgbackup.yaml'), 'utf8')) as KrewManifest;
  const tools = path.join(work, 'tools');
  mkdirSync(tools);
  symlinkSync(path.join(BIN, 'kubectl'), path.join(tools, 'kubectl'));
  symlinkSync(path.join(BIN, 'krew'), path.join(tools, 'kubectl-krew'));
  toolPath = `${tools}:/usr/bin:/bin`;
}, 15 * MIN);

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the Krew release', () => {
  it('has one single-executable archive per platform, with no runtime to install', () => {
    expect(manifest.metadata.name).toBe('pgbackup');
    expect(manifest.spec.version).toBe(`v${VERSION}`);
    expect(manifest.spec.platforms.map((p) => `${p.selector.matchLabels.os}/${p.selector.matchLabels.arch}`)).toEqual(PLATFORMS);
    for (const p of manifest.spec.platforms) {
      const { os, arch } = p.selector.matchLabels;
      expect(p.bin).toBe(os === 'windows' ? 'kubectl-pgbackup.exe' : 'kubectl-pgbackup');
      expect(path.basename(p.uri)).toBe(path.basename(archive(os, arch)));
    }
    // krew-index: a few words, no dependencies to install, caveats only for what a user must do after installing.
    expect(manifest.spec.shortDescription.split(' ').length).toBeLessThanOrEqual(6);
    expect(JSON.stringify(manifest.spec)).not.toMatch(/node\.?js|PGBACKUP_NODE/i);
    expect(manifest.spec.caveats).toBeUndefined();
  });

  it("names each archive's sha256 and carries the project's LICENSE", async () => {
    const license = readFileSync(path.join(ROOT, 'LICENSE'), 'utf8');
    expect(license).toContain('Apache License');
    expect(license).toContain('Version 2.0, January 2004');
    for (const p of manifest.spec.platforms) {
      const { os, arch } = p.selector.matchLabels;
      expect((await ok('sha256sum', [archive(os, arch)])).split(' ')[0]).toBe(p.sha256);
      expect(await ok('tar', ['-xzOf', archive(os, arch), './LICENSE'])).toBe(license);
      expect((await ok('tar', ['-tzf', archive(os, arch)])).split('\n')).toContain(`./${p.bin}`);
    }
  });

  it('passes validate-krew-manifest, which installs every platform with krew', async () => {
    const result = await run(path.join(BIN, 'validate-krew-manifest'), ['-manifest', path.join(out, 'pgbackup.yaml')], {
      env: { PATH: toolPath, HOME: work },
      timeoutMs: 5 * MIN,
    });
    expect(result.stderr + result.stdout).toContain(`all ${PLATFORMS.length} spec.platforms installed fine`);
    expect(result.code).toBe(0);
  });

  it('installs with `kubectl krew install --manifest --archive`, and `kubectl pgbackup version` runs', async () => {
    const krewRoot = path.join(work, 'krew-root');
    const env = { PATH: toolPath, HOME: work, KREW_ROOT: krewRoot };
    await ok(
      path.join(BIN, 'kubectl'),
      ['krew', 'install', `--manifest=${path.join(out, 'pgbackup.yaml')}`, `--archive=${archive('linux', 'amd64')}`],
      { env, timeoutMs: 2 * MIN },
    );
    // No Node.js on this PATH: the plugin is its own runtime.
    const version = await ok(path.join(BIN, 'kubectl'), ['pgbackup', 'version'], {
      env: { ...env, PATH: `${path.join(krewRoot, 'bin')}:${toolPath}` },
      timeoutMs: MIN,
    });
    expect(version).toContain(VERSION);
    expect(await ok(path.join(krewRoot, 'bin/kubectl-pgbackup'), ['--version'], { env })).toMatch(
      new RegExp(`kubectl-pgbackup/${VERSION.replaceAll('.', '\\.')} linux-x64 node-v26\\.`),
    );
  });

  it('signs the macOS executables ad hoc, so that Apple silicon runs them', async () => {
    for (const arch of ['amd64', 'arm64']) {
      const dir = path.join(work, `darwin-${arch}`);
      mkdirSync(dir);
      await ok('tar', ['-xzf', archive('darwin', arch), '-C', dir, './kubectl-pgbackup']);
      const exe = readFileSync(path.join(dir, 'kubectl-pgbackup'));
      expect(machoSignatureProblems(exe)).toEqual([]);
      expect(exe.includes('NODE_SEA_BLOB')).toBe(true);
      // The check can fail: one changed byte in the code is a page that no longer matches its hash.
      exe[4096 + 17] ^= 0xff;
      expect(machoSignatureProblems(exe)).toEqual([expect.stringMatching(/^1 of \d+ pages do not match their hash$/)]);
    }
  });
});
