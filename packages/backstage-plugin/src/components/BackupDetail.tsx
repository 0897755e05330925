import { InfoCard, Link, Progress, StructuredMetadataTable, Table, WarningPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import type { BackupResource } from '@pgbackup/core/isomorphic';
import { pgBackupApiRef, type StatefulSetRef } from '../api/types.js';
import { formatBytes, formatDuration, formatTime, METHOD_LABELS } from './format.js';
import { useLoad } from './hooks.js';
import { ApiErrorPanel } from './States.js';
import { BackupStatus, Status, Verified } from './StatusText.js';

type Snapshot = BackupResource['snapshots'][number];

/** One backup: its facts, each VolumeSnapshot, and what went wrong. */
export function BackupDetail({
  id,
  target,
  closeHref,
  fallback,
}: {
  id: string;
  target: StatefulSetRef;
  closeHref: string;
  fallback?: BackupResource;
}) {
  const api = useApi(pgBackupApiRef);
  const { value, error, loading, retry } = useLoad(() => api.getBackup(id, target), [api, id, target.name, target.namespace]);
  const b = value ?? fallback;
  const close = (
    <Link to={closeHref} aria-label="Close backup details">
      Close
    </Link>
  );
  if (!b) {
    return (
      <InfoCard title={`Backup ${id}`} action={close}>
        {error ? <ApiErrorPanel error={error} what={`backup ${id}`} onRetry={retry} /> : <Progress aria-label={`Loading backup ${id}`} />}
      </InfoCard>
    );
  }
  const v = b.verification;
  return (
    <InfoCard title={`Backup ${b.id}`} subheader={loading ? 'Refreshing…' : undefined} action={close}>
      {b.error ? <WarningPanel severity="error" title="This backup failed" message={b.error} defaultExpanded /> : null}
      <StructuredMetadataTable
        dense
        metadata={{
          status: <BackupStatus backup={b} />,
          phase: b.phase,
          type: b.type,
          method: b.method ? (METHOD_LABELS[b.method] ?? b.method) : 'not recorded',
          'started at': formatTime(b.startedAt),
          'point in time (cut)': formatTime(b.cutAt),
          size: formatBytes(b.size),
          snapshots: `${b.snapshots.filter((s) => s.readyToUse).length} of ${b.volumes} ready`,
          pod: b.pod ?? '—',
          'PostgreSQL version': b.pgVersion ?? '—',
          LSN: b.lsn ?? '—',
          pinned: b.pinned ? 'Yes: kept by prune' : 'No',
          verification: v ? (
            <span>
              <Verified backup={b} /> {formatTime(v.at)}
              {v.restoreSeconds !== undefined ? `, restored in ${formatDuration(v.restoreSeconds)}` : ''}
              {v.message ? ` (${v.message})` : ''}
            </span>
          ) : (
            <Verified backup={b} />
          ),
        }}
      />
      <Table<Snapshot>
        title="VolumeSnapshots"
        data={b.snapshots}
        options={{ search: false, paging: false, padding: 'dense', toolbar: true }}
        columns={[
          { title: 'VolumeSnapshot', field: 'name', highlight: true },
          { title: 'PVC', field: 'pvc' },
          {
            title: 'readyToUse',
            field: 'readyToUse',
            render: (s) =>
              s.error ? (
                <Status tone="error">Error</Status>
              ) : s.readyToUse ? (
                <Status tone="ok">true</Status>
              ) : (
                <Status tone="running">false</Status>
              ),
          },
          { title: 'restoreSize', field: 'restoreSize', render: (s) => formatBytes(s.restoreSize) },
          { title: 'Created', field: 'createdAt', render: (s) => formatTime(s.createdAt) },
          { title: 'Cut at', field: 'cutAt', render: (s) => formatTime(s.cutAt) },
          { title: 'VolumeSnapshotClass', field: 'className', render: (s) => s.className ?? '—' },
          { title: 'Error', field: 'error', render: (s) => s.error ?? '—' },
        ]}
        emptyContent={<div style={{ padding: 16 }}>No VolumeSnapshot exists for this backup yet.</div>}
      />
    </InfoCard>
  );
}
