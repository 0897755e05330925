import { InfoCard, Link, Progress, StructuredMetadataTable, Table, WarningPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import type { BackupResource } from '@pgbackup/core/isomorphic';
import { pgBackupApiRef, type StatefulSetRef } from '../api/types.js';
import { formatBytes, formatDuration, label, METHOD_LABELS } from './format.js';
import { useLoad } from './hooks.js';
import { ApiErrorPanel } from './States.js';
import { BackupStatus, Status, Verified } from './StatusText.js';
import { Body, When } from './Text.js';

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
    <Body>
      <Link to={closeHref} aria-label="Close backup details">
        Close
      </Link>
    </Body>
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
        options={{ titleFormat: label }}
        metadata={{
          status: <BackupStatus backup={b} />,
          phase: <Body>{b.phase}</Body>,
          type: <Body>{b.type}</Body>,
          method: <Body>{b.method ? (METHOD_LABELS[b.method] ?? b.method) : 'not recorded'}</Body>,
          startedAt: <When iso={b.startedAt} />,
          cutAt: <When iso={b.cutAt} />,
          size: <Body>{formatBytes(b.size)}</Body>,
          snapshots: <Body>{`${b.snapshots.filter((s) => s.readyToUse).length} of ${b.volumes}`}</Body>,
          pod: <Body>{b.pod ?? '—'}</Body>,
          pgVersion: <Body>{b.pgVersion ?? '—'}</Body>,
          lsn: <Body>{b.lsn ?? '—'}</Body>,
          pinned: <Body>{b.pinned ? 'Yes: kept by prune' : 'No'}</Body>,
          verification: v ? (
            <span>
              <Verified backup={b} /> <When iso={v.at} />
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
          { title: 'VolumeSnapshot', field: 'name', highlight: true, render: (s) => <Body>{s.name}</Body> },
          { title: 'PVC', field: 'pvc', render: (s) => <Body>{s.pvc}</Body> },
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
          { title: 'restoreSize', field: 'restoreSize', render: (s) => <Body>{formatBytes(s.restoreSize)}</Body> },
          { title: 'Created', field: 'createdAt', render: (s) => <When iso={s.createdAt} /> },
          { title: 'Cut at', field: 'cutAt', render: (s) => <When iso={s.cutAt} /> },
          { title: 'VolumeSnapshotClass', field: 'className', render: (s) => <Body>{s.className ?? '—'}</Body> },
          { title: 'Error', field: 'error', render: (s) => <Body>{s.error ?? '—'}</Body> },
        ]}
        emptyContent={
          <div style={{ padding: 16 }}>
            <Body>No VolumeSnapshot exists for this backup yet.</Body>
          </div>
        }
      />
    </InfoCard>
  );
}
