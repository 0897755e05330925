import { Link, Table, type TableColumn } from '@backstage/core-components';
import type { BackupResource } from '@pgbackup/core/isomorphic';
import { ageSeconds, formatAge, formatBytes, formatTime, METHOD_LABELS, STATUS_LABELS } from './format.js';
import { BackupStatus, Verified } from './StatusText.js';

/** A flat row: material-table filters and searches on these plain strings. */
export interface BackupRow {
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

export const toRow = (b: BackupResource): BackupRow => ({
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
    {
      title: 'Backup',
      field: 'id',
      highlight: true,
      render: (r) => (
        <Link to={detailHref(r.id)} aria-label={`Details of backup ${r.id}`}>
          {r.id}
        </Link>
      ),
    },
    { title: 'Type', field: 'type' },
    { title: 'Status', field: 'status', render: (r) => <BackupStatus backup={r.backup} /> },
    { title: 'Method', field: 'method' },
    {
      title: 'Size',
      field: 'size',
      type: 'numeric',
      render: (r) => formatBytes(r.size),
      customSort: (a, b) => (a.size ?? -1) - (b.size ?? -1),
    },
    {
      title: 'Age',
      field: 'startedAt',
      defaultSort: 'asc',
      // Ascending age = newest first.
      customSort: (a, b) => ageSeconds(a.startedAt, now) - ageSeconds(b.startedAt, now),
      render: (r) => (
        <time dateTime={r.startedAt} title={formatTime(r.startedAt)}>
          {formatAge(r.startedAt, now)}
        </time>
      ),
    },
    { title: 'Pinned', field: 'pinned' },
    { title: 'Verified', field: 'verified', render: (r) => <Verified backup={r.backup} /> },
  ];
  return (
    <Table<BackupRow>
      title={`Backups (${backups.length})`}
      isLoading={loading}
      columns={columns}
      data={backups.map(toRow)}
      filters={[
        { column: 'Type', type: 'multiple-select' },
        { column: 'Status', type: 'multiple-select' },
        { column: 'Method', type: 'select' },
        { column: 'Pinned', type: 'select' },
        { column: 'Verified', type: 'select' },
      ]}
      options={{ search: true, sorting: true, paging: backups.length > 20, pageSize: 20, padding: 'dense', draggable: false }}
    />
  );
}
