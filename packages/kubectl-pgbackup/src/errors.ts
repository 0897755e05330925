/**
 * The one place where failures become exit codes and text. Core's error family is matched by its
 * `code` (not instanceof) so this module stays free of core and loads fast.
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  forbidden: 4,
  timeout: 5,
  conflict: 6,
  inconsistent: 7,
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

/** What to print and which code to exit with, for any error thrown by a command. */
export function describeError(err: unknown): Described {
  const e = err as { code?: unknown; hint?: unknown; message?: unknown; oclif?: { exit?: number }; exitCode?: unknown; name?: string };
  const message = oneLine(typeof e?.message === 'string' && e.message ? e.message : String(err));
  if (err instanceof CliError) return { message, hint: err.hint, exitCode: err.exitCode };
  if (typeof e?.code === 'string' && e.code in BY_CODE && typeof e.name === 'string' && e.name === `${e.code}Error`)
    return { message, hint: typeof e.hint === 'string' ? e.hint : undefined, exitCode: BY_CODE[e.code]! };
  // oclif's parse errors (unknown flag, missing argument, bad option value) carry exit 2.
  if (e?.oclif?.exit === 2)
    return { message: stripOclifSee(message), hint: 'see --help for the usage', exitCode: ExitCode.usage };
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
