// Release build: an esbuild ESM bundle (split, so @pgbackup/core and the Kubernetes client stay lazy) in
// release/kubectl-pgbackup (with the sh launcher: what the image runs), then for each platform a Node single
// executable (SEA) archive release/kubectl-pgbackup_v<version>_<os>_<arch>.tar.gz, and the Krew manifest
// release/pgbackup.yaml made from krew/pgbackup.template.yaml with those archives' sha256.
// Usage: node scripts/release.js [--platform os/arch]... [--no-sea] [--base-url URL] [--out DIR]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { parse, stringify } from 'yaml';
import { machoSignatureProblems, reserveCodeSignature } from './machoSignature.js';
import { PLATFORMS, SEA_NODE_VERSION, hostPlatform, nodeBinary } from './nodeBinaries.js';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repo = join(pkgDir, '../..');
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const version = pkg.version;
const args = process.argv.slice(2);
const option = (name) => args.flatMap((a, i) => (a === name ? [args[i + 1]] : []));
const baseUrl = option('--base-url')[0] ?? `https://github.com/pgbackup/pgbackup/releases/download/v${version}`;
const releaseDir = resolve(option('--out')[0] ?? join(pkgDir, 'release'));
const platforms = option('--platform').length ? option('--platform') : PLATFORMS;
for (const p of platforms) if (!PLATFORMS.includes(p)) fail(`--platform ${p}: expected one of ${PLATFORMS.join(', ')}`);
const licenseFile = join(repo, 'LICENSE');
if (!existsSync(licenseFile)) fail(`${licenseFile} is missing: the archives must carry the project's license`);
const out = join(releaseDir, 'kubectl-pgbackup');
// Only a directory a release made (or an empty one) is replaced.
if (existsSync(releaseDir) && readdirSync(releaseDir).length && !existsSync(join(releaseDir, 'meta.json')))
  fail(`${releaseDir} is not empty and holds no earlier release: choose another --out`);
rmSync(releaseDir, { recursive: true, force: true });
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
writeFileSync(join(releaseDir, 'meta.json'), JSON.stringify(result.metafile));

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
cpSync(licenseFile, join(out, 'LICENSE'));

const tar = (name, dir) => {
  execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--mtime=@0', '-czf', name, '-C', dir, '.'], {
    cwd: releaseDir,
  });
  return createHash('sha256')
    .update(readFileSync(join(releaseDir, name)))
    .digest('hex');
};

if (args.includes('--no-sea')) process.exit(0);

// Help and version as oclif prints them into a pipe (80 columns), rendered by the bundle itself: the single
// executable answers --version/--help without loading oclif.
const run = (argv) =>
  execFileSync(process.execPath, [join(out, 'lib/main.mjs'), ...argv], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', OCLIF_COLUMNS: '' },
  });
const ua = run(['--version']).trim();
const placeholder = '\u0000UA\u0000';
const render = (argv) => run(argv).split(ua).join(placeholder);
const oclifManifest = JSON.parse(readFileSync(join(out, 'oclif.manifest.json'), 'utf8'));
const ids = [...Object.keys(oclifManifest.commands), ...Object.keys(pkg.oclif.topics ?? {})].map((id) => id.replaceAll(':', ' '));
const help = { '': render(['--help']) };
for (const id of ids) help[id] = render([...id.split(' '), '--help']);
const mainCjs = join(releaseDir, 'sea-main.cjs');
writeFileSync(
  mainCjs,
  readFileSync(join(pkgDir, 'scripts/sea-main.cjs'), 'utf8').replace(
    '/*DATA*/ null',
    JSON.stringify({ name: pkg.name, version, userAgentPlaceholder: placeholder, noArgs: render([]), help }),
  ),
);

// A SEA is read by the Node.js that made it: every platform's executable is the same Node.js version, and that
// version's executable for this machine makes them all (`--build-sea` with another platform's Node.js as
// `executable`).
const host = hostPlatform();
if (!host) fail(`a release is built on ${PLATFORMS.join(', ')}; this is ${process.platform}/${process.arch}`);
const nodeDir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'pgbackup', 'node');
const hostNode = nodeBinary(host, nodeDir);
const archives = platforms.map(buildSea);

function buildSea(platform) {
  const [os, arch] = platform.split('/');
  const dir = join(releaseDir, `kubectl-pgbackup_${os}_${arch}`);
  mkdirSync(dir, { recursive: true });
  for (const f of ['lib', 'package.json', 'oclif.manifest.json', 'LICENSE']) cpSync(join(out, f), join(dir, f), { recursive: true });
  if (os !== 'windows') cpSync(join(out, 'bin/kubectl_complete-pgbackup'), join(dir, 'kubectl_complete-pgbackup'));
  const bin = os === 'windows' ? 'kubectl-pgbackup.exe' : 'kubectl-pgbackup';
  const exe = join(dir, bin);
  const config = join(releaseDir, 'sea-config.json');
  writeFileSync(
    config,
    JSON.stringify({
      main: mainCjs,
      executable: nodeBinary(platform, nodeDir),
      output: exe,
      disableExperimentalSEAWarning: true,
      // No V8 code cache: it differs from build to build (≈ 240 bytes: V8 hashes with a per-process random seed),
      // so neither the archives nor the CLI image were reproducible; and it made no measured difference (CPU time of
      // 30 `--version` 0.97–1.16 s with it, 1.07–1.14 s without; 10 `version -o json` 1.76–1.79 s, 1.83–1.87 s).
      useCodeCache: false,
      useSnapshot: false,
      // A small young generation: `list -o json` over 5,000 backups peaks at ≈ 150 MiB instead of ≈ 210 MiB,
      // and is no slower (fewer, cheaper scavenges).
      execArgv: ['--max-semi-space-size=2'],
    }),
  );
  execFileSync(hostNode, ['--build-sea', config], { stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' } });
  rmSync(config);
  chmodSync(exe, 0o755);
  // Building dropped Node's own signature; macOS on Apple silicon runs only code whose pages match their signature.
  if (os === 'darwin') {
    writeFileSync(exe, reserveCodeSignature(readFileSync(exe)));
    execFileSync(
      'cargo',
      ['run', '--release', '--locked', '--quiet', '--manifest-path', join(repo, 'tools/macho-sign/Cargo.toml'), '--', exe],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    const problems = machoSignatureProblems(readFileSync(exe));
    if (problems.length) fail(`${exe}: the ad-hoc signature is not valid: ${problems.join('; ')}`);
  }
  const name = `kubectl-pgbackup_v${version}_${os}_${arch}.tar.gz`;
  return { os, arch, bin, name, sha256: tar(name, dir) };
}

const krew = parse(readFileSync(join(pkgDir, 'krew/pgbackup.template.yaml'), 'utf8'));
krew.spec.version = `v${version}`;
krew.spec.platforms = archives.map(({ os, arch, bin, name, sha256 }) => ({
  selector: { matchLabels: { os, arch } },
  uri: `${baseUrl}/${name}`,
  sha256,
  bin,
}));
writeFileSync(join(releaseDir, 'pgbackup.yaml'), stringify(krew));
for (const { name, sha256 } of archives) console.log(`${name}  sha256 ${sha256}`);
console.log(
  `${join(releaseDir, 'pgbackup.yaml')}: Krew manifest for ${archives.length} platforms (Node.js ${SEA_NODE_VERSION} single executables)`,
);

function fail(message) {
  console.error(`release: ${message}`);
  process.exit(1);
}
