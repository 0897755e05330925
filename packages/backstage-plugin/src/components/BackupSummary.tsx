import { StructuredMetadataTable } from '@backstage/core-components';
import { newestVerified, type BackupResource, type StatefulSetStatusResource } from '@pgbackup/core/isomorphic';
import { Typography } from '@material-ui/core';
import type { ReactNode } from 'react';
import { formatBytes, formatDuration, label } from './format.js';
import { BackupStatus, Freshness, Status } from './StatusText.js';
import { BackupId, Body, When } from './Text.js';

/**
 * The one summary of a StatefulSet's backups (freshness, newest backup, last verification, next run,
 * replicas): the card shows it, the tab shows it once more only with the pods.
 */
export function BackupSummary({
  status: s,
  backups,
  backupsFailed,
  withPods = false,
}: {
  status: StatefulSetStatusResource;
  backups: BackupResource[] | undefined;
  backupsFailed: boolean;
  withPods?: boolean;
}) {
  const newest = s.newestBackup;
  const completed = s.newestCompletedBackup;
  const verified = newestVerified(backups);
  const v = verified?.verification;
  const metadata: Record<string, ReactNode> = {
    freshness: <Freshness status={s} />,
    newestBackup: newest ? (
      <span>
        <BackupStatus backup={newest} />
        <Typography variant="body2" component="div">
          <BackupId id={newest.id} />
          {newest.size !== undefined ? ` · ${formatBytes(newest.size)}` : ''} · <When iso={newest.cutAt ?? newest.startedAt} />
        </Typography>
        {newest.error ? (
          <Typography variant="body2" color="error" role="note">
            {newest.error}
          </Typography>
        ) : null}
      </span>
    ) : (
      <Body>None yet</Body>
    ),
    ...(completed && completed.id !== newest?.id
      ? {
          newestCompleted: (
            <Typography variant="body2" component="div">
              <BackupId id={completed.id} /> · <When iso={completed.cutAt ?? completed.startedAt} />
            </Typography>
          ),
        }
      : {}),
    lastVerification: v ? (
      <span>
        <Status tone={v.result === 'passed' ? 'ok' : 'error'}>
          {v.result === 'passed' ? 'Passed' : 'Failed'}
          {v.restoreSeconds !== undefined ? `, restored in ${formatDuration(v.restoreSeconds)}` : ''}
        </Status>
        <Typography variant="body2" component="div">
          <BackupId id={verified!.id} /> · <When iso={v.at} />
        </Typography>
        {v.message ? <Typography variant="body2">{v.message}</Typography> : null}
      </span>
    ) : (
      <Body>{backupsFailed ? 'Unknown (the backup list could not be loaded)' : 'Never verified'}</Body>
    ),
    nextRun: s.freshness?.nextRunAt ? (
      <Body>
        <When iso={s.freshness.nextRunAt} />
        {s.schedule ? ` · cron ${s.schedule.cron}${s.schedule.timeZone ? ` (${s.schedule.timeZone})` : ''}` : ''}
      </Body>
    ) : (
      <Body>Not scheduled</Body>
    ),
    replicas: <Body>{`${s.readyReplicas} of ${s.replicas} ready`}</Body>,
    ...(withPods
      ? { pods: <Body>{s.pods.length ? s.pods.map((p) => `${p.name} (${p.ready ? 'ready' : p.phase})`).join(', ') : 'none'}</Body> }
      : {}),
  };
  return <StructuredMetadataTable metadata={metadata} dense options={{ titleFormat: label }} />;
}
