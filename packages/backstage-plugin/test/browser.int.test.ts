/**
 * @jest-environment node
 *
 * The dev page in a real browser (Debian's Chromium, headless, through playwright-core) against the
 * standalone pgbackup API on the local cluster (`npm run cluster:up`): a backup made with the CLI
 * shows up, "Back up now" runs to completed. Only `npm run screenshots` (PGBACKUP_SCREENSHOTS=1) saves the
 * pictures of the states only fixtures show (late, failed, error, missing annotation, fleet) to
 * packages/backstage-plugin/screenshots/ for the README (the tab, the card and Back up now come from the example app's
 * test): a plain test run leaves the committed PNGs alone.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { KUBECONFIG, MIN, ROOT, apply, eventually, k, kubectl, requireClusterUp } from '../../../tools/cluster/test/kube.js';
import { postgresStatefulSet } from '../../../tools/cluster/test/postgres.js';
import { createBackupWithCli, freePort, launchChromium, screenshots, startProcess } from './chromium.js';

const PKG = path.resolve(import.meta.dirname, '..');
const NS = `ui-${Date.now().toString(36)}`;
const TOKEN = 'ui-test-token';
const shot = screenshots(path.join(PKG, 'screenshots'));

/** Opens a dev page, through the dev app's guest sign-in when it asks. */
async function open(page: Page, url: string) {
  await page.goto(url);
  const enter = page.getByRole('button', { name: /^enter$/i });
  const content = page.getByText(/PostgreSQL backups|Missing Annotation/).first();
  await Promise.race([enter.waitFor({ timeout: MIN }), content.waitFor({ timeout: MIN })]);
  if (await enter.isVisible()) await enter.click();
  await content.waitFor({ timeout: MIN });
}

describe('the dev page in Chromium against the local cluster', () => {
  const log: string[] = [];
  let api: ChildProcess | undefined;
  let dev: ChildProcess | undefined;
  let apiUrl = '';
  let devUrl = '';
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    await requireClusterUp();
    await k(['create', 'namespace', NS]);
    await apply(NS, await postgresStatefulSet('pg', { simulated: true, password: 'postgres' }));

    const apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    api = startProcess(
      'pgbackup-api',
      [path.join(ROOT, 'packages/backstage-backend/bin/pgbackup-api.js')],
      {
        KUBECONFIG,
        PORT: String(apiPort),
        HOST: '127.0.0.1',
        PGBACKUP_AUTH: 'static-token',
        PGBACKUP_API_TOKEN: TOKEN,
        PGBACKUP_SHUTDOWN_GRACE_SECONDS: '2',
      },
      log,
    );
    const devPort = await freePort();
    devUrl = `http://127.0.0.1:${devPort}`;
    dev = startProcess(
      'dev-page',
      [path.join(PKG, 'dev/serve.mjs')],
      {
        PORT: String(devPort),
        PGBACKUP_API_URL: apiUrl,
        PGBACKUP_API_TOKEN: TOKEN,
        PGBACKUP_DEV_NAMESPACE: NS,
        PGBACKUP_DEV_STATEFULSET: 'pg',
      },
      log,
    );
    await eventually('pgbackup-api ready', 2 * MIN, async () => ((await fetch(`${apiUrl}/health/ready`)).ok ? true : undefined));
    await eventually('the dev page', 2 * MIN, async () => ((await fetch(`${devUrl}/live`)).ok ? true : undefined));
    await eventually(`StatefulSet ${NS}/pg ready`, 3 * MIN, async () => {
      const status = await fetch(`${apiUrl}/backup/statefulset/pg/status?namespace=${NS}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      const s = (await status.json()) as { readyReplicas?: number };
      return s.readyReplicas === 1 ? true : undefined;
    });

    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    // The dev app has no auth backend: accept the fallback to the guest token.
    page.on('dialog', (d) => void d.accept());
  }, 8 * MIN);

  afterAll(async () => {
    await browser?.close();
    api?.kill('SIGTERM');
    dev?.kill('SIGTERM');
    await kubectl(['delete', 'namespace', NS, '--wait=false']).catch(() => undefined);
    if (process.env.PGBACKUP_UI_TEST_LOG) console.log(log.join(''));
  }, MIN);

  it(
    'shows a backup made with the CLI, then backs up now until completed',
    async () => {
      const cliBackup = await createBackupWithCli(NS, 'pg');
      expect(cliBackup).toMatch(/^pg-/);

      // The entity page's Overview tab: the card.
      await open(page, `${devUrl}/live`);
      const card = page.getByTestId('pgbackup-card');
      await card.getByText(cliBackup).first().waitFor({ timeout: MIN });

      // Its Backups tab: the summary, Back up now and the table.
      await open(page, `${devUrl}/live/backups`);
      const tab = page.getByTestId('pgbackup-tab');
      await tab.getByRole('link', { name: `Details of backup ${cliBackup}` }).waitFor({ timeout: MIN });

      await tab.getByRole('button', { name: 'Back up now' }).click();
      const progress = tab.getByRole('status');
      await progress
        .getByText(/in progress|Starting/)
        .first()
        .waitFor({ timeout: MIN })
        .catch(async (e: Error) => {
          throw new Error(`${e.message}\nthe progress said: ${await progress.innerText()}`);
        });
      await progress.getByText('Completed').waitFor({ timeout: 3 * MIN });
      const text = await progress.innerText();
      const newId = /Backup (pg-[a-z0-9-]+)/.exec(text)?.[1];
      expect(newId).toBeDefined();
      expect(newId).not.toBe(cliBackup);
      await tab.getByRole('link', { name: `Details of backup ${newId}` }).waitFor({ timeout: MIN });

      await tab.getByRole('link', { name: `Details of backup ${newId}` }).click();
      await tab.getByText('VolumeSnapshots', { exact: true }).waitFor();
    },
    8 * MIN,
  );

  it.each([
    ['late', '/late/backups'],
    ['failed', '/failed/backups?backup=orders-db-20261125t030000z'],
    ['error', '/error/backups'],
    ['missing-annotation', '/missing-annotation/backups'],
    ['missing-annotation-card', '/missing-annotation'],
    ['fleet', '/fleet'],
  ])(
    'renders the %s fixture page',
    async (name, route) => {
      await open(page, `${devUrl}${route}`);
      await page.waitForTimeout(500);
      await shot(page, `state-${name}`);
    },
    2 * MIN,
  );
});
