/**
 * The one output module (Velero's `output` package): every verb's `-o` goes through `render`:
 * `table|wide|json|yaml|name|jsonpath=…|custom-columns=…` and `--no-headers`. json/yaml go through
 * core's zod schemas first, so what a script reads is exactly the documented shape, the same as
 * the HTTP API's; jsonpath and custom-columns read that same document.
 */
import { bytesQuantity, humanDuration } from '@pgbackup/core/format';
import { CliError, ExitCode } from './errors.js';

/** What -o accepts (and completes): jsonpath= and custom-columns= take their argument after the =. */
export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml', 'name', 'jsonpath=', 'custom-columns='] as const;
export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml' | 'name' | 'jsonpath' | 'custom-columns';

export interface OutputOptions {
  format: OutputFormat;
  noHeaders?: boolean;
  /** -o jsonpath=TEMPLATE */
  template?: string;
  /** -o custom-columns=NAME:PATH,… */
  customColumns?: { header: string; path: string }[];
}

/** `-o` as kubectl spells it; anything else is a usage error listing the formats. */
export function parseOutput(text: string | undefined): Omit<OutputOptions, 'noHeaders'> {
  if (text === undefined || text === '') return { format: 'table' };
  if (['table', 'wide', 'json', 'yaml', 'name'].includes(text)) return { format: text as OutputFormat };
  const eq = text.indexOf('=');
  const kind = eq < 0 ? text : text.slice(0, eq);
  const arg = eq < 0 ? '' : text.slice(eq + 1);
  if (kind === 'jsonpath') {
    if (!arg) throw new CliError("-o jsonpath needs a template, e.g. -o jsonpath='{.items[*].id}'", ExitCode.usage);
    return { format: 'jsonpath', template: arg };
  }
  if (kind === 'custom-columns') {
    const customColumns = arg.split(',').map((spec) => {
      const colon = spec.indexOf(':');
      if (colon <= 0 || colon === spec.length - 1)
        throw new CliError(`-o custom-columns: "${spec}" is not NAME:PATH, e.g. -o custom-columns=ID:.id,STATUS:.status`, ExitCode.usage);
      const path = spec.slice(colon + 1).trim();
      return { header: spec.slice(0, colon), path: path.startsWith('{') && path.endsWith('}') ? path.slice(1, -1) : path };
    });
    return { format: 'custom-columns', customColumns };
  }
  throw new CliError(`unknown output format "${text}"`, ExitCode.usage, `use one of: ${OUTPUT_FORMATS.join(', ')}`);
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Shown only with -o wide. */
  wide?: boolean;
}

/** A kubectl-style table: upper-case headers, columns three spaces apart, no borders. */
export function table<T>(rows: T[], columns: Column<T>[], options: { wide?: boolean; noHeaders?: boolean } = {}): string {
  return new TableStream(columns, options).lines(rows);
}

/**
 * A table printed in parts, as kubectl get -w prints it: the header with the first part, then the rows of
 * each part, every column as wide as its widest cell so far.
 */
export class TableStream<T> {
  private readonly shown: Column<T>[];
  private widths: number[];
  private headerDue: boolean;

  constructor(columns: Column<T>[], options: { wide?: boolean; noHeaders?: boolean } = {}) {
    this.shown = columns.filter((c) => options.wide || !c.wide);
    this.widths = this.shown.map(() => 0);
    this.headerDue = !options.noHeaders;
  }

  lines(rows: T[]): string {
    const cells = rows.map((r) => this.shown.map((c) => c.value(r)));
    if (this.headerDue) cells.unshift(this.shown.map((c) => c.header.toUpperCase()));
    this.headerDue = false;
    if (cells.length === 0) return '';
    this.widths = this.widths.map((w, i) => Math.max(w, ...cells.map((row) => row[i]!.length)));
    return cells
      .map(
        (row) =>
          row
            .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(this.widths[i]! + 3)))
            .join('')
            .trimEnd() + '\n',
      )
      .join('');
  }
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

/** Reports of this tool that have no core schema, printed under their kind as they are. */
export type ReportKind = 'Restore' | 'Recovery' | 'VerifyReport' | 'Version';

/** A Kubernetes object as printed by a dry run. */
export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
}

/** kubectl's `kind.group/name` spelling (`-o name`). */
export function resourceName(o: ManifestObject): string {
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
  return `${o.kind.toLowerCase()}${group ? `.${group}` : ''}/${o.metadata.name}`;
}

/** Validates `value` through core's schema and returns the document scripts read (`kind` first). */
async function validated(schema: SchemaName, value: unknown): Promise<object> {
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
    throw new Error(
      `internal error: the ${schema} to print does not match its schema: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return { kind: KINDS[schema], ...(parsed.data as object) };
}

/** Validates `value` through core's schema and returns it as JSON text (2-space indent) or YAML. */
export async function serialize(schema: SchemaName, value: unknown, format: 'json' | 'yaml'): Promise<string> {
  return text(await validated(schema, value), format);
}

async function text(doc: object, format: 'json' | 'yaml'): Promise<string> {
  if (format === 'json') return JSON.stringify(doc, null, 2) + '\n';
  const { stringify } = await import('yaml');
  return stringify(doc, { lineWidth: 0 });
}

export interface View<T> {
  /**
   * What json/yaml/jsonpath/custom-columns print: `data` validated through core's `schema`; else
   * Kubernetes `objects` (json: a kubectl `List`; yaml: one document each, ready for kubectl apply);
   * else `data` under a report `kind`.
   */
  schema?: SchemaName;
  kind?: ReportKind;
  objects?: ManifestObject[];
  data?: unknown;
  rows: T[];
  columns: Column<T>[];
  /** `-o name`: `backup/<id>` per row. */
  name: (row: T) => string;
  /** Printed on stderr when a table has no rows (kubectl's "No resources found"). */
  empty?: string;
  /** table/wide: this text instead of the table (a description, a summary of what was done). */
  text?: (wide: boolean) => string;
}

/** The document of a view, as json prints it. */
export async function documentOf(view: View<unknown>): Promise<object> {
  if (view.schema) return validated(view.schema, view.data);
  if (view.objects) return { apiVersion: 'v1', kind: 'List', items: view.objects };
  return { kind: view.kind, ...(view.data as object) };
}

async function customColumns(doc: object, columns: NonNullable<OutputOptions['customColumns']>, noHeaders?: boolean): Promise<string> {
  const { select, valueText } = await import('./jsonpath.js');
  const items = Array.isArray((doc as { items?: unknown }).items) ? (doc as { items: unknown[] }).items : [doc];
  return table(
    items,
    columns.map((c) => ({ header: c.header, value: (item: unknown) => select(c.path, item).map(valueText).join(',') || '<none>' })),
    { noHeaders },
  );
}

/** Renders a view in the chosen format; returns stdout text and, for an empty table, a stderr note. */
export async function render<T>(view: View<T>, options: OutputOptions): Promise<{ stdout: string; stderr?: string }> {
  switch (options.format) {
    case 'json':
      return { stdout: await text(await documentOf(view as View<unknown>), 'json') };
    case 'yaml':
      if (view.objects && !view.schema) {
        const { stringify } = await import('yaml');
        return { stdout: view.objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n') };
      }
      return { stdout: await text(await documentOf(view as View<unknown>), 'yaml') };
    case 'jsonpath': {
      const { renderTemplate } = await import('./jsonpath.js');
      return { stdout: renderTemplate(options.template ?? '', await documentOf(view as View<unknown>)) };
    }
    case 'custom-columns':
      return { stdout: await customColumns(await documentOf(view as View<unknown>), options.customColumns ?? [], options.noHeaders) };
    case 'name':
      return { stdout: view.rows.map((r) => view.name(r) + '\n').join('') };
    default:
      if (view.text) return { stdout: view.text(options.format === 'wide') };
      if (view.rows.length === 0 && view.empty) return { stdout: '', stderr: view.empty + '\n' };
      return { stdout: table(view.rows, view.columns, { wide: options.format === 'wide', noHeaders: options.noHeaders }) };
  }
}

/** Bytes as Kubernetes quantities with binary suffixes: 1Gi, 512Mi, 1.5Gi. */
export function humanBytes(bytes: number | undefined): string {
  return bytes === undefined ? '<none>' : bytesQuantity(bytes);
}

/** kubectl's age format (apimachinery duration.HumanDuration): 45s, 3m12s, 2h, 5d, 1y30d. */
export function age(since: string | Date | undefined, now: Date = new Date()): string {
  if (!since) return '<unknown>';
  const seconds = Math.floor((now.getTime() - new Date(since).getTime()) / 1000);
  if (seconds < -1) return '<invalid>';
  return humanDuration(seconds);
}

/** Seconds as a short duration: 90 → 90s, 7200 → 120m. */
export function duration(seconds: number | undefined): string {
  return seconds === undefined ? '<none>' : humanDuration(seconds);
}
