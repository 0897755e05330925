import { InfoCard, Progress } from '@backstage/core-components';
import { BackupSummary } from './BackupSummary.js';
import { partError, useEntityBackups, usePgBackupEntity } from './hooks.js';
import { ApiErrorPanel, MissingAnnotationState } from './States.js';

/** The entity card: is this database backed up, how fresh, verified, and when is the next run. */
export function EntityPgBackupCard() {
  const { available, key, target } = usePgBackupEntity();
  const data = useEntityBackups(key, available ? target : undefined);

  const title = 'PostgreSQL backups';
  if (!available || !target) {
    return (
      <InfoCard title={title}>
        <MissingAnnotationState compact />
      </InfoCard>
    );
  }
  const subheader = `StatefulSet ${target.namespace}/${target.name}`;
  const error = data.value ? partError(data.value, 'statefulset') : data.error;
  return (
    <InfoCard title={title} subheader={subheader}>
      {error ? (
        <ApiErrorPanel error={error} what="backup status" onRetry={data.retry} />
      ) : data.value?.status ? (
        <BackupSummary status={data.value.status} backups={data.value.backups} backupsFailed={!!partError(data.value, 'backups')} />
      ) : (
        <Progress aria-label="Loading backup status" />
      )}
    </InfoCard>
  );
}
