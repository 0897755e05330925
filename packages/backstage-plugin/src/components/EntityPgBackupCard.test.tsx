import { EntityProvider } from '@backstage/plugin-catalog-react';
import { mockApis, renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { screen } from '@testing-library/react';
import type { Entity } from '@backstage/catalog-model';
import { pgBackupApiRef } from '../api/types.js';
import { entity, entityWithoutAnnotations, FakePgBackupApi, lateStatus, missingStatus, problem } from '../__fixtures__/index.js';
import { EntityPgBackupCard } from './EntityPgBackupCard.js';

function renderCard(api: FakePgBackupApi, e: Entity = entity) {
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [pgBackupApiRef, api],
        [permissionApiRef, mockApis.permission()],
      ]}
    >
      <EntityProvider entity={e}>
        <EntityPgBackupCard />
      </EntityProvider>
    </TestApiProvider>,
  );
}

describe('EntityPgBackupCard', () => {
  it('shows fresh, the newest backup, the last verification with its restore time and the next run', async () => {
    await renderCard(new FakePgBackupApi());
    expect(await screen.findByText('Fresh: on schedule')).toBeInTheDocument();
    expect(screen.getByText('StatefulSet shop/orders-db')).toBeInTheDocument();
    expect(screen.getAllByText(/orders-db-20261125t020000z/).length).toBeGreaterThan(0);
    expect(await screen.findByText(/Passed, restored in 42s/)).toBeInTheDocument();
    expect(screen.getByText(/cron 0 2 \* \* \* \(UTC\)/)).toBeInTheDocument();
    expect(screen.getByText(/^in 2[12] h$/)).toBeInTheDocument();
  });

  it('says late, with words and an icon, when the scheduled backup did not complete', async () => {
    await renderCard(new FakePgBackupApi({ status: lateStatus() }));
    const late = await screen.findByText(/Late by 120m/);
    expect(late).toBeInTheDocument();
    expect(late.closest('span')?.querySelector('svg')).not.toBeNull();
  });

  it('says missing when no backup ever completed', async () => {
    await renderCard(new FakePgBackupApi({ status: missingStatus(), backups: [] }));
    expect(await screen.findByText('Missing: no completed backup')).toBeInTheDocument();
    expect(screen.getByText('None yet')).toBeInTheDocument();
    expect(screen.getByText('Never verified')).toBeInTheDocument();
  });

  it('shows a progress bar while loading', async () => {
    await renderCard(new FakePgBackupApi({ status: 'pending' }));
    expect(screen.getByText('PostgreSQL backups')).toBeInTheDocument();
    expect(screen.queryByText(/Fresh/)).toBeNull();
  });

  it("shows the problem's detail and hint when the API fails", async () => {
    await renderCard(
      new FakePgBackupApi({
        error: problem(
          503,
          'Service Unavailable',
          'The Kubernetes API at https://10.0.0.1:6443 did not answer within 10s.',
          'Check the cluster and retry.',
        ),
      }),
    );
    expect(await screen.findByText(/did not answer within 10s/)).toBeInTheDocument();
    expect(screen.getByText('Check the cluster and retry.')).toBeInTheDocument();
    expect(screen.getAllByText(/Could not load/)).toHaveLength(1);
    expect(screen.getByText(/Could not load backup status: Service Unavailable/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Retry' })).toBeInTheDocument();
  });

  it('explains a denied read instead of an error', async () => {
    await renderCard(
      new FakePgBackupApi({ error: problem(403, 'Forbidden', 'user:default/guest may not read backups of component:default/orders') }),
    );
    expect(await screen.findByText('You do not have access to the backup status of this entity')).toBeInTheDocument();
  });

  it('names the StatefulSet that cannot be read while the API itself answers', async () => {
    await renderCard(new FakePgBackupApi({ status: problem(404, 'Not Found', 'StatefulSet shop/orders-db not found') }));
    expect(await screen.findByText('StatefulSet shop/orders-db not found')).toBeInTheDocument();
  });

  it("shows Backstage's missing-annotation state with the YAML to add, its columns stacked to fit the card", async () => {
    const api = new FakePgBackupApi();
    await renderCard(api, entityWithoutAnnotations);
    const state = screen.getByText('Missing Annotation');
    expect(screen.getAllByText(/pgbackup\.io\/statefulset/).length).toBeGreaterThan(0);
    // Stacked: the EmptyState's half-width grid columns take the card's whole width (the YAML is not cut).
    const column = state.closest('[class*="MuiGrid-grid-md-6"]')!;
    expect(getComputedStyle(column).maxWidth).toBe('100%');
    expect(api.calls).toEqual([]);
  });

  it('keeps the newest backup id on one line with a copy button', async () => {
    await renderCard(new FakePgBackupApi());
    await screen.findByText('Fresh: on schedule');
    const id = screen.getAllByTitle('orders-db-20261125t020000z')[0]!;
    expect(id).toHaveStyle({ whiteSpace: 'nowrap', fontFamily: 'monospace' });
    expect(screen.getAllByRole('button', { name: 'Copy backup id orders-db-20261125t020000z' }).length).toBeGreaterThan(0);
  });
});
