import type { Entity } from '@backstage/catalog-model';
import { CATALOG_FILTER_EXISTS } from '@backstage/catalog-client';
import { Content, ErrorPanel, Header, Page, Table, type TableColumn } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { catalogApiRef, humanizeEntityRef } from '@backstage/plugin-catalog-react';
import { EntityAnnotations, type BackupResource, type StatefulSetStatusResource } from '@pgbackup/core/isomorphic';
import { entityKeyOf, entityRefOf, statefulSetOf } from '../annotations.js';
import { PgBackupApiError, pgBackupApiRef, type EntityBackups, type PgBackupApi } from '../api/types.js';
import { lastVerified } from './BackupSummary.js';
import { useLoad } from './hooks.js';
import { isDenied } from './States.js';
import { Freshness, Status, Verified } from './StatusText.js';
import { Body, When } from './Text.js';

/** How a database stands, worst first: the table's default order. */
const HEALTH = [
  ['unreadable', 'error', 'Could not be read'],
  ['failed', 'error', 'Newest backup failed'],
  ['missing', 'error', 'No completed backup'],
  ['late', 'warning', 'Late'],
  ['verification-failed', 'error', 'Verification failed'],
  ['manual', 'warning', 'No schedule'],
  ['ok', 'ok', 'Healthy'],
] as const;
type Health = (typeof HEALTH)[number][0];

export interface FleetRow {
  entityRef: string;
  /** The entity as the catalog shows it (`orders`, `component:shop/orders`). */
  title: string;
  database: string;
  namespace: string;
  cluster: string;
  owner: string;
  health: Health;
  /** The words of the health column, searchable and filterable. */
  healthText: string;
  status?: StatefulSetStatusResource;
  newestCompletedAt?: string;
  verified?: BackupResource;
  error?: string;
}

function healthOf(data: EntityBackups | undefined, error: string | undefined): Health {
  const s = data?.status;
  if (error || !s) return 'unreadable';
  if (s.newestBackup?.status === 'failed') return 'failed';
  if (s.freshness?.state === 'missing') return 'missing';
  if (s.freshness?.state === 'late') return 'late';
  if (lastVerified(data.backups)?.verification?.result === 'failed') return 'verification-failed';
  if (!s.freshness) return 'manual';
  return 'ok';
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
      const health = healthOf(data, error);
      return {
        entityRef: entityRefOf(entity),
        title: humanizeEntityRef(entity, { defaultKind: 'Component' }),
        database: `${target.namespace}/${target.name}`,
        namespace: target.namespace,
        cluster: target.cluster ?? data?.cluster ?? 'default',
        owner: typeof entity.spec?.owner === 'string' ? entity.spec.owner : '—',
        health,
        healthText: HEALTH.find(([h]) => h === health)![2],
        status: data?.status,
        newestCompletedAt: data?.status?.newestCompletedBackup?.cutAt ?? data?.status?.newestCompletedBackup?.startedAt,
        verified: lastVerified(data?.backups),
        ...(error ? { error } : {}),
      };
    }),
  );
  return rows.filter((r): r is FleetRow => r !== undefined).sort((a, b) => rank(a) - rank(b) || a.entityRef.localeCompare(b.entityRef));
}

const rank = (r: FleetRow) => HEALTH.findIndex(([h]) => h === r.health);

function HealthCell({ row }: { row: FleetRow }) {
  const tone = HEALTH.find(([h]) => h === row.health)![1];
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
