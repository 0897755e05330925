// Release build: an esbuild ESM bundle (split, so @pgbackup/core and the Kubernetes client stay lazy),
// packed with the sh launcher, the completion helper and a LICENSE into
// release/kubectl-pgbackup_<version>.tar.gz; then krew/pgbackup.yaml gets that archive's sha256.
// Usage: node scripts/release.js [--base-url URL]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repo = join(pkgDir, '../..');
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const version = pkg.version;
const baseUrl = process.argv.includes('--base-url') ? process.argv[process.argv.indexOf('--base-url') + 1] : `https://github.com/pgbackup/pgbackup/releases/download/v${version}`;
const out = join(pkgDir, 'release', 'kubectl-pgbackup');
rmSync(join(pkgDir, 'release'), { recursive: true, force: true });
mkdirSync(join(out, 'bin'), { recursive: true });

const result = await build({
  entryPoints: { main: join(pkgDir, 'src/main.ts'), commands: join(pkgDir, 'src/commandsIndex.ts'), hooks: join(pkgDir, 'src/hooks/commandNotFound.ts') },
  outdir: join(out, 'lib'),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  minify: true,
  legalComments: 'none',
  // oclif and undici are CommonJS: give the ESM bundle a require().
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  // oclif's development mode (ts-node + typescript) never runs from the release directory.
  external: ['typescript', 'ts-node'],
  metafile: true,
  logLevel: 'warning',
});
writeFileSync(join(pkgDir, 'release', 'meta.json'), JSON.stringify(result.metafile));

const oclif = { ...pkg.oclif, commands: { strategy: 'explicit', target: './lib/commands.mjs', identifier: 'COMMANDS' }, hooks: { command_not_found: './lib/hooks.mjs' } };
// The manifest spares oclif from importing the commands for --help and --version.
execFileSync(process.execPath, [join(pkgDir, 'scripts/manifest.js')], { cwd: pkgDir, stdio: 'ignore' });
cpSync(join(pkgDir, 'oclif.manifest.json'), join(out, 'oclif.manifest.json'));
writeFileSync(join(out, 'package.json'), JSON.stringify({ name: pkg.name, version, type: 'module', oclif }, null, 2) + '\n');
writeFileSync(
  join(out, 'bin/kubectl-pgbackup'),
  readFileSync(join(pkgDir, 'bin/kubectl-pgbackup'), 'utf8').replace('"$pkg/bin/run.js"', '"$pkg/lib/main.mjs"'),
  { mode: 0o755 },
);
cpSync(join(pkgDir, 'bin/kubectl_complete-pgbackup'), join(out, 'bin/kubectl_complete-pgbackup'));
const license = [join(repo, 'LICENSE'), join(pkgDir, 'LICENSE')].find(existsSync);
writeFileSync(join(out, 'LICENSE'), license ? readFileSync(license) : 'Apache License 2.0 — see https://www.apache.org/licenses/LICENSE-2.0\n');

const archive = `kubectl-pgbackup_v${version}.tar.gz`;
execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--mtime=@0', '-czf', archive, '-C', out, '.'], { cwd: join(pkgDir, 'release') });
const sha256 = createHash('sha256').update(readFileSync(join(pkgDir, 'release', archive))).digest('hex');

const platforms = [
  ['linux', 'amd64'],
  ['linux', 'arm64'],
  ['darwin', 'amd64'],
  ['darwin', 'arm64'],
];
const manifest = `apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: pgbackup
spec:
  version: v${version}
  homepage: https://github.com/pgbackup/pgbackup
  shortDescription: Back up PostgreSQL StatefulSets as CSI VolumeSnapshots
  description: |
    Create, list, prune and schedule consistent backups of PostgreSQL
    StatefulSets as CSI VolumeSnapshots (CHECKPOINT, then one atomic
    snapshot per volume). Backups are plain labelled VolumeSnapshots.
  caveats: |
    Needs Node.js >= 22 on PATH (or PGBACKUP_NODE=/path/to/node), the
    snapshot.storage.k8s.io/v1 CRDs and a VolumeSnapshotClass.
    Check a namespace with: kubectl pgbackup doctor -n NAMESPACE
    Shell completion: put kubectl_complete-pgbackup from the plugin
    directory on your PATH (Krew does not install it).
  platforms:
${platforms
  .map(
    ([os, arch]) => `  - selector:
      matchLabels:
        os: ${os}
        arch: ${arch}
    uri: ${baseUrl}/${archive}
    sha256: "${sha256}"
    files:
    - from: bin/kubectl-pgbackup
      to: .
    - from: bin/kubectl_complete-pgbackup
      to: .
    - from: lib
      to: lib
    - from: package.json
      to: .
    - from: oclif.manifest.json
      to: .
    - from: LICENSE
      to: .
    bin: kubectl-pgbackup
`,
  )
  .join('')}`;
mkdirSync(join(pkgDir, 'krew'), { recursive: true });
writeFileSync(join(pkgDir, 'krew/pgbackup.yaml'), manifest);
console.log(`${archive}  sha256 ${sha256}`);
