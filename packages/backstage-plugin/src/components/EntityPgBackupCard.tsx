import { InfoCard, Progress, StructuredMetadataTable } from '@backstage/core-components';
import type { BackupResource } from '@pgbackup/core/isomorphic';
import { Typography } from '@material-ui/core';
import { partError, useEntityBackups, usePgBackupEntity } from './hooks.js';
import { formatBytes, formatDuration, formatRelative, formatTime } from './format.js';
import { ApiErrorPanel, MissingAnnotationState } from './States.js';
import { BackupStatus, Freshness, Status } from './StatusText.js';

/** The newest verification among the backups, if any backup was ever verified. */
export function lastVerified(backups: BackupResource[] | undefined): BackupResource | undefined {
  return backups?.filter((b) => b.verification).sort((a, b) => Date.parse(b.verification!.at) - Date.parse(a.verification!.at))[0];
}

function When({ iso }: { iso: string | undefined }) {
  if (!iso) return <>—</>;
  return (
    <time dateTime={iso} title={formatTime(iso)}>
      {formatRelative(iso)} ({formatTime(iso)})
    </time>
  );
}

/** The entity card: is this database backed up, how fresh, verified, and when is the next run. */
export function EntityPgBackupCard() {
  const { entity, available, key, target } = usePgBackupEntity();
  const data = useEntityBackups(key, available ? target : undefined);

  const title = 'PostgreSQL backups';
  if (!available || !target) {
    return (
      <InfoCard title={title}>
        <MissingAnnotationState entity={entity} />
      </InfoCard>
    );
  }
  const subheader = `StatefulSet ${target.namespace}/${target.name}`;
  const error = data.value ? partError(data.value, 'statefulset') : data.error;
  if (error) {
    return (
      <InfoCard title={title} subheader={subheader}>
        <ApiErrorPanel error={error} what="backup status" onRetry={data.retry} />
      </InfoCard>
    );
  }
  if (!data.value?.status) {
    return (
      <InfoCard title={title} subheader={subheader}>
        <Progress aria-label="Loading backup status" />
      </InfoCard>
    );
  }

  const s = data.value.status;
  const newest = s.newestBackup;
  const verified = lastVerified(data.value.backups);
  const backupsError = partError(data.value, 'backups');
  const v = verified?.verification;
  const metadata: Record<string, React.ReactNode> = {
    freshness: <Freshness status={s} />,
    'newest backup': newest ? (
      <span>
        <BackupStatus backup={newest} />
        <Typography variant="body2" component="span">
          {newest.id} · {formatBytes(newest.size)} · <When iso={newest.cutAt ?? newest.startedAt} />
        </Typography>
        {newest.error ? (
          <Typography variant="body2" color="error" role="note">
            {newest.error}
          </Typography>
        ) : null}
      </span>
    ) : (
      'None yet'
    ),
    ...(s.newestCompletedBackup && s.newestCompletedBackup.id !== newest?.id
      ? {
          'newest completed': (
            <span>
              {s.newestCompletedBackup.id} · <When iso={s.newestCompletedBackup.cutAt ?? s.newestCompletedBackup.startedAt} />
            </span>
          ),
        }
      : {}),
    'last verification': v ? (
      <span>
        <Status tone={v.result === 'passed' ? 'ok' : 'error'}>
          {v.result === 'passed' ? 'Passed' : 'Failed'}
          {v.restoreSeconds !== undefined ? `, restored in ${formatDuration(v.restoreSeconds)}` : ''}
        </Status>
        <Typography variant="body2" component="span">
          {verified!.id} · <When iso={v.at} />
        </Typography>
        {v.message ? <Typography variant="body2">{v.message}</Typography> : null}
      </span>
    ) : backupsError ? (
      'Unknown (the backup list could not be loaded)'
    ) : (
      'Never verified'
    ),
    'next scheduled run': s.freshness?.nextRunAt ? (
      <span>
        <When iso={s.freshness.nextRunAt} />
        {s.schedule ? ` · cron ${s.schedule.cron}${s.schedule.timeZone ? ` (${s.schedule.timeZone})` : ''}` : ''}
      </span>
    ) : (
      'Not scheduled'
    ),
    replicas: `${s.readyReplicas}/${s.replicas} ready`,
  };

  return (
    <InfoCard title={title} subheader={subheader}>
      <StructuredMetadataTable metadata={metadata} dense />
    </InfoCard>
  );
}
