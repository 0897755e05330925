import {
  createApiFactory,
  createComponentExtension,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { PgBackupClient } from './api/PgBackupClient.js';
import { pgBackupApiRef } from './api/types.js';
import { fleetRouteRef, rootRouteRef } from './routes.js';

/** The legacy frontend system's plugin: the API client, the tab and the card. */
export const pgBackupPlugin = createPlugin({
  id: 'pgbackup',
  apis: [
    createApiFactory({
      api: pgBackupApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) => new PgBackupClient({ discoveryApi, fetchApi }),
    }),
  ],
  routes: { root: rootRouteRef, fleet: fleetRouteRef },
});

/** The "Backups" tab: `<EntityLayout.Route path="/backups" title="Backups" if={isPgBackupAvailable}>`. */
export const EntityPgBackupContent = pgBackupPlugin.provide(
  createRoutableExtension({
    name: 'EntityPgBackupContent',
    component: () => import('./components/EntityPgBackupContent.js').then((m) => m.EntityPgBackupContent),
    mountPoint: rootRouteRef,
  }),
);

/** The overview card: freshness, newest backup, last verification, next run. */
export const EntityPgBackupCard = pgBackupPlugin.provide(
  createComponentExtension({
    name: 'EntityPgBackupCard',
    component: { lazy: () => import('./components/EntityPgBackupCard.js').then((m) => m.EntityPgBackupCard) },
  }),
);

/** The fleet page: `<Route path="/pgbackup" element={<PgBackupFleetPage />} />` in the app's routes. */
export const PgBackupFleetPage = pgBackupPlugin.provide(
  createRoutableExtension({
    name: 'PgBackupFleetPage',
    component: () => import('./components/FleetPage.js').then((m) => m.FleetPage),
    mountPoint: fleetRouteRef,
  }),
);
