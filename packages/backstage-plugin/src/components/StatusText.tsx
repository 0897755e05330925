import { StatusError, StatusOK, StatusPending, StatusRunning, StatusWarning } from '@backstage/core-components';
import type { BackupResource, StatefulSetStatusResource } from '@pgbackup/core/isomorphic';
import type { ReactNode } from 'react';
import { formatDuration, STATUS_LABELS } from './format.js';

// core-components' Status* hide themselves from screen readers (aria-hidden) and label themselves
// "Status ok": we always pass the words, so they must stay readable.
const readable = { 'aria-hidden': false, 'aria-label': undefined } as const;

type Tone = 'ok' | 'warning' | 'error' | 'running' | 'pending';

/** An icon AND words: colour is never the only signal. */
export function Status({ tone, children }: { tone: Tone; children: ReactNode }) {
  switch (tone) {
    case 'ok':
      return <StatusOK {...readable}>{children}</StatusOK>;
    case 'warning':
      return <StatusWarning {...readable}>{children}</StatusWarning>;
    case 'error':
      return <StatusError {...readable}>{children}</StatusError>;
    case 'running':
      return <StatusRunning {...readable}>{children}</StatusRunning>;
    default:
      return <StatusPending {...readable}>{children}</StatusPending>;
  }
}

export function BackupStatus({ backup }: { backup: Pick<BackupResource, 'status'> }) {
  const tone: Tone = backup.status === 'completed' ? 'ok' : backup.status === 'failed' ? 'error' : 'running';
  return <Status tone={tone}>{STATUS_LABELS[backup.status] ?? backup.status}</Status>;
}

export function Verified({ backup }: { backup: Pick<BackupResource, 'verification'> }) {
  const v = backup.verification;
  if (!v) return <Status tone="pending">Not verified</Status>;
  return v.result === 'passed' ? <Status tone="ok">Verified</Status> : <Status tone="error">Verification failed</Status>;
}

/** Freshness against the schedule: ok / late / missing, or no schedule at all. */
export function Freshness({ status }: { status: Pick<StatefulSetStatusResource, 'freshness' | 'schedule'> }) {
  const f = status.freshness;
  if (!f) return <Status tone="warning">No schedule: backups are manual only</Status>;
  switch (f.state) {
    case 'ok':
      return <Status tone="ok">Fresh: on schedule</Status>;
    case 'late':
      return (
        <Status tone="warning">
          Late{f.lateBySeconds !== undefined ? ` by ${formatDuration(f.lateBySeconds)}` : ''}: the last scheduled backup did not complete
        </Status>
      );
    default:
      return <Status tone="error">Missing: no completed backup</Status>;
  }
}
