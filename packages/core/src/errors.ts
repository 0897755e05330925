/**
 * One error family for every surface. Each surface maps `code` once: CLI exit codes,
 * HTTP status + problem JSON, the portal's error panel. Messages say what happened and
 * what to do next (`hint`).
 */
export type ErrorCode =
  | 'NotFound'
  | 'Forbidden'
  | 'Conflict'
  | 'Invalid'
  | 'Timeout'
  | 'Unavailable'
  | 'Inconsistent';

export class PgBackupError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = `${code}Error`;
  }
}

const make =
  (code: ErrorCode) =>
  (message: string, hint?: string, options?: { cause?: unknown }): PgBackupError =>
    new PgBackupError(code, message, hint, options);

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
