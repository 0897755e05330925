import { catalogApiRef } from '@backstage/plugin-catalog-react';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { entityWithoutAnnotations, fleet } from '../__fixtures__/index.js';
import { pgBackupApiRef } from '../api/types.js';
import { FleetPage, loadFleet } from './FleetPage.js';

function renderFleet() {
  const { entities, api } = fleet();
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [catalogApiRef, catalogApiMock({ entities: [...entities, entityWithoutAnnotations] })],
        [pgBackupApiRef, api],
      ]}
    >
      <FleetPage />
    </TestApiProvider>,
  );
}

const rowOf = (text: string) => screen.getByText(text).closest('tr')!;

describe('the fleet page', () => {
  it('lists every database the reader may see, the worst on top', async () => {
    const { entities, api } = fleet();
    const rows = await loadFleet(api, entities);
    expect(rows.map((r) => [r.title, r.health])).toEqual([
      ['audit', 'unreadable'],
      ['ledger', 'failed'],
      ['billing', 'late'],
      ['orders', 'ok'],
    ]);
    expect(rows.find((r) => r.title === 'audit')?.error).toMatch(/did not answer/);
  });

  it('shows health, freshness, newest completed backup and last verification for each database; no row for a refused read', async () => {
    await renderFleet();
    expect(await screen.findByText('Databases (4)')).toBeInTheDocument();
    expect(screen.queryByText('secret')).toBeNull();
    const orders = within(rowOf('orders'));
    expect(orders.getByText('Healthy')).toBeInTheDocument();
    expect(orders.getByText('Fresh: on schedule')).toBeInTheDocument();
    expect(orders.getByText('2 h ago')).toBeInTheDocument();
    expect(orders.getByText('Verified')).toBeInTheDocument();
    expect(orders.getByText('team-orders')).toBeInTheDocument();
    expect(within(rowOf('billing')).getByText(/Late by 120m/)).toBeInTheDocument();
    expect(within(rowOf('audit')).getByText(/did not answer/)).toBeInTheDocument();
    const order = screen.getAllByText(/^StatefulSet /).map((e) => e.closest('tr')!.textContent);
    expect(order[0]).toMatch(/^audit/);
    expect(order.at(-1)).toMatch(/^orders/);
  });

  it('offers namespace, owner and cluster filters, and narrows the list by search text', async () => {
    await renderFleet();
    await screen.findByText('Databases (4)');
    fireEvent.click(screen.getByText(/Filters/));
    expect(screen.getByText('Namespace')).toBeInTheDocument();
    expect(screen.getAllByText('Owner').length).toBeGreaterThan(0);
    expect(screen.getAllByText('Cluster').length).toBeGreaterThan(0);
    fireEvent.change(screen.getByPlaceholderText('Filter'), { target: { value: 'finance' } });
    await waitFor(() => expect(screen.queryByText('orders')).toBeNull());
    expect(screen.getByText('billing')).toBeInTheDocument();
    expect(screen.getByText('ledger')).toBeInTheDocument();
  });
});
