import type { Entity } from '@backstage/catalog-model';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { mockApis, renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { pgBackupApiRef } from '../api/types.js';
import { entity, entityWithoutAnnotations, failedBackup, FakePgBackupApi, healthyBackups, problem } from '../__fixtures__/index.js';
import { EntityPgBackupContent } from './EntityPgBackupContent.js';

function renderTab(api: FakePgBackupApi, options: { allow?: boolean; e?: Entity; route?: string } = {}) {
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [pgBackupApiRef, api],
        [permissionApiRef, mockApis.permission({ authorize: options.allow === false ? AuthorizeResult.DENY : AuthorizeResult.ALLOW })],
      ]}
    >
      <EntityProvider entity={options.e ?? entity}>
        <EntityPgBackupContent pollIntervalMs={10} />
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
    expect(cells.getByText('120m')).toBeInTheDocument();
    expect(cells.getByText('Verified')).toBeInTheDocument();
    const pinnedRow = screen.getByRole('link', { name: 'Details of backup orders-db-20261124t020000z' }).closest('tr')!;
    expect(within(pinnedRow).getByText('pinned')).toBeInTheDocument();
  });

  it('shows the StatefulSet replicas and freshness', async () => {
    await renderTab(new FakePgBackupApi());
    expect(await screen.findByText('StatefulSet shop/orders-db')).toBeInTheDocument();
    expect(screen.getByText('1 desired · 1 ready · 1 current · 1 updated')).toBeInTheDocument();
    expect(screen.getByText('Fresh: on schedule')).toBeInTheDocument();
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
    expect(screen.getByRole('link', { name: 'Close backup details' })).toBeInTheDocument();
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

  it('hides "Back up now" when the create permission is denied', async () => {
    // usePermission caches answers per entity ref for the whole file (SWR): use an entity of its own.
    const restricted = { ...entity, metadata: { ...entity.metadata, name: 'orders-restricted' } };
    await renderTab(new FakePgBackupApi(), { allow: false, e: restricted });
    expect(await screen.findByText('Backups (3)')).toBeInTheDocument();
    expect(await screen.findByText(/your permissions do not allow starting one/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Back up now' })).toBeNull();
  });

  it('shows a denied page when the read is refused', async () => {
    await renderTab(new FakePgBackupApi({ error: problem(403, 'Forbidden', 'not allowed') }));
    expect(await screen.findByText('You do not have access to the backups of this entity')).toBeInTheDocument();
    expect(screen.queryByText(/Backups \(/)).toBeNull();
  });

  it("shows the problem's message and a retry button when the API fails", async () => {
    const api = new FakePgBackupApi({
      error: problem(503, 'Service Unavailable', 'the Kubernetes API did not answer', 'check the cluster'),
    });
    await renderTab(api);
    expect((await screen.findAllByText('the Kubernetes API did not answer')).length).toBeGreaterThan(0);
    api.error = undefined;
    fireEvent.click(screen.getAllByRole('button', { name: 'Retry' })[0]!);
    expect(await screen.findByText('Backups (3)')).toBeInTheDocument();
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

  it('shows the YAML to add when the annotations are missing', async () => {
    const api = new FakePgBackupApi();
    await renderTab(api, { e: entityWithoutAnnotations });
    expect(screen.getByText('No PostgreSQL StatefulSet is linked to this entity')).toBeInTheDocument();
    expect(api.calls).toEqual([]);
  });
});
