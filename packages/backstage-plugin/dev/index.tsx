/**
 * The dev page: an entity page (Overview with the card, Backups with the tab) for a sample entity against the real API (the standalone
 * `pgbackup-api`, proxied by dev/serve.mjs), plus one page per designed state on fixtures.
 * Start it with `npm run dev -w packages/backstage-plugin` (see the README).
 */
import type { Entity } from '@backstage/catalog-model';
import { createApiFactory, discoveryApiRef, fetchApiRef } from '@backstage/core-plugin-api';
import { Header, Page, TabbedLayout } from '@backstage/core-components';
import { createDevApp } from '@backstage/dev-utils';
import { catalogApiRef, EntityProvider } from '@backstage/plugin-catalog-react';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { mockApis, TestApiProvider } from '@backstage/test-utils';
import { Grid } from '@material-ui/core';
import { createRoot } from 'react-dom/client';
import {
  entity as fixtureEntity,
  entityWithoutAnnotations,
  failedBackup,
  FakePgBackupApi,
  fleet,
  healthyBackups,
  lateStatus,
  missingStatus,
  problem,
} from '../src/__fixtures__/index.js';
import { PgBackupClient } from '../src/api/PgBackupClient.js';
import { pgBackupApiRef } from '../src/api/types.js';
import { EntityPgBackupCard } from '../src/components/EntityPgBackupCard.js';
import { EntityPgBackupContent } from '../src/components/EntityPgBackupContent.js';
import { FleetPage } from '../src/components/FleetPage.js';

declare global {
  interface Window {
    /** Set by dev/serve.mjs from PGBACKUP_DEV_* variables. */
    __PGBACKUP_DEV__?: { namespace: string; statefulSet: string };
  }
}

const live = window.__PGBACKUP_DEV__ ?? { namespace: 'default', statefulSet: 'pg' };

/** The sample entity of the live page: its annotations name the StatefulSet on the local cluster. */
const liveEntity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: live.statefulSet,
    namespace: 'default',
    annotations: {
      'backstage.io/kubernetes-namespace': live.namespace,
      'pgbackup.io/statefulset': live.statefulSet,
    },
  },
  spec: { type: 'service', lifecycle: 'experimental', owner: 'team-dev' },
};

/** Like the catalog's entity page: the card on the Overview tab, the Backups tab on its own. */
function EntityPage({ entity }: { entity: Entity }) {
  return (
    <EntityProvider entity={entity}>
      <Page themeId="service">
        <Header title={entity.metadata.name} subtitle={`${entity.kind} · ${entity.metadata.namespace ?? 'default'}`} />
        <TabbedLayout>
          <TabbedLayout.Route path="/" title="Overview">
            <Grid container spacing={3}>
              <Grid item xs={12} md={6} data-testid="pgbackup-card">
                <EntityPgBackupCard />
              </Grid>
            </Grid>
          </TabbedLayout.Route>
          <TabbedLayout.Route path="/backups" title="Backups">
            <div data-testid="pgbackup-tab">
              <EntityPgBackupContent pollIntervalMs={1000} />
            </div>
          </TabbedLayout.Route>
        </TabbedLayout>
      </Page>
    </EntityProvider>
  );
}

function Fixture({ api, allow = true, entity = fixtureEntity }: { api: FakePgBackupApi; allow?: boolean; entity?: Entity }) {
  return (
    <TestApiProvider
      apis={[
        [pgBackupApiRef, api],
        [permissionApiRef, mockApis.permission({ authorize: allow ? AuthorizeResult.ALLOW : AuthorizeResult.DENY })],
      ]}
    >
      <EntityPage entity={entity} />
    </TestApiProvider>
  );
}

function FleetFixture() {
  const { entities, api } = fleet();
  return (
    <TestApiProvider
      apis={[
        [catalogApiRef, catalogApiMock({ entities })],
        [pgBackupApiRef, api],
      ]}
    >
      <FleetPage />
    </TestApiProvider>
  );
}

const slowApi = () => {
  const api = new FakePgBackupApi();
  api.completeAfterPolls = 5;
  return api;
};

const DevApp = createDevApp()
  .registerApi(
    // The standalone server has no catalog: address it by StatefulSet, through the dev server's proxy.
    createApiFactory({
      api: pgBackupApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) => new PgBackupClient({ discoveryApi, fetchApi, addressing: 'statefulset' }),
    }),
  )
  .registerApi(
    createApiFactory({ api: permissionApiRef, deps: {}, factory: () => mockApis.permission({ authorize: AuthorizeResult.ALLOW }) }),
  )
  .addPage({ path: '/live', title: 'Live (local cluster)', element: <EntityPage entity={liveEntity} /> })
  .addPage({ path: '/fleet', title: 'Fleet', element: <FleetFixture /> })
  .addPage({ path: '/healthy', title: 'Healthy', element: <Fixture api={slowApi()} /> })
  .addPage({ path: '/late', title: 'Late', element: <Fixture api={new FakePgBackupApi({ status: lateStatus() })} /> })
  .addPage({
    path: '/failed',
    title: 'Failed backup',
    element: <Fixture api={new FakePgBackupApi({ backups: [failedBackup(), ...healthyBackups()] })} />,
  })
  .addPage({
    path: '/empty',
    title: 'No backups',
    element: <Fixture api={new FakePgBackupApi({ backups: [], status: missingStatus() })} />,
  })
  .addPage({ path: '/denied', title: 'Create denied', element: <Fixture api={new FakePgBackupApi()} allow={false} /> })
  .addPage({
    path: '/forbidden',
    title: 'Read denied',
    element: (
      <Fixture
        api={
          new FakePgBackupApi({
            error: problem(403, 'Forbidden', 'user:default/guest may not read the backups of component:default/orders'),
          })
        }
      />
    ),
  })
  .addPage({
    path: '/error',
    title: 'API error',
    element: (
      <Fixture
        api={
          new FakePgBackupApi({
            error: problem(
              503,
              'Service Unavailable',
              'The Kubernetes API of cluster "local" did not answer within 10s.',
              'Check the cluster, then retry.',
            ),
          })
        }
      />
    ),
  })
  .addPage({ path: '/loading', title: 'Loading', element: <Fixture api={new FakePgBackupApi({ status: 'pending' })} /> })
  .addPage({
    path: '/missing-annotation',
    title: 'Missing annotation',
    element: <Fixture api={new FakePgBackupApi()} entity={entityWithoutAnnotations} />,
  })
  .build();

// render() of dev-utils misses createRoot behind esbuild's CJS interop: render here.
createRoot(document.getElementById('root')!).render(<DevApp />);
