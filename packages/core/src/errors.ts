/**
 * One error family for every surface. Each surface maps `code` once: CLI exit codes,
 * HTTP status + problem JSON, the portal's error panel. Core says what happened (`message`),
 * which object it is about (`object`) and what would help (`hint`) as data in no surface's
 * words: the CLI words a hint's options as flags and its step as a command, the API returns
 * them as fields, the portal as words.
 */
export type ErrorCode = 'NotFound' | 'Forbidden' | 'Conflict' | 'Invalid' | 'Timeout' | 'Unavailable' | 'Inconsistent';

/** The object an error is about. */
export interface ErrorObject {
  kind: 'Backup' | 'StatefulSet' | 'Pod' | 'BackupSchedule' | 'VolumeSnapshotClass' | 'VolumeGroupSnapshotClass';
  name: string;
  namespace?: string;
}

/**
 * An option of the same request that would help, named as core's request field (and the API's
 * body field): `{ option: 'force' }`, `{ option: 'method', value: 'group-snapshot' }`,
 * `{ option: 'method', omit: true }`. Without a value the surface asks for one (`--pod POD`).
 */
export interface HintOption {
  option: string;
  value?: string | boolean;
  /** Leaving the option out is what helps. */
  omit?: boolean;
}

/** Another operation that would help, e.g. unpin the backup, or follow it with status. */
export interface HintStep {
  operation: 'list' | 'status' | 'unpin' | 'restore' | 'recover' | 'doctor' | 'schedule-set';
  /** The backup id or StatefulSet the operation acts on. */
  target?: string;
  namespace?: string;
  /** Across all namespaces (list). */
  allNamespaces?: boolean;
  /** Options of that operation, e.g. `{ option: 'watch' }` on status, `{ option: 'inPlace' }` on restore. */
  options?: HintOption[];
}

export interface Hint {
  /** What would help, in words that name no flag or command of any surface. */
  text?: string;
  /** Options of this request that would help: alternatives, any one of them. */
  options?: HintOption[];
  step?: HintStep;
}

export interface ErrorDetails {
  cause?: unknown;
  object?: ErrorObject;
}

export class PgBackupError extends Error {
  readonly hint?: Hint;
  readonly object?: ErrorObject;

  constructor(
    readonly code: ErrorCode,
    message: string,
    hint?: Hint | string,
    details?: ErrorDetails,
  ) {
    super(message, details?.cause === undefined ? undefined : { cause: details.cause });
    this.name = `${code}Error`;
    this.hint = typeof hint === 'string' ? { text: hint } : hint;
    this.object = details?.object;
  }
}

const make =
  (code: ErrorCode) =>
  (message: string, hint?: Hint | string, details?: ErrorDetails): PgBackupError =>
    new PgBackupError(code, message, hint, details);

export const notFound = make('NotFound');
export const forbidden = make('Forbidden');
export const conflict = make('Conflict');
export const invalid = make('Invalid');
export const timeout = make('Timeout');
export const unavailable = make('Unavailable');
export const inconsistent = make('Inconsistent');

export function isPgBackupError(e: unknown, code?: ErrorCode): e is PgBackupError {
  return e instanceof PgBackupError && (code === undefined || e.code === code);
}
