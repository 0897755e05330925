/**
 * The example Backstage app in Chromium against the local cluster: its backend (@backstage/backend-defaults with the
 * catalog, auth, the permission policy and pgbackup) on a PostgreSQL of the host, its frontend (@backstage/frontend-defaults
 * with the catalog and pgbackup) as `npm start` serves it. The guest goes catalog → entity → Backups → "Back up now" →
 * completed, and sees a backup made meanwhile by the CLI without a reload; the viewer sees the button disabled and why.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { KUBECONFIG, MIN, apply, eventually, k, kubectl, ok, requireClusterUp, run } from '../../../tools/cluster/test/kube.js';
import { postgresStatefulSet, waitStatefulSetReady } from '../../../tools/cluster/test/postgres.js';
import {
  type Browser,
  createBackupWithCli,
  freePort,
  launchChromium,
  type Page,
  screenshots,
  startProcess,
  stopProcess,
} from '../../../packages/backstage-plugin/test/chromium.js';

const EXAMPLE = path.resolve(import.meta.dirname, '..');
const NS = `app-${Date.now().toString(36)}`;
const DB = 'orders-db';
const ENTITY = '/catalog/default/component/orders';
const PG_BIN = '/usr/lib/postgresql/15/bin';
// The plugin README's pictures come from this app (the dev page's test adds the states only fixtures can show).
const shot = screenshots(path.resolve(EXAMPLE, '../../packages/backstage-plugin/screenshots'));

/** A throwaway PostgreSQL on the host for the backend's database (PostgreSQL refuses to run as root: as `postgres` then). */
async function hostPostgres(dir: string, port: number, log: string[]): Promise<ChildProcess> {
  const root = process.getuid?.() === 0;
  const asOwner = (program: string, args: string[]): [string, string[]] =>
    root ? ['runuser', ['-u', 'postgres', '--', path.join(PG_BIN, program), ...args]] : [path.join(PG_BIN, program), args];
  if (root) chownSync(dir, Number(await ok('id', ['-u', 'postgres'])), Number(await ok('id', ['-g', 'postgres'])));
  const data = path.join(dir, 'data');
  await ok(...asOwner('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync']));
  const [program, args] = asOwner('postgres', [
    '-D',
    data,
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=off',
  ]);
  const child = startProcess('postgres', args, {}, log, { program });
  await eventually('the host PostgreSQL', MIN, async () =>
    (await run(path.join(PG_BIN, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port)])).code === 0 ? true : undefined,
  );
  return child;
}

/** Signs in on the example's sign-in page as `who` (a fresh browser context each: the choice is kept in localStorage). */
async function signIn(browser: Browser, appUrl: string, who: 'Guest' | 'Viewer'): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  await page.goto(`${appUrl}/catalog`);
  await page.getByRole('button', { name: `Sign in as ${who}` }).click();
  return page;
}

/** catalog → the entity (its Overview, with pgbackup's card) → its Backups tab, by clicks as a user does. */
async function openBackupsTab(page: Page) {
  await page.getByRole('link', { name: 'orders', exact: true }).click({ timeout: 2 * MIN });
  await page.getByText(`StatefulSet ${NS}/${DB}`).waitFor({ timeout: MIN });
  await shot(page.locator('.MuiCard-root').filter({ hasText: 'PostgreSQL backups' }), 'card');
  await page.getByRole('link', { name: 'Backups', exact: true }).click({ timeout: MIN });
  await page.getByRole('button', { name: 'Back up now' }).waitFor({ timeout: MIN });
}

describe('the example Backstage app in Chromium against the local cluster', () => {
  const log: string[] = [];
  const children: ChildProcess[] = [];
  let appUrl = '';
  let tmp = '';
  let browser: Browser | undefined;

  beforeAll(async () => {
    await requireClusterUp();
    await k(['create', 'namespace', NS]);
    // Still the simulated PostgreSQL on kwok's node (tools/cluster/README.md lists the suites not yet on the real node).
    await apply(NS, await postgresStatefulSet(DB, { password: 'postgres', simulated: true }));
    // The StatefulSet names the entity back (packages/backstage-backend/README.md).
    await k(['annotate', 'statefulset', DB, '-n', NS, 'pgbackup.io/backstage-entity=component:default/orders']);

    tmp = mkdtempSync(path.join(tmpdir(), 'pgbackup-example-'));
    const [pgPort, backendPort, appPort] = [await freePort(), await freePort(), await freePort()];
    children.push(await hostPostgres(tmp, pgPort, log));

    // The example's catalog with the test's namespace; the example's config with the test's ports.
    const entities = parseAllDocuments(readFileSync(path.join(EXAMPLE, 'catalog-info.yaml'), 'utf8')).map((d) => d.toJS());
    entities[0].metadata.annotations['backstage.io/kubernetes-namespace'] = NS;
    writeFileSync(path.join(tmp, 'catalog-info.yaml'), entities.map((e) => stringify(e)).join('---\n'));
    appUrl = `http://127.0.0.1:${appPort}`;
    const backendUrl = `http://127.0.0.1:${backendPort}`;
    const testConfig = path.join(tmp, 'app-config.test.yaml');
    writeFileSync(
      testConfig,
      stringify({
        app: { baseUrl: appUrl },
        backend: { baseUrl: backendUrl, listen: { host: '127.0.0.1', port: backendPort }, cors: { origin: appUrl } },
        catalog: { locations: [{ type: 'file', target: path.join(tmp, 'catalog-info.yaml') }] },
      }),
    );
    const configArgs = ['--config', path.join(EXAMPLE, 'app-config.yaml'), '--config', testConfig];
    const env = { KUBECONFIG, POSTGRES_HOST: '127.0.0.1', POSTGRES_PORT: String(pgPort), POSTGRES_USER: 'postgres', POSTGRES_PASSWORD: '' };
    children.push(startProcess('backend', ['dist/index.js', ...configArgs], env, log, { cwd: path.join(EXAMPLE, 'packages/backend') }));
    children.push(startProcess('app', ['scripts/start.mjs', ...configArgs], {}, log, { cwd: path.join(EXAMPLE, 'packages/app') }));

    await eventually('the backend', 3 * MIN, async () =>
      (await fetch(`${backendUrl}/.backstage/health/v1/readiness`).catch(() => undefined))?.ok ? true : undefined,
    );
    await eventually('the app', 2 * MIN, async () => ((await fetch(appUrl).catch(() => undefined))?.ok ? true : undefined));
    await waitStatefulSetReady(NS, DB);
    browser = await launchChromium();
  }, 8 * MIN);

  afterAll(async () => {
    await browser?.close();
    for (const child of children.reverse()) await stopProcess(child, log);
    await kubectl(['delete', 'namespace', NS, '--wait=false']).catch(() => undefined);
    if (process.env.PGBACKUP_UI_TEST_LOG) console.log(log.join(''));
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }, 2 * MIN);

  it(
    'lets the guest back up now from the entity page until completed, and shows a backup made meanwhile by the CLI without a reload',
    async () => {
      const page = await signIn(browser!, appUrl, 'Guest');
      await openBackupsTab(page);
      expect(page.url()).toBe(`${appUrl}${ENTITY}/backups`);

      await page.getByRole('button', { name: 'Back up now' }).click();
      const progress = page.locator('#pgbackup-backup-now-progress');
      if (
        await progress
          .getByText(/in progress/)
          .waitFor({ timeout: MIN })
          .then(
            () => true,
            () => false,
          )
      )
        await shot(page, 'back-up-now-progress');
      await progress.getByText('Completed').waitFor({ timeout: 3 * MIN });
      const id = /Backup ([a-z0-9-]+)/.exec(await progress.innerText())?.[1];
      expect(id).toMatch(new RegExp(`^${DB}-`));
      await page.getByRole('link', { name: `Details of backup ${id}` }).waitFor({ timeout: MIN });
      await shot(page, 'back-up-now-completed');

      const cliBackup = await createBackupWithCli(NS, DB);
      await page.getByRole('link', { name: `Details of backup ${cliBackup}` }).waitFor({ timeout: MIN });
      expect(page.url()).toBe(`${appUrl}${ENTITY}/backups`);
      await shot(page, 'tab');

      // The same tab in the app's dark theme (the theme Backstage's settings page would store).
      await page.evaluate(() => localStorage.setItem('theme', 'dark'));
      await page.reload();
      await page.getByRole('link', { name: `Details of backup ${cliBackup}` }).waitFor({ timeout: MIN });
      await shot(page, 'tab-dark');
      await page.getByRole('link', { name: `Details of backup ${cliBackup}` }).click();
      await page.getByText('VolumeSnapshots', { exact: true }).waitFor({ timeout: MIN });
      await shot(page, 'backup-detail');
    },
    8 * MIN,
  );

  it(
    'shows the viewer the backups, and "Back up now" disabled with the reason',
    async () => {
      const page = await signIn(browser!, appUrl, 'Viewer');
      await openBackupsTab(page);
      await page.getByText('your permissions do not allow starting one', { exact: false }).waitFor({ timeout: MIN });
      expect(await page.getByRole('button', { name: 'Back up now' }).isDisabled()).toBe(true);
      await shot(page, 'state-denied');
    },
    3 * MIN,
  );
});
