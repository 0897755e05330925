import { InfoCard, Progress, StructuredMetadataTable } from '@backstage/core-components';
import type { StatefulSetStatusResource } from '@pgbackup/core/isomorphic';
import { Grid } from '@material-ui/core';
import { useSearchParams } from 'react-router-dom';
import { BackupDetail } from './BackupDetail.js';
import { BackupNow } from './BackupNow.js';
import { BackupsTable } from './BackupsTable.js';
import { formatRelative, formatTime } from './format.js';
import { partError, useBackupNow, useCanCreateBackup, useEntityBackups, usePgBackupEntity } from './hooks.js';
import { ApiErrorPanel, DeniedState, isDenied, MissingAnnotationState, NoBackupsState } from './States.js';
import { Freshness } from './StatusText.js';

export interface EntityPgBackupContentProps {
  /** How often a running "Back up now" is polled. */
  pollIntervalMs?: number;
}

function StatefulSetCard({ status }: { status: StatefulSetStatusResource }) {
  const next = status.freshness?.nextRunAt;
  return (
    <InfoCard title={`StatefulSet ${status.namespace}/${status.name}`}>
      <StructuredMetadataTable
        dense
        metadata={{
          replicas: `${status.replicas} desired · ${status.readyReplicas} ready · ${status.currentReplicas} current · ${status.updatedReplicas} updated`,
          pods: status.pods.length ? status.pods.map((p) => `${p.name} (${p.ready ? 'ready' : p.phase})`).join(', ') : 'none',
          freshness: <Freshness status={status} />,
          schedule: status.schedule
            ? `${status.schedule.cron}${status.schedule.timeZone ? ` (${status.schedule.timeZone})` : ''}`
            : 'Not scheduled',
          'next scheduled run': next ? `${formatRelative(next)} (${formatTime(next)})` : '—',
        }}
      />
    </InfoCard>
  );
}

/** The entity's "Backups" tab. */
export function EntityPgBackupContent({ pollIntervalMs = 2000 }: EntityPgBackupContentProps) {
  const { entity, available, key, entityRef, target } = usePgBackupEntity();
  const [params] = useSearchParams();
  const data = useEntityBackups(key, available ? target : undefined);
  const create = useCanCreateBackup(entityRef);
  const backupNow = useBackupNow(key, target, { pollIntervalMs, onSettled: data.retry });

  if (!available || !target) return <MissingAnnotationState entity={entity} />;

  // 403 on the list = the read permission is missing: one clear page, no half-filled panels.
  if (data.error && isDenied(data.error)) return <DeniedState what="backups" />;
  const status = data.value?.status;
  const statusError = data.value ? partError(data.value, 'statefulset') : data.error;
  const backups = data.value?.backups;
  const backupsError = data.value ? partError(data.value, 'backups') : data.error;

  const selected = params.get('backup');
  const href = (id: string | null) => {
    const next = new URLSearchParams(params);
    if (id) next.set('backup', id);
    else next.delete('backup');
    const q = next.toString();
    return q ? `?${q}` : '?';
  };

  return (
    <Grid container spacing={3} alignItems="stretch">
      <Grid item xs={12} md={8}>
        {status ? (
          <StatefulSetCard status={status} />
        ) : statusError ? (
          <ApiErrorPanel error={statusError} what="StatefulSet status" onRetry={data.retry} />
        ) : (
          <Progress aria-label="Loading StatefulSet status" />
        )}
      </Grid>
      <Grid item xs={12} md={4}>
        <InfoCard title="Back up now">
          {create.loading ? (
            <Progress aria-label="Checking permissions" />
          ) : create.allowed ? (
            <BackupNow state={backupNow.state} onStart={() => void backupNow.start()} />
          ) : (
            <span>You can view the backups of this entity, but your permissions do not allow starting one.</span>
          )}
        </InfoCard>
      </Grid>
      {selected ? (
        <Grid item xs={12}>
          <BackupDetail
            key={selected}
            id={selected}
            target={target}
            closeHref={href(null)}
            fallback={backups?.find((b) => b.id === selected)}
          />
        </Grid>
      ) : null}
      <Grid item xs={12}>
        {backupsError ? (
          <ApiErrorPanel error={backupsError} what="backups" onRetry={data.retry} />
        ) : backups && backups.length === 0 ? (
          <NoBackupsState statefulSet={target.name} namespace={target.namespace} canCreate={create.allowed} />
        ) : (
          <BackupsTable backups={backups ?? []} loading={!backups} detailHref={href} />
        )}
      </Grid>
    </Grid>
  );
}
