import { ApiBlueprint, createFrontendPlugin, discoveryApiRef, fetchApiRef, PageBlueprint } from '@backstage/frontend-plugin-api';
import { EntityCardBlueprint, EntityContentBlueprint } from '@backstage/plugin-catalog-react/alpha';
import { isPgBackupAvailable } from './annotations.js';
import { PgBackupClient } from './api/PgBackupClient.js';
import { pgBackupApiRef } from './api/types.js';

/** The API client, for the new frontend system. */
export const pgBackupApi = ApiBlueprint.make({
  params: (defineParams) =>
    defineParams({
      api: pgBackupApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) => new PgBackupClient({ discoveryApi, fetchApi }),
    }),
});

/** The "Backups" tab on entities that carry the pgbackup annotations. */
export const pgBackupEntityContent = EntityContentBlueprint.make({
  params: {
    path: '/backups',
    title: 'Backups',
    filter: isPgBackupAvailable,
    loader: () => import('./components/EntityPgBackupContent.js').then((m) => <m.EntityPgBackupContent />),
  },
});

/** The overview card on the same entities. */
export const pgBackupEntityCard = EntityCardBlueprint.make({
  params: {
    filter: isPgBackupAvailable,
    loader: () => import('./components/EntityPgBackupCard.js').then((m) => <m.EntityPgBackupCard />),
  },
});

/** The fleet page at /pgbackup: every database the reader may see, the worst on top. */
export const pgBackupFleetPage = PageBlueprint.make({
  params: {
    path: '/pgbackup',
    title: 'PostgreSQL backups',
    loader: () => import('./components/FleetPage.js').then((m) => <m.FleetTable />),
  },
});

/** pgbackup for the new frontend system: `createApp({ features: [pgBackupPlugin] })`, or discovered from package.json. */
export default createFrontendPlugin({
  pluginId: 'pgbackup',
  title: 'Backups',
  extensions: [pgBackupApi, pgBackupEntityContent, pgBackupEntityCard, pgBackupFleetPage],
});

export { isPgBackupAvailable } from './annotations.js';
export { pgBackupApiRef } from './api/types.js';
