import { CronExpressionParser } from 'cron-parser';
import { invalid } from '../errors.js';
import { type Backup, backupTime } from './backup.js';

/** A backup schedule, as a Kubernetes CronJob reads it: 5-field cron (or a macro) plus an optional IANA zone. */
export interface Schedule {
  cron: string;
  timeZone?: string;
}

// The macros the CronJob controller accepts (robfig/cron's standard parser).
const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

function expression(schedule: Schedule, currentDate: Date) {
  const text = schedule.cron.trim();
  // Own keys only: "valueOf" is not a macro.
  const fields = Object.hasOwn(MACROS, text) ? MACROS[text]! : text;
  if (fields.split(/\s+/).length !== 5)
    throw invalid(
      `invalid schedule "${schedule.cron}": a CronJob schedule has 5 fields (minute hour day-of-month month day-of-week)`,
      'example: "0 2 * * *" runs at 02:00 every day',
    );
  try {
    return CronExpressionParser.parse(fields, { currentDate, tz: schedule.timeZone ?? 'UTC', strict: false });
  } catch (e) {
    throw invalid(`invalid schedule "${schedule.cron}": ${(e as Error).message}`, 'example: "0 2 * * *" runs at 02:00 every day');
  }
}

export function assertSchedule(schedule: Schedule): Schedule {
  if (schedule.timeZone) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: schedule.timeZone });
    } catch {
      throw invalid(`unknown time zone "${schedule.timeZone}"`, 'use an IANA name such as "Europe/Berlin"');
    }
  }
  expression(schedule, new Date());
  return schedule;
}

export function nextRun(schedule: Schedule, after: Date): Date {
  return expression(schedule, after).next().toDate();
}

export function previousRun(schedule: Schedule, before: Date): Date {
  return expression(schedule, before).prev().toDate();
}

interface Runs {
  /** The run a backup completed by now should cover: the last one before `now - grace`. */
  expected: Date;
  /** The first run after now. */
  next: Date;
  /** Both hold from the time they were computed until this instant (ms). */
  from: number;
  until: number;
}

/** Runs per schedule and grace, reused while they hold: parsing cron is the cost of a status or a scrape. */
const RUNS = new Map<string, Runs>();
const RUNS_MAX = 1000;

function runsAround(schedule: Schedule, now: Date, graceSeconds: number): Runs {
  const key = `${schedule.cron}\n${schedule.timeZone ?? ''}\n${graceSeconds}`;
  const t = now.getTime();
  const hit = RUNS.get(key);
  if (hit && t >= hit.from && t < hit.until) return hit;
  const grace = graceSeconds * 1000;
  const expected = previousRun(schedule, new Date(t - grace));
  const next = nextRun(schedule, now);
  // `expected` holds until the run after it is `grace` old; `next` until it comes.
  const until = Math.min(next.getTime(), nextRun(schedule, expected).getTime() + grace);
  const runs = { expected, next, from: t, until };
  if (RUNS.size >= RUNS_MAX) RUNS.clear();
  RUNS.set(key, runs);
  return runs;
}

export type FreshnessState = 'ok' | 'late' | 'missing';

export interface Freshness {
  state: FreshnessState;
  /** The scheduled run the newest completed backup should cover. */
  expectedSince?: string;
  newestCompletedAt?: string;
  /** Seconds since the newest completed backup: the data at risk (RPO) right now. */
  rpoSeconds?: number;
  /** Seconds since the schedule expected a newer backup, when late. */
  lateBySeconds?: number;
  nextRunAt: string;
}

export interface FreshnessOptions {
  /** Seconds a run gets to complete before its absence counts as late. */
  graceSeconds?: number;
  /** When the schedule was set (its CronJob created): a run expected before then was never owed. */
  scheduledSince?: string;
}

/** How late the newest completed backup is against the schedule. */
export function freshness(schedule: Schedule, backups: Backup[], now: Date, options: FreshnessOptions = {}): Freshness {
  const { graceSeconds = 900, scheduledSince } = options;
  const completed = backups
    .filter((b) => b.status === 'completed')
    .map((b) => Date.parse(backupTime(b)))
    .sort((a, b) => b - a);
  const runs = runsAround(schedule, now, graceSeconds);
  const nextRunAt = runs.next.toISOString();
  const expected = runs.expected;
  const newest = completed[0];
  if (newest === undefined) return { state: 'missing', expectedSince: expected.toISOString(), nextRunAt };
  const base = {
    expectedSince: expected.toISOString(),
    newestCompletedAt: new Date(newest).toISOString(),
    rpoSeconds: Math.max(0, Math.round((now.getTime() - newest) / 1000)),
    nextRunAt,
  };
  if (newest >= expected.getTime()) return { state: 'ok', ...base };
  if (scheduledSince !== undefined && Date.parse(scheduledSince) > expected.getTime()) return { state: 'ok', ...base };
  return { state: 'late', ...base, lateBySeconds: Math.round((now.getTime() - expected.getTime()) / 1000) };
}
