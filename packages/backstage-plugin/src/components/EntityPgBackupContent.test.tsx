import type { Entity } from '@backstage/catalog-model';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { mockApis, renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { pgBackupApiRef } from '../api/types.js';
import {
  entity,
  entityWithoutAnnotations,
  failedBackup,
  FakePgBackupApi,
  healthyBackups,
  problem,
  unscheduledStatus,
} from '../__fixtures__/index.js';
import { formatTime } from './format.js';
import { EntityPgBackupContent } from './EntityPgBackupContent.js';

function renderTab(api: FakePgBackupApi, options: { allow?: boolean; e?: Entity; route?: string; refreshIntervalMs?: number } = {}) {
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [pgBackupApiRef, api],
        [permissionApiRef, mockApis.permission({ authorize: options.allow === false ? AuthorizeResult.DENY : AuthorizeResult.ALLOW })],
      ]}
    >
      <EntityProvider entity={options.e ?? entity}>
        <EntityPgBackupContent pollIntervalMs={10} refreshIntervalMs={options.refreshIntervalMs} />
      </EntityProvider>
    </TestApiProvider>,
    options.route ? { routeEntries: [options.route] } : undefined,
  );
}

describe('EntityPgBackupContent', () => {
  it('lists every backup with type, status, method, size, age, pinned and verified', async () => {
    await renderTab(new FakePgBackupApi());
    expect(await screen.findByText('Backups (3)')).toBeInTheDocument();
    const row = screen.getByRole('link', { name: 'Details of backup orders-db-20261125t020000z' }).closest('tr')!;
    const cells = within(row);
    expect(cells.getByText('scheduled')).toBeInTheDocument();
    expect(cells.getByText('Completed')).toBeInTheDocument();
    expect(cells.getByText('CHECKPOINT + snapshot')).toBeInTheDocument();
    expect(cells.getByText('1.5 GiB')).toBeInTheDocument();
    expect(cells.getByText('2 h ago')).toBeInTheDocument();
    expect(cells.getByText('Verified')).toBeInTheDocument();
    const pinnedRow = screen.getByRole('link', { name: 'Details of backup orders-db-20261124t020000z' }).closest('tr')!;
    expect(within(pinnedRow).getByText('pinned')).toBeInTheDocument();
  });

  it('shows one summary card and one table: freshness, replicas and the next run once each', async () => {
    await renderTab(new FakePgBackupApi());
    expect(await screen.findByText('Backups (3)')).toBeInTheDocument();
    expect(screen.getAllByText('StatefulSet shop/orders-db')).toHaveLength(1);
    expect(screen.getAllByText('Fresh: on schedule')).toHaveLength(1);
    expect(screen.getAllByText('Replicas')).toHaveLength(1);
    expect(screen.getByText('1 of 1 ready')).toBeInTheDocument();
    expect(screen.getByText('orders-db-0 (ready)')).toBeInTheDocument();
    expect(screen.getAllByText('Next scheduled run')).toHaveLength(1);
    expect(screen.getAllByRole('table').filter((t) => within(t).queryAllByRole('link', { name: /Details of backup/ }).length)).toHaveLength(
      1,
    );
  });

  it('says "Not scheduled" for the next run of a StatefulSet without a schedule, and nothing else', async () => {
    await renderTab(new FakePgBackupApi({ status: unscheduledStatus() }));
    expect(await screen.findByText('Not scheduled')).toBeInTheDocument();
    expect(screen.getByText('No schedule: backups are manual only')).toBeInTheDocument();
    expect(screen.queryByText('—')).toBeNull();
  });

  it("renders the table's cells and the create-denied message in the theme's typography, not the page's serif font", async () => {
    const restricted = { ...entity, metadata: { ...entity.metadata, name: 'orders-typography' } };
    await renderTab(new FakePgBackupApi(), { allow: false, e: restricted });
    await screen.findByText('Backups (3)');
    const row = within(screen.getByRole('link', { name: 'Details of backup orders-db-20261125t020000z' }).closest('tr')!);
    for (const text of ['scheduled', 'CHECKPOINT + snapshot', '1.5 GiB', 'no']) {
      expect(row.getByText(text).closest('.MuiTypography-root')).not.toBeNull();
    }
    const denied = await screen.findByText(/your permissions do not allow starting one/);
    expect(denied.closest('.MuiTypography-root')).not.toBeNull();
  });

  it('has no empty filter panel above the table', async () => {
    await renderTab(new FakePgBackupApi());
    await screen.findByText('Backups (3)');
    expect(screen.queryByText(/Filters/)).toBeNull();
  });

  it('keeps backup ids on one line: monospace, cut with an ellipsis, the full id on hover, with a copy button', async () => {
    await renderTab(new FakePgBackupApi());
    const link = await screen.findByRole('link', { name: 'Details of backup orders-db-20261125t020000z' });
    expect(link).toHaveAttribute('title', 'orders-db-20261125t020000z');
    expect(link).toHaveStyle({ whiteSpace: 'nowrap', fontFamily: 'monospace', textOverflow: 'ellipsis', overflow: 'hidden' });
    expect(within(link.closest('tr')!).getByRole('button', { name: 'Copy backup id orders-db-20261125t020000z' })).toBeInTheDocument();
  });

  it('says when in words ("2 h ago"), with the absolute time on hover', async () => {
    await renderTab(new FakePgBackupApi());
    const row = within((await screen.findByRole('link', { name: 'Details of backup orders-db-20261125t020000z' })).closest('tr')!);
    const when = row.getByText('2 h ago');
    expect(when.tagName).toBe('TIME');
    expect(when).toHaveAttribute('title', formatTime(when.getAttribute('datetime')!));
    expect(when.getAttribute('title')).toMatch(/\d/);
  });

  it('filters the table by search text', async () => {
    await renderTab(new FakePgBackupApi());
    await screen.findByText('Backups (3)');
    fireEvent.change(screen.getByPlaceholderText('Filter'), { target: { value: '20261123' } });
    await waitFor(() => expect(screen.queryByRole('link', { name: /orders-db-20261125t020000z/ })).toBeNull());
    expect(screen.getByRole('link', { name: /orders-db-20261123t091500z/ })).toBeInTheDocument();
  });

  it('sorts by size when the column header is clicked', async () => {
    await renderTab(new FakePgBackupApi());
    await screen.findByText('Backups (3)');
    fireEvent.click(screen.getByRole('button', { name: 'Size' }));
    const ids = screen.getAllByRole('link', { name: /Details of backup/ }).map((a) => a.textContent);
    expect(ids[0]).toBe('orders-db-20261123t091500z');
  });

  it('shows a failed backup with its error, and its snapshots in the detail view', async () => {
    const failed = failedBackup();
    await renderTab(new FakePgBackupApi({ backups: [failed, ...healthyBackups()] }), { route: `/?backup=${failed.id}` });
    expect(await screen.findByText(`Backup ${failed.id}`)).toBeInTheDocument();
    expect(screen.getByText(/This backup failed/)).toBeInTheDocument();
    expect(screen.getAllByText(/storage is full/).length).toBeGreaterThan(0);
    expect(screen.getByText('VolumeSnapshots')).toBeInTheDocument();
    expect(screen.getByText('data-orders-db-0')).toBeInTheDocument();
    expect(screen.getAllByText('Failed').length).toBeGreaterThan(0);
    // The theme's body text, not the page's font a bare link inherits.
    expect(screen.getByRole('link', { name: 'Close backup details' }).closest('.MuiTypography-body2')).not.toBeNull();
  });

  it("labels the detail view's facts as written, not start-cased", async () => {
    await renderTab(new FakePgBackupApi(), { route: '/?backup=orders-db-20261125t020000z' });
    expect(await screen.findByText('Backup orders-db-20261125t020000z')).toBeInTheDocument();
    expect(screen.getByText('PostgreSQL version')).toBeInTheDocument();
    expect(screen.getByText('Point-in-time cut')).toBeInTheDocument();
    expect(screen.getByText('LSN')).toBeInTheDocument();
    expect(screen.queryByText(/Postgre SQL|Point In Time/)).toBeNull();
  });

  it('opens the detail view from the table by keyboard-reachable links', async () => {
    await renderTab(new FakePgBackupApi());
    const link = await screen.findByRole('link', { name: 'Details of backup orders-db-20261124t020000z' });
    expect(link).toHaveAttribute('href', expect.stringContaining('?backup=orders-db-20261124t020000z'));
    fireEvent.click(link);
    expect(await screen.findByText('Backup orders-db-20261124t020000z')).toBeInTheDocument();
    expect(screen.getByText('Yes: kept by prune')).toBeInTheDocument();
  });

  it('backs up now: shows progress until the backup completes, then lists it', async () => {
    const api = new FakePgBackupApi();
    api.completeAfterPolls = 2;
    await renderTab(api);
    await screen.findByText('Backups (3)');
    fireEvent.click(await screen.findByRole('button', { name: 'Back up now' }));
    expect(await screen.findByText(/in progress: 0 of 1 VolumeSnapshot ready/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Backing up…' })).toBeDisabled();
    const status = screen.getByRole('status');
    await waitFor(() => expect(within(status).getByText('Completed')).toBeInTheDocument());
    expect(await screen.findByText('Backups (4)')).toBeInTheDocument();
    expect(api.calls).toContain('create');
    expect(screen.getByRole('button', { name: 'Back up now' })).toBeEnabled();
  });

  it('backs up now: says so when the backup fails', async () => {
    const api = new FakePgBackupApi();
    api.createdStatus = 'failed';
    await renderTab(api);
    fireEvent.click(await screen.findByRole('button', { name: 'Back up now' }));
    const status = screen.getByRole('status');
    await waitFor(() => expect(within(status).getByText('Failed')).toBeInTheDocument());
    expect(within(status).getByText('VolumeSnapshot failed: storage is full')).toBeInTheDocument();
  });

  it("backs up now: shows the problem's message when the API refuses", async () => {
    const api = new FakePgBackupApi({
      createError: problem(
        409,
        'Conflict',
        'a backup of shop/orders-db is already running (lease held by cronjob/orders-db-backup)',
        'wait for it to finish',
      ),
    });
    await renderTab(api);
    fireEvent.click(await screen.findByRole('button', { name: 'Back up now' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      /already running \(lease held by cronjob\/orders-db-backup\)\.? Next step: wait for it to finish/,
    );
  });

  it('disables "Back up now" and says why when the create permission is denied', async () => {
    // usePermission caches answers per entity ref for the whole file (SWR): use an entity of its own.
    const restricted = { ...entity, metadata: { ...entity.metadata, name: 'orders-restricted' } };
    await renderTab(new FakePgBackupApi(), { allow: false, e: restricted });
    expect(await screen.findByText('Backups (3)')).toBeInTheDocument();
    expect(await screen.findByText(/your permissions do not allow starting one/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Back up now' })).toBeDisabled();
  });

  it('shows a backup made meanwhile by another client without a reload', async () => {
    const api = new FakePgBackupApi();
    await renderTab(api, { refreshIntervalMs: 200 });
    await screen.findByText('Backups (3)');
    api.backups.unshift({ ...api.backups[0]!, id: 'orders-db-20261126t020000z' });
    expect(await screen.findByText('Backups (4)', undefined, { timeout: 5000 })).toBeInTheDocument();
  });

  it('shows a denied page when the read is refused', async () => {
    await renderTab(new FakePgBackupApi({ error: problem(403, 'Forbidden', 'not allowed') }));
    expect(await screen.findByText('You do not have access to the backups of this entity')).toBeInTheDocument();
    expect(screen.queryByText(/Backups \(/)).toBeNull();
  });

  it("shows one error panel with the problem's message and a retry button when the API fails, and disables Back up now", async () => {
    const api = new FakePgBackupApi({
      error: problem(503, 'Service Unavailable', 'the Kubernetes API did not answer', 'check the cluster'),
    });
    await renderTab(api);
    expect(await screen.findByText(/Could not load backups: Service Unavailable/)).toBeInTheDocument();
    expect(screen.getAllByText(/Could not load/)).toHaveLength(1);
    expect(screen.getAllByText('the Kubernetes API did not answer')).toHaveLength(1);
    expect(screen.getByText('check the cluster')).toBeInTheDocument();
    expect(await screen.findByRole('button', { name: 'Back up now' })).toBeDisabled();
    expect(screen.getByText(/The pgbackup backend does not answer/)).toBeInTheDocument();
    api.error = undefined;
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText('Backups (3)')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Back up now' })).toBeEnabled();
  });

  it('shows an empty state with the commands when there is no backup yet', async () => {
    await renderTab(new FakePgBackupApi({ backups: [] }));
    expect(await screen.findByText('No backups of orders-db yet')).toBeInTheDocument();
    expect(
      screen.getAllByText(
        (_, el) => el?.tagName === 'CODE' && /kubectl pgbackup create orders-db -n shop --wait/.test(el.textContent ?? ''),
      ).length,
    ).toBeGreaterThan(0);
  });

  it('shows a progress indicator while loading', async () => {
    await renderTab(new FakePgBackupApi({ status: 'pending' }));
    expect(screen.getAllByRole('progressbar').length).toBeGreaterThan(0);
  });

  it("shows Backstage's missing-annotation state, with the YAML to add, when the annotation is missing", async () => {
    const api = new FakePgBackupApi();
    await renderTab(api, { e: entityWithoutAnnotations });
    expect(screen.getByText('Missing Annotation')).toBeInTheDocument();
    expect(screen.getAllByText(/pgbackup\.io\/statefulset/).length).toBeGreaterThan(0);
    expect(api.calls).toEqual([]);
  });
});
