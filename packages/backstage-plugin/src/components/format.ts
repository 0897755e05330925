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

export function formatAge(iso: string | undefined, now: number = Date.now()): string {
  return iso ? formatDuration(ageSeconds(iso, now)) : '—';
}

/** An absolute time, in the reader's locale and zone. */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatRelative(iso: string, now: number = Date.now()): string {
  const s = ageSeconds(iso, now);
  return s >= 0 ? `${formatDuration(s)} ago` : `in ${formatDuration(-s)}`;
}

export const METHOD_LABELS: Record<string, string> = {
  'checkpoint-snapshot': 'CHECKPOINT + snapshot',
  'group-snapshot': 'CHECKPOINT + group snapshot',
};

export const STATUS_LABELS: Record<string, string> = {
  completed: 'Completed',
  failed: 'Failed',
  in_progress: 'In progress',
};
