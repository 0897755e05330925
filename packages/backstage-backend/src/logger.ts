/** The logging the router needs; Backstage's LoggerService and the standalone JSON logger both fit. */
export interface Logger {
  error(message: string, meta?: Error | Record<string, unknown>): void;
  warn(message: string, meta?: Error | Record<string, unknown>): void;
  info(message: string, meta?: Error | Record<string, unknown>): void;
  debug(message: string, meta?: Error | Record<string, unknown>): void;
}

export const LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type Level = (typeof LEVELS)[number];

/** One JSON object per line on stdout (`level`, `time`, `msg`, fields); errors carry their stack. */
export function jsonLogger(
  level: Level = 'info',
  write: (line: string) => void = (l) => process.stdout.write(l + '\n'),
  fields: Record<string, unknown> = {},
): Logger {
  const max = LEVELS.indexOf(level);
  const log = (lvl: Level) => (msg: string, meta?: Error | Record<string, unknown>) => {
    if (LEVELS.indexOf(lvl) > max) return;
    const extra = meta instanceof Error ? { error: { name: meta.name, message: meta.message, stack: meta.stack } } : meta;
    write(JSON.stringify({ level: lvl, time: new Date().toISOString(), msg, ...fields, ...extra }));
  };
  return { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') };
}

export function parseLevel(value: string | undefined): Level {
  const v = (value ?? 'info').toLowerCase();
  if (v === 'warning') return 'warn';
  if ((LEVELS as readonly string[]).includes(v)) return v as Level;
  throw new Error(`LOG_LEVEL must be one of ${LEVELS.join(', ')} (got "${value}")`);
}
