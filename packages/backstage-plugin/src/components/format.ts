/** Display helpers. Pure, so tests and the dev page show the same text. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Bytes in IEC units, as kubectl shows quantities (`1.5 GiB`). */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '—';
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${UNITS[u]}`;
}

/** A duration as kubectl's AGE column writes it: `45s`, `12m`, `5h`, `3d`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

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
