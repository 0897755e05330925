/**
 * How sizes and durations read, for every surface (the CLI's columns, the portal's card): one
 * algorithm each. Browser-safe, imported as `@pgbackup/core/format`.
 */

const BINARY_SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi'];

/** Bytes scaled to binary units: the number (one decimal below 10, none above) and the suffix index. */
function scaled(bytes: number): { text: string; unit: number } {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BINARY_SUFFIXES.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = value >= 10 || Number.isInteger(value) ? String(Math.round(value)) : value.toFixed(1).replace(/\.0$/, '');
  return { text, unit };
}

/** Bytes as a Kubernetes quantity with a binary suffix: 1Gi, 512Mi, 1.5Gi. */
export function bytesQuantity(bytes: number): string {
  const { text, unit } = scaled(bytes);
  return `${text}${BINARY_SUFFIXES[unit]}`;
}

/** Bytes in IEC units for reading: 1.5 GiB, 512 MiB, 100 B. */
export function bytesIec(bytes: number): string {
  const { text, unit } = scaled(bytes);
  return `${text} ${unit === 0 ? 'B' : `${BINARY_SUFFIXES[unit]}B`}`;
}

/** A duration the way kubectl's AGE column writes it (apimachinery duration.HumanDuration): 45s, 3m12s, 2h, 5d, 1y30d. */
export function humanDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24);
    return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}
