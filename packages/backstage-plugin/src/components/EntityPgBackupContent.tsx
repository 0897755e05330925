import { InfoCard, Progress } from '@backstage/core-components';
import { Box, Divider, Grid } from '@material-ui/core';
import { useEffect } from 'react';
import { useSearchParams } from 'react-router-dom';
import { BackupDetail } from './BackupDetail.js';
import { BackupNow } from './BackupNow.js';
import { BackupsTable } from './BackupsTable.js';
import { BackupSummary } from './BackupSummary.js';
import { partError, useBackupNow, useCanCreateBackup, useEntityBackups, usePgBackupEntity } from './hooks.js';
import { ApiErrorPanel, DeniedState, isDenied, MissingAnnotationState, NoBackupsState } from './States.js';

export interface EntityPgBackupContentProps {
  /** How often a running "Back up now" is polled. */
  pollIntervalMs?: number;
  /** How often the tab re-reads the backups, so one made by the CronJob or another client shows up without a reload. */
  refreshIntervalMs?: number;
}

/** The entity's "Backups" tab: one summary card (with "Back up now") and one table. */
export function EntityPgBackupContent({ pollIntervalMs = 2000, refreshIntervalMs = 15_000 }: EntityPgBackupContentProps) {
  const { available, key, entityRef, target } = usePgBackupEntity();
  const [params] = useSearchParams();
  const data = useEntityBackups(key, available ? target : undefined);
  const create = useCanCreateBackup(entityRef);
  const backupNow = useBackupNow(key, target, { pollIntervalMs, onSettled: data.retry });
  const { retry } = data;
  useEffect(() => {
    const timer = setInterval(retry, refreshIntervalMs);
    return () => clearInterval(timer);
  }, [retry, refreshIntervalMs]);

  if (!available || !target) return <MissingAnnotationState />;

  // 403 on the list = the read permission is missing: one clear page, no half-filled panels.
  if (data.error && isDenied(data.error)) return <DeniedState what="backups" />;
  const status = data.value?.status;
  const backups = data.value?.backups;
  const statusError = data.value ? partError(data.value, 'statefulset') : data.error;
  const backupsError = data.value ? partError(data.value, 'backups') : data.error;
  // One outage, one panel: the backend unreachable, or both parts refused for the same reason.
  const outage =
    data.error !== undefined || (statusError !== undefined && backupsError !== undefined && statusError.message === backupsError.message);

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
      <Grid item xs={12}>
        <InfoCard title="PostgreSQL backups" subheader={`StatefulSet ${target.namespace}/${target.name}`}>
          {statusError ? (
            <ApiErrorPanel error={statusError} what={outage ? 'backups' : 'StatefulSet status'} onRetry={data.retry} />
          ) : status ? (
            <BackupSummary status={status} backups={backups} backupsFailed={backupsError !== undefined} withPods />
          ) : (
            <Progress aria-label="Loading StatefulSet status" />
          )}
          <Divider style={{ margin: '16px 0' }} />
          <Box>
            {create.loading ? (
              <Progress aria-label="Checking permissions" />
            ) : (
              <BackupNow
                state={backupNow.state}
                onStart={() => void backupNow.start()}
                unavailable={
                  !create.allowed
                    ? 'You can view the backups of this entity, but your permissions do not allow starting one.'
                    : outage
                      ? 'The pgbackup backend does not answer: retry once it does.'
                      : undefined
                }
              />
            )}
          </Box>
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
      {outage ? null : (
        <Grid item xs={12}>
          {backupsError ? (
            <ApiErrorPanel error={backupsError} what="backups" onRetry={data.retry} />
          ) : backups && backups.length === 0 ? (
            <NoBackupsState statefulSet={target.name} namespace={target.namespace} canCreate={create.allowed} />
          ) : (
            <BackupsTable backups={backups ?? []} loading={!backups} detailHref={href} />
          )}
        </Grid>
      )}
    </Grid>
  );
}
