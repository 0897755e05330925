/**
 * The one place where failures become exit codes and text. Core's error family is matched by its
 * `code` (not instanceof) so this module stays free of core and loads fast; its structured hints
 * are worded here, as this tool's flags and commands.
 */
import type { Hint, HintOption, HintStep } from '@pgbackup/core/isomorphic';

export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  forbidden: 4,
  timeout: 5,
  conflict: 6,
  inconsistent: 7,
  /** Ctrl-C, as a shell reports SIGINT (128 + 2). */
  interrupted: 130,
  /** SIGTERM (128 + 15). */
  terminated: 143,
} as const;

const BY_CODE: Record<string, number> = {
  NotFound: ExitCode.notFound,
  Forbidden: ExitCode.forbidden,
  Timeout: ExitCode.timeout,
  Conflict: ExitCode.conflict,
  Inconsistent: ExitCode.inconsistent,
  Invalid: ExitCode.usage,
  Unavailable: ExitCode.failure,
};

/** A CLI-level failure with its own exit code (e.g. confirmation refused, backup ended failed). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.failure,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

interface Described {
  message: string;
  hint?: string;
  exitCode: number;
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();

/** Core's request options as this tool's flags, with what to type when the hint gives no value. */
const FLAGS: Record<string, { flag: string; placeholder?: string }> = {
  force: { flag: '--force' },
  pod: { flag: '--pod', placeholder: 'POD' },
  method: { flag: '--method', placeholder: 'METHOD' },
  to: { flag: '--to', placeholder: 'NAME' },
  inPlace: { flag: '--in-place' },
  replace: { flag: '--replace' },
  trustRecordedPodTemplate: { flag: '--trust-recorded-pod-template' },
  targetNamespace: { flag: '--target-namespace', placeholder: 'NAMESPACE' },
  namespace: { flag: '-n', placeholder: 'NAMESPACE' },
  image: { flag: '--image', placeholder: 'IMAGE' },
  cron: { flag: '--cron', placeholder: 'SCHEDULE' },
  watch: { flag: '--watch' },
  snapshotClass: { flag: '--snapshot-class', placeholder: 'CLASS' },
  groupSnapshotClass: { flag: '--group-snapshot-class', placeholder: 'CLASS' },
  lockWaitSeconds: { flag: '--lock-wait', placeholder: 'DURATION' },
  requestTimeout: { flag: '--request-timeout', placeholder: 'DURATION' },
  maxAgeDays: { flag: '--max-age', placeholder: 'DAYS' },
  keepLast: { flag: '--keep-last', placeholder: 'N' },
  keepDaily: { flag: '--keep-daily', placeholder: 'N' },
  keepWeekly: { flag: '--keep-weekly', placeholder: 'N' },
  kubeconfig: { flag: '--kubeconfig', placeholder: 'FILE' },
  context: { flag: '--context', placeholder: 'NAME' },
  as: { flag: '--as', placeholder: 'USER' },
  server: { flag: '--server', placeholder: 'URL' },
};

const quote = (v: string) => (/^[\w./:@=-]+$/.test(v) ? v : `"${v}"`);

/** One option as flags: `--force`, `--to pg-restored`, `--pod POD`, `omit --method`. */
export function flagText(o: HintOption): string {
  const known = FLAGS[o.option] ?? { flag: `--${o.option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, placeholder: 'VALUE' };
  if (o.omit) return `omit ${known.flag}`;
  if (typeof o.value === 'string') return `${known.flag} ${quote(o.value)}`;
  return o.value === undefined && known.placeholder ? `${known.flag} ${known.placeholder}` : known.flag;
}

/** A step as the command to run: `kubectl pgbackup status pg-… -n db --watch`. */
export function commandText(step: HintStep): string {
  const words = ['kubectl pgbackup', step.operation.replace('-', ' ')];
  if (step.target) words.push(step.target);
  if (step.allNamespaces) words.push('-A');
  else if (step.namespace) words.push(`-n ${step.namespace}`);
  for (const o of step.options ?? []) words.push(flagText(o));
  return words.join(' ');
}

/** A hint in this tool's words: "take a newer backup first, or delete it anyway (--force)". */
export function hintText(hint: Hint): string {
  const flags = (hint.options ?? []).map(flagText).join(' or ');
  const command = hint.step ? commandText(hint.step) : undefined;
  const lead = [hint.text, command].filter(Boolean).join(': ');
  if (!flags) return lead;
  if (!lead) return flags.startsWith('omit') ? flags : `pass ${flags}`;
  return `${lead} (${command ? 'or ' : ''}${flags})`;
}

const asHint = (h: unknown): string | undefined => {
  if (typeof h === 'string') return h;
  if (h && typeof h === 'object') return hintText(h as Hint) || undefined;
  return undefined;
};

/** What to print and which code to exit with, for any error thrown by a command. */
export function describeError(err: unknown): Described {
  const e = err as { code?: unknown; hint?: unknown; message?: unknown; oclif?: { exit?: number }; exitCode?: unknown; name?: string };
  const message = oneLine(typeof e?.message === 'string' && e.message ? e.message : String(err));
  if (err instanceof CliError) return { message, hint: err.hint, exitCode: err.exitCode };
  if (typeof e?.code === 'string' && e.code in BY_CODE && typeof e.name === 'string' && e.name === `${e.code}Error`)
    return { message, hint: asHint(e.hint), exitCode: BY_CODE[e.code]! };
  // oclif's parse errors (unknown flag, missing argument, bad option value) carry exit 2.
  if (e?.oclif?.exit === 2) return { message: stripOclifSee(message), hint: 'see --help for the usage', exitCode: ExitCode.usage };
  return { message, exitCode: typeof e?.oclif?.exit === 'number' ? e.oclif.exit : ExitCode.failure };
}

const stripOclifSee = (m: string) => m.replace(/\s*See more help with --help$/, '');

/** The text printed on stderr: `error: …` then `hint: …`; the stack only with --debug. */
export function formatError(err: unknown, debug = false): string {
  const d = describeError(err);
  const lines = [`error: ${d.message}`];
  if (d.hint) lines.push(`hint: ${oneLine(d.hint)}`);
  if (debug && err instanceof Error && err.stack) {
    lines.push(err.stack);
    let cause = (err as { cause?: unknown }).cause;
    while (cause instanceof Error) {
      lines.push(`caused by: ${cause.stack ?? cause.message}`);
      cause = (cause as { cause?: unknown }).cause;
    }
  }
  return lines.join('\n') + '\n';
}
