import { Table, type TableColumn } from '@backstage/core-components';
import type { BackupResource } from '@pgbackup/core/isomorphic';
import { ageSeconds, formatBytes, METHOD_LABELS, STATUS_LABELS } from './format.js';
import { BackupStatus, Verified } from './StatusText.js';
import { BackupId, Body, When } from './Text.js';

/** A flat row: material-table searches on these plain strings. */
interface BackupRow {
  id: string;
  type: string;
  status: string;
  method: string;
  size?: number;
  startedAt: string;
  pinned: string;
  verified: string;
  backup: BackupResource;
}

const toRow = (b: BackupResource): BackupRow => ({
  id: b.id,
  type: b.type,
  status: STATUS_LABELS[b.status] ?? b.status,
  method: b.method ? (METHOD_LABELS[b.method] ?? b.method) : 'not recorded',
  size: b.size,
  startedAt: b.startedAt,
  pinned: b.pinned ? 'pinned' : 'no',
  verified: b.verification ? (b.verification.result === 'passed' ? 'verified' : 'verification failed') : 'not verified',
  backup: b,
});

/** Every backup, newest first; the search box filters on any column's words. */
export function BackupsTable({
  backups,
  loading,
  detailHref,
}: {
  backups: BackupResource[];
  loading: boolean;
  detailHref: (id: string) => string;
}) {
  const now = Date.now();
  const columns: TableColumn<BackupRow>[] = [
    { title: 'Backup', field: 'id', highlight: true, render: (r) => <BackupId id={r.id} to={detailHref(r.id)} /> },
    { title: 'Type', field: 'type', render: (r) => <Body>{r.type}</Body> },
    { title: 'Status', field: 'status', render: (r) => <BackupStatus backup={r.backup} /> },
    { title: 'Method', field: 'method', render: (r) => <Body>{r.method}</Body> },
    {
      title: 'Size',
      field: 'size',
      type: 'numeric',
      render: (r) => <Body>{formatBytes(r.size)}</Body>,
      customSort: (a, b) => (a.size ?? -1) - (b.size ?? -1),
    },
    {
      title: 'Started',
      field: 'startedAt',
      defaultSort: 'asc',
      // Ascending age = newest first.
      customSort: (a, b) => ageSeconds(a.startedAt, now) - ageSeconds(b.startedAt, now),
      render: (r) => (
        <Body>
          <When iso={r.startedAt} now={now} />
        </Body>
      ),
    },
    { title: 'Pinned', field: 'pinned', render: (r) => <Body>{r.pinned}</Body> },
    { title: 'Verified', field: 'verified', render: (r) => <Verified backup={r.backup} /> },
  ];
  return (
    <Table<BackupRow>
      title={`Backups (${backups.length})`}
      isLoading={loading}
      columns={columns}
      data={backups.map(toRow)}
      options={{ search: true, sorting: true, paging: backups.length > 20, pageSize: 20, padding: 'dense', draggable: false }}
    />
  );
}
