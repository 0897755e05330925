/**
 * The one output module (Velero's `output` package): `-o table|wide|json|yaml|name` and
 * `--no-headers`. json/yaml go through core's zod schemas first, so what a script reads is exactly
 * the documented shape, the same as the HTTP API's.
 */
export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml', 'name'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface OutputOptions {
  format: OutputFormat;
  noHeaders?: boolean;
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Shown only with -o wide. */
  wide?: boolean;
}

/** A kubectl-style table: upper-case headers, columns three spaces apart, no borders. */
export function table<T>(rows: T[], columns: Column<T>[], options: { wide?: boolean; noHeaders?: boolean } = {}): string {
  const shown = columns.filter((c) => options.wide || !c.wide);
  const cells = rows.map((r) => shown.map((c) => c.value(r)));
  if (!options.noHeaders) cells.unshift(shown.map((c) => c.header.toUpperCase()));
  if (cells.length === 0) return '';
  const widths = shown.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n') + '\n';
}

/** Names of the core schemas that json/yaml output is validated against. */
export type SchemaName = 'Backup' | 'BackupList' | 'StatefulSetStatus' | 'PruneDecisionList' | 'ScheduledBackup' | 'DoctorReport';

const KINDS: Record<SchemaName, string> = {
  Backup: 'Backup',
  BackupList: 'BackupList',
  StatefulSetStatus: 'StatefulSetStatus',
  PruneDecisionList: 'PruneDecisionList',
  ScheduledBackup: 'BackupSchedule',
  DoctorReport: 'DoctorReport',
};

/** Validates `value` through core's schema and returns it as JSON text (2-space indent) or YAML. */
export async function serialize(schema: SchemaName, value: unknown, format: 'json' | 'yaml'): Promise<string> {
  const core = await import('@pgbackup/core/isomorphic');
  const schemas = {
    Backup: core.BackupSchema,
    BackupList: core.BackupListSchema,
    StatefulSetStatus: core.StatefulSetStatusSchema,
    PruneDecisionList: core.PruneDecisionListSchema,
    ScheduledBackup: core.ScheduledBackupSchema,
    DoctorReport: core.DoctorReportSchema,
  } as const;
  const parsed = schemas[schema].safeParse(value);
  if (!parsed.success)
    throw new Error(`internal error: the ${schema} to print does not match its schema: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const doc = { kind: KINDS[schema], ...(parsed.data as object) };
  if (format === 'json') return JSON.stringify(doc, null, 2) + '\n';
  const { stringify } = await import('yaml');
  return stringify(doc, { lineWidth: 0 });
}

export interface View<T> {
  schema: SchemaName;
  /** What json/yaml print (validated against the schema). */
  data: unknown;
  rows: T[];
  columns: Column<T>[];
  /** `-o name`: `backup/<id>` per row. */
  name: (row: T) => string;
  /** Printed on stderr when a table has no rows (kubectl's "No resources found"). */
  empty?: string;
}

/** Renders a view in the chosen format; returns stdout text and, for an empty table, a stderr note. */
export async function render<T>(view: View<T>, options: OutputOptions): Promise<{ stdout: string; stderr?: string }> {
  switch (options.format) {
    case 'json':
    case 'yaml':
      return { stdout: await serialize(view.schema, view.data, options.format) };
    case 'name':
      return { stdout: view.rows.map((r) => view.name(r) + '\n').join('') };
    default:
      if (view.rows.length === 0 && view.empty) return { stdout: '', stderr: view.empty + '\n' };
      return { stdout: table(view.rows, view.columns, { wide: options.format === 'wide', noHeaders: options.noHeaders }) };
  }
}

/** Bytes as Kubernetes quantities with binary suffixes: 1Gi, 512Mi, 1.5Gi. */
export function humanBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '<none>';
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = value >= 10 || Number.isInteger(value) ? String(Math.round(value)) : value.toFixed(1).replace(/\.0$/, '');
  return `${text}${units[unit]}`;
}

/** kubectl's age format (apimachinery duration.HumanDuration): 45s, 3m12s, 2h, 5d, 1y30d. */
export function age(since: string | Date | undefined, now: Date = new Date()): string {
  if (!since) return '<unknown>';
  const seconds = Math.floor((now.getTime() - new Date(since).getTime()) / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
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

/** Seconds as a short duration: 90 → 1m30s, 7200 → 2h. */
export function duration(seconds: number | undefined): string {
  if (seconds === undefined) return '<none>';
  return age(new Date(0), new Date(seconds * 1000));
}
