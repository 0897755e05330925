import type { Entity } from '@backstage/catalog-model';
import { CATALOG_FILTER_EXISTS } from '@backstage/catalog-client';
import { Content, ErrorPanel, Header, Page, Table, type TableColumn } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { catalogApiRef, humanizeEntityRef } from '@backstage/plugin-catalog-react';
import {
  DATABASE_HEALTH,
  EntityAnnotations,
  databaseHealth,
  newestVerified,
  type BackupResource,
  type DatabaseHealth,
  type StatefulSetStatusResource,
} from '@pgbackup/core/isomorphic';
import { entityKeyOf, entityRefOf, statefulSetOf } from '../annotations.js';
import { PgBackupApiError, pgBackupApiRef, type EntityBackups, type PgBackupApi } from '../api/types.js';
import { useLoad } from './hooks.js';
import { isDenied } from './States.js';
import { Freshness, Status, Verified } from './StatusText.js';
import { Body, When } from './Text.js';

/** Each health's tone and words, in core's order (worst first: the table's default order). */
const HEALTH: Record<DatabaseHealth, readonly [tone: 'error' | 'warning' | 'ok', text: string]> = {
  unreadable: ['error', 'Could not be read'],
  failed: ['error', 'Newest backup failed'],
  missing: ['error', 'No completed backup'],
  late: ['warning', 'Late'],
  'verification-failed': ['error', 'Verification failed'],
  manual: ['warning', 'No schedule'],
  ok: ['ok', 'Healthy'],
};

export interface FleetRow {
  entityRef: string;
  /** The entity as the catalog shows it (`orders`, `component:shop/orders`). */
  title: string;
  database: string;
  namespace: string;
  cluster: string;
  owner: string;
  health: DatabaseHealth;
  /** The words of the health column, searchable and filterable. */
  healthText: string;
  status?: StatefulSetStatusResource;
  newestCompletedAt?: string;
  verified?: BackupResource;
  error?: string;
}

/** One row per database the reader may see: a refused read (403) leaves the entity out, any other failure is a row. */
export async function loadFleet(api: PgBackupApi, entities: Entity[]): Promise<FleetRow[]> {
  const rows = await Promise.all(
    entities.map(async (entity): Promise<FleetRow | undefined> => {
      const target = statefulSetOf(entity);
      if (!target) return undefined;
      let data: EntityBackups | undefined;
      let error: string | undefined;
      try {
        data = await api.getEntityBackups(entityKeyOf(entity), target);
        error = data.errors.find((e) => e.part === 'statefulset')?.detail;
      } catch (e) {
        if (isDenied(e)) return undefined;
        error = e instanceof PgBackupApiError || e instanceof Error ? e.message : String(e);
      }
      const health = databaseHealth(error ? undefined : data?.status, data?.backups);
      return {
        entityRef: entityRefOf(entity),
        title: humanizeEntityRef(entity, { defaultKind: 'Component' }),
        database: `${target.namespace}/${target.name}`,
        namespace: target.namespace,
        cluster: target.cluster ?? data?.cluster ?? 'default',
        owner: typeof entity.spec?.owner === 'string' ? entity.spec.owner : '—',
        health,
        healthText: HEALTH[health][1],
        status: data?.status,
        newestCompletedAt: data?.status?.newestCompletedBackup?.cutAt ?? data?.status?.newestCompletedBackup?.startedAt,
        verified: newestVerified(data?.backups),
        ...(error ? { error } : {}),
      };
    }),
  );
  return rows.filter((r): r is FleetRow => r !== undefined).sort((a, b) => rank(a) - rank(b) || a.entityRef.localeCompare(b.entityRef));
}

const rank = (r: FleetRow) => DATABASE_HEALTH.indexOf(r.health);

function HealthCell({ row }: { row: FleetRow }) {
  const tone = HEALTH[row.health][0];
  return (
    <span>
      <Status tone={tone}>{row.healthText}</Status>
      {row.error ? (
        <Body>
          <br />
          {row.error}
        </Body>
      ) : null}
    </span>
  );
}

/** Every database the reader may see, the worst on top; filter by namespace, owner, cluster. */
export function FleetTable() {
  const catalog = useApi(catalogApiRef);
  const api = useApi(pgBackupApiRef);
  const fleet = useLoad(async () => {
    const { items } = await catalog.getEntities({
      filter: { [`metadata.annotations.${EntityAnnotations.statefulSet}`]: CATALOG_FILTER_EXISTS },
    });
    return loadFleet(api, items);
  }, [catalog, api]);
  if (fleet.error)
    return <ErrorPanel error={{ name: fleet.error.name, message: fleet.error.message }} title="Could not list the databases" />;
  const now = Date.now();
  const columns: TableColumn<FleetRow>[] = [
    {
      title: 'Database',
      field: 'entityRef',
      highlight: true,
      render: (r) => (
        <span>
          <Body>{r.title}</Body>
          <br />
          <Body>{`StatefulSet ${r.database}`}</Body>
        </span>
      ),
    },
    { title: 'Health', field: 'healthText', customSort: (a, b) => rank(a) - rank(b), render: (r) => <HealthCell row={r} /> },
    { title: 'Freshness', field: 'health', sorting: false, render: (r) => (r.status ? <Freshness status={r.status} /> : <Body>—</Body>) },
    {
      title: 'Newest completed',
      field: 'newestCompletedAt',
      render: (r) => (r.newestCompletedAt ? <When iso={r.newestCompletedAt} now={now} /> : <Body>None</Body>),
    },
    {
      title: 'Last verified',
      field: 'verified',
      sorting: false,
      render: (r) =>
        r.verified ? (
          <span>
            <Verified backup={r.verified} /> <When iso={r.verified.verification!.at} now={now} />
          </span>
        ) : (
          <Body>Never</Body>
        ),
    },
    { title: 'Namespace', field: 'namespace', render: (r) => <Body>{r.namespace}</Body> },
    { title: 'Owner', field: 'owner', render: (r) => <Body>{r.owner}</Body> },
    { title: 'Cluster', field: 'cluster', render: (r) => <Body>{r.cluster}</Body> },
  ];
  const rows = fleet.value ?? [];
  return (
    <Table<FleetRow>
      title={`Databases (${rows.length})`}
      isLoading={fleet.loading && !fleet.value}
      columns={columns}
      data={rows}
      filters={[
        { column: 'Namespace', type: 'select' },
        { column: 'Owner', type: 'select' },
        { column: 'Cluster', type: 'select' },
      ]}
      options={{ search: true, sorting: true, paging: rows.length > 50, pageSize: 50, padding: 'dense', draggable: false }}
      emptyContent={
        <div style={{ padding: 16 }}>
          <Body>No catalog entity you may see names a PostgreSQL StatefulSet (pgbackup.io/statefulset).</Body>
        </div>
      }
    />
  );
}

/** The routable fleet page (legacy system: `<Route path="/pgbackup" element={<PgBackupFleetPage />} />`). */
export function FleetPage() {
  return (
    <Page themeId="tool">
      <Header title="PostgreSQL backups" subtitle="Every database you may see, the worst on top" />
      <Content>
        <FleetTable />
      </Content>
    </Page>
  );
}
