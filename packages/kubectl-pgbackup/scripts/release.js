// Release build: an esbuild ESM bundle (split, so @pgbackup/core and the Kubernetes client stay lazy),
// packed with the sh launcher, the completion helper and a LICENSE into
// release/kubectl-pgbackup_<version>.tar.gz; then krew/pgbackup.yaml gets that archive's sha256.
// Usage: node scripts/release.js [--base-url URL]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repo = join(pkgDir, '../..');
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const version = pkg.version;
const baseUrl = process.argv.includes('--base-url')
  ? process.argv[process.argv.indexOf('--base-url') + 1]
  : `https://github.com/pgbackup/pgbackup/releases/download/v${version}`;
const out = join(pkgDir, 'release', 'kubectl-pgbackup');
rmSync(join(pkgDir, 'release'), { recursive: true, force: true });
mkdirSync(join(out, 'bin'), { recursive: true });

const result = await build({
  entryPoints: {
    main: join(pkgDir, 'src/main.ts'),
    commands: join(pkgDir, 'src/commandsIndex.ts'),
    hooks: join(pkgDir, 'src/hooks/commandNotFound.ts'),
  },
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

const oclif = {
  ...pkg.oclif,
  commands: { strategy: 'explicit', target: './lib/commands.mjs', identifier: 'COMMANDS' },
  hooks: { command_not_found: './lib/hooks.mjs' },
};
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
writeFileSync(
  join(out, 'LICENSE'),
  license ? readFileSync(license) : 'Apache License 2.0 — see https://www.apache.org/licenses/LICENSE-2.0\n',
);

const tar = (name, dir) => {
  execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--mtime=@0', '-czf', name, '-C', dir, '.'], {
    cwd: join(pkgDir, 'release'),
  });
  return createHash('sha256')
    .update(readFileSync(join(pkgDir, 'release', name)))
    .digest('hex');
};
const archive = `kubectl-pgbackup_v${version}.tar.gz`;
const sha256 = tar(archive, out);

// Node single executable (SEA) for this machine's platform: no Node needed on the user's machine, and
// --version/--help answered without loading oclif (pre-rendered here). `--no-sea` skips it.
const seaOs = { linux: 'linux', darwin: 'darwin' }[process.platform];
const seaArch = { x64: 'amd64', arm64: 'arm64' }[process.arch];
let sea;
if (!process.argv.includes('--no-sea') && seaOs && seaArch) sea = await buildSea(seaOs, seaArch);

async function buildSea(os, arch) {
  const dir = join(pkgDir, 'release', `kubectl-pgbackup_${os}_${arch}`);
  mkdirSync(dir, { recursive: true });
  for (const f of ['lib', 'package.json', 'oclif.manifest.json', 'LICENSE']) cpSync(join(out, f), join(dir, f), { recursive: true });
  cpSync(join(out, 'bin/kubectl_complete-pgbackup'), join(dir, 'kubectl_complete-pgbackup'));
  // Help and version as oclif prints them into a pipe (80 columns), rendered by the bundle itself.
  const run = (args) =>
    execFileSync(process.execPath, [join(out, 'lib/main.mjs'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '', OCLIF_COLUMNS: '' },
    });
  const ua = run(['--version']).trim();
  const placeholder = '\u0000UA\u0000';
  const render = (args) => run(args).split(ua).join(placeholder);
  const manifest = JSON.parse(readFileSync(join(out, 'oclif.manifest.json'), 'utf8'));
  const ids = [...Object.keys(manifest.commands), ...Object.keys(pkg.oclif.topics ?? {})].map((id) => id.replaceAll(':', ' '));
  const help = { '': render(['--help']) };
  for (const id of ids) help[id] = render([...id.split(' '), '--help']);
  const data = { name: pkg.name, version, userAgentPlaceholder: placeholder, noArgs: render([]), help };
  const mainCjs = join(pkgDir, 'release', 'sea-main.cjs');
  writeFileSync(mainCjs, readFileSync(join(pkgDir, 'scripts/sea-main.cjs'), 'utf8').replace('/*DATA*/ null', JSON.stringify(data)));
  const blob = join(pkgDir, 'release', 'sea-prep.blob');
  const config = join(pkgDir, 'release', 'sea-config.json');
  writeFileSync(
    config,
    JSON.stringify({
      main: mainCjs,
      output: blob,
      disableExperimentalSEAWarning: true,
      useCodeCache: true,
      useSnapshot: false,
      // A small young generation: `list -o json` over 5,000 backups peaks at ≈ 150 MiB instead of ≈ 210 MiB,
      // and is no slower (fewer, cheaper scavenges). Node >= 24.6 reads execArgv from the SEA config.
      execArgv: ['--max-semi-space-size=2'],
    }),
  );
  execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' } });
  const exe = join(dir, 'kubectl-pgbackup');
  cpSync(process.execPath, exe);
  chmodSync(exe, 0o755);
  if (process.platform === 'darwin') execFileSync('codesign', ['--remove-signature', exe]);
  const { inject } = (await import('postject')).default;
  await inject(exe, 'NODE_SEA_BLOB', readFileSync(blob), {
    sentinelFuse: 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
    machoSegmentName: process.platform === 'darwin' ? 'NODE_SEA' : undefined,
  });
  if (process.platform === 'darwin') execFileSync('codesign', ['--sign', '-', exe]);
  rmSync(blob);
  rmSync(config);
  const name = `kubectl-pgbackup_v${version}_${os}_${arch}.tar.gz`;
  return { os, arch, name, sha256: tar(name, dir) };
}

const platforms = [
  ['linux', 'amd64'],
  ['linux', 'arm64'],
  ['darwin', 'amd64'],
  ['darwin', 'arm64'],
];
/** One platform of the Krew manifest: its archive, and the files taken from it (lib/ and the metadata in every one). */
function krewPlatform(os, arch, file, sha, ownFiles, bin) {
  const files = [...ownFiles, ['lib', 'lib'], ['package.json', '.'], ['oclif.manifest.json', '.'], ['LICENSE', '.']];
  return `  - selector:
      matchLabels:
        os: ${os}
        arch: ${arch}
    uri: ${baseUrl}/${file}
    sha256: "${sha}"
    files:
${files.map(([from, to]) => `    - from: ${from}\n      to: ${to}\n`).join('')}${bin}`;
}

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
    ${sea ? `${sea.os}/${sea.arch}: a single executable. Elsewhere: needs ` : 'Needs '}Node.js >= 22 on PATH (or PGBACKUP_NODE=/path/to/node), the
    snapshot.storage.k8s.io/v1 CRDs and a VolumeSnapshotClass.
    Check a namespace with: kubectl pgbackup doctor -n NAMESPACE
    Shell completion: put kubectl_complete-pgbackup from the plugin
    directory on your PATH (Krew does not install it).
  platforms:
${platforms
  .map(([os, arch]) =>
    sea && sea.os === os && sea.arch === arch
      ? krewPlatform(
          os,
          arch,
          sea.name,
          sea.sha256,
          [
            ['kubectl-pgbackup', '.'],
            ['kubectl_complete-pgbackup', '.'],
          ],
          '    bin: kubectl-pgbackup\n',
        )
      : krewPlatform(
          os,
          arch,
          archive,
          sha256,
          [['bin', 'bin']],
          '    # The sh launcher finds lib/ beside its own bin/ folder.\n    bin: bin/kubectl-pgbackup\n',
        ),
  )
  .join('')}`;
mkdirSync(join(pkgDir, 'krew'), { recursive: true });
writeFileSync(join(pkgDir, 'krew/pgbackup.yaml'), manifest);
console.log(`${archive}  sha256 ${sha256}`);
if (sea)
  console.log(`${sea.name}  sha256 ${sea.sha256}  (single executable: release/kubectl-pgbackup_${sea.os}_${sea.arch}/kubectl-pgbackup)`);
