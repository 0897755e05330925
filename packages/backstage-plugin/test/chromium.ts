// Test support of the browser tests (the plugin's dev page, the example app): Debian's Chromium through
// playwright-core, free ports, child processes whose output is kept for a failure, and the README's screenshots.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { KUBECONFIG, MIN, ROOT, ok } from '../../../tools/cluster/test/kube.js';

export type { Browser, Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const WRITE_SHOTS = process.env.PGBACKUP_SCREENSHOTS === '1';

export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** A child process (Node.js unless `program` says otherwise); its output goes to `log`. */
export function startProcess(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  log: string[],
  opts: { program?: string; cwd?: string } = {},
): ChildProcess {
  const child = spawn(opts.program ?? process.execPath, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => log.push(`${name}: ${d}`));
  child.stderr?.on('data', (d: Buffer) => log.push(`${name}: ${d}`));
  return child;
}

/** SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves once it has exited. */
export async function stopProcess(child: ChildProcess, log: string[], graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    log.push(`${child.spawnfile} ${child.pid}: still running ${graceMs} ms after SIGTERM, killed\n`);
    child.kill('SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

/** Saves pictures for a README into `dir`, under `npm run screenshots` (PGBACKUP_SCREENSHOTS=1) only. */
export function screenshots(dir: string) {
  if (WRITE_SHOTS) mkdirSync(dir, { recursive: true });
  return async (target: Page | Locator, name: string) => {
    if (!WRITE_SHOTS) return;
    const file = path.join(dir, `${name}.png`);
    await ('goto' in target ? target.screenshot({ path: file, fullPage: true }) : target.screenshot({ path: file }));
  };
}

const BROWSER_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Headless Chromium (`apt-get install chromium`). */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no ${CHROMIUM}: apt-get install -y chromium`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: BROWSER_ARGS });
}

/** A backup made beside the browser, by `kubectl pgbackup create --wait` (what the backup CronJob runs): its id. */
export async function createBackupWithCli(ns: string, statefulSet: string): Promise<string> {
  const cli = path.join(ROOT, 'packages/kubectl-pgbackup/bin/run.js');
  const args = [cli, 'create', statefulSet, '-n', ns, '--wait', '--timeout', '3m', '-o', 'json', '--kubeconfig', KUBECONFIG];
  const out = await ok(process.execPath, args, { timeoutMs: 5 * MIN });
  return (JSON.parse(out) as { id: string }).id;
}
