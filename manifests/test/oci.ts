// Runs a built image the way a container runtime does, without a kubelet: skopeo copies it from the local registry,
// umoci unpacks it into an OCI runtime bundle (the image's user, entrypoint + cmd, env and working directory become
// the bundle's config.json), runc runs it in its own namespaces.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ok, run, type Result } from './helpers.js';

/** The parts of an OCI runtime spec (config.json) the tests read and change. */
export interface Spec {
  process: { user: { uid: number; gid: number }; args: string[]; env: string[]; cwd: string; terminal: boolean };
  mounts: { destination: string; type: string; source: string; options: string[] }[];
  [k: string]: unknown;
}

export interface Bundle {
  dir: string;
  /** config.json as umoci made it from the image's config. */
  spec: Spec;
}

/** Copies `ref` (`host:port/repo@sha256:…`, plain HTTP) from the registry and unpacks it into a fresh bundle. */
export async function unpack(ref: string): Promise<Bundle> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pgbackup-oci-'));
  await ok('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${dir}/layout:image`], { timeoutMs: 300_000 });
  await ok('umoci', ['unpack', '--image', `${dir}/layout:image`, `${dir}/bundle`], { timeoutMs: 300_000 });
  rmSync(`${dir}/layout`, { recursive: true, force: true });
  return { dir, spec: JSON.parse(readFileSync(`${dir}/bundle/config.json`, 'utf8')) as Spec };
}

export interface Container {
  id: string;
  /** Output of the container's process so far. */
  log(): string;
  /** runc exec: a second process in the container, as the image's user. */
  exec(args: string[], env?: string[]): Promise<Result>;
  /** Kills and deletes the container. */
  remove(): Promise<void>;
}

const bindMount = (source: string, destination: string, readonly = true) => ({
  destination,
  type: 'bind',
  source,
  options: ['rbind', readonly ? 'ro' : 'rw'],
});

export interface RunSpec {
  /** Replaces the process's args (entrypoint + cmd). */
  args?: string[];
  /** Added to the image's environment (NAME=value). */
  env?: string[];
  /** host path → container path, read-only. */
  mounts?: Record<string, string>;
}

function writeSpec(bundle: Bundle, opts: RunSpec): void {
  const spec: Spec = structuredClone(bundle.spec);
  spec.process.terminal = false;
  if (opts.args) spec.process.args = opts.args;
  spec.process.env = [...spec.process.env, ...(opts.env ?? [])];
  for (const [src, dst] of Object.entries(opts.mounts ?? {})) spec.mounts.push(bindMount(src, dst));
  writeFileSync(`${bundle.dir}/bundle/config.json`, JSON.stringify(spec));
}

const newId = () => `pgbackup-test-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;

/** Runs the bundle's process to its end (runc run in the foreground): its exit code and output. */
export async function runToEnd(bundle: Bundle, opts: RunSpec = {}): Promise<Result> {
  writeSpec(bundle, opts);
  const id = newId();
  try {
    return await run('runc', ['run', '--bundle', `${bundle.dir}/bundle`, id], { timeoutMs: 120_000 });
  } finally {
    await run('runc', ['delete', '--force', id]);
  }
}

/** Starts the bundle's process detached (runc run -d), its output into a file. */
export async function start(bundle: Bundle, opts: RunSpec = {}): Promise<Container> {
  writeSpec(bundle, opts);
  const id = newId();
  const logFile = `${bundle.dir}/output.log`;
  mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a');
  try {
    // runc run -d hands the container its own copies of our stdio; a file keeps them apart from jest's.
    const code = await new Promise<number>((resolve, reject) => {
      const p = spawn('runc', ['run', '-d', '--bundle', `${bundle.dir}/bundle`, id], { stdio: ['ignore', fd, fd] });
      p.once('error', reject);
      p.once('exit', (c) => resolve(c ?? 1));
    });
    if (code !== 0) throw new Error(`runc run -d ${id} exited ${code}: ${readFileSync(logFile, 'utf8')}`);
  } finally {
    closeSync(fd);
  }
  return {
    id,
    log: () => readFileSync(logFile, 'utf8'),
    exec: (args, env = []) => run('runc', ['exec', ...env.flatMap((e) => ['--env', e]), id, ...args], { timeoutMs: 60_000 }),
    remove: async () => {
      await run('runc', ['kill', id, 'KILL']);
      await run('runc', ['delete', '--force', id]);
    },
  };
}

export const removeBundle = (bundle: Bundle) => rmSync(bundle.dir, { recursive: true, force: true });
