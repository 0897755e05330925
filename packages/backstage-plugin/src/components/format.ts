/** Display helpers. Pure, so tests and the dev page show the same text. */
import { bytesIec, humanDuration } from '@pgbackup/core/format';

/** Bytes in IEC units (`1.5 GiB`): core's one algorithm, shared with the CLI's quantities. */
export function formatBytes(bytes: number | undefined): string {
  return bytes === undefined ? '—' : bytesIec(bytes);
}

/** A duration as kubectl's AGE column writes it (`45s`, `12m`, `5h`, `3d`): core's one algorithm, shared with the CLI. */
export const formatDuration = humanDuration;

export function ageSeconds(iso: string, now: number = Date.now()): number {
  return (now - Date.parse(iso)) / 1000;
}

/** An absolute time, in the reader's locale and zone. */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A moment in words, relative to now (`3 min ago`, `in 21 h`): the portal's one way to say when; the absolute time goes on hover. */
export function formatRelative(iso: string, now: number = Date.now()): string {
  const s = ageSeconds(iso, now);
  const a = Math.abs(s);
  const amount =
    a < 60
      ? `${Math.floor(a)} s`
      : a < 3600
        ? `${Math.floor(a / 60)} min`
        : a < 2 * 86400
          ? `${Math.floor(a / 3600)} h`
          : `${Math.floor(a / 86400)} d`;
  return s >= 0 ? `${amount} ago` : `in ${amount}`;
}

/** What the metadata tables call each fact: a label map, not start-case (which writes "Postgre SQL Version"). */
export const LABELS: Record<string, string> = {
  freshness: 'Freshness',
  newestBackup: 'Newest backup',
  newestCompleted: 'Newest completed',
  lastVerification: 'Last verification',
  nextRun: 'Next scheduled run',
  replicas: 'Replicas',
  pods: 'Pods',
  status: 'Status',
  phase: 'Phase',
  type: 'Type',
  method: 'Method',
  startedAt: 'Started',
  cutAt: 'Point-in-time cut',
  size: 'Size',
  snapshots: 'VolumeSnapshots ready',
  pod: 'Pod',
  pgVersion: 'PostgreSQL version',
  lsn: 'LSN',
  pinned: 'Pinned',
  verification: 'Verification',
};

export const label = (key: string): string => LABELS[key] ?? key;

export const METHOD_LABELS: Record<string, string> = {
  'checkpoint-snapshot': 'CHECKPOINT + snapshot',
  'group-snapshot': 'CHECKPOINT + group snapshot',
};

export const STATUS_LABELS: Record<string, string> = {
  completed: 'Completed',
  failed: 'Failed',
  in_progress: 'In progress',
};
