import { invalid } from '../errors.js';
import { type Backup, backupTime, newestFirst } from './backup.js';

/**
 * Which completed backups to keep. A backup is kept when ANY rule keeps it:
 * younger than `maxAgeDays`, among the `keepLast` newest, the newest of one of the `keepDaily`
 * most recent days or of one of the `keepWeekly` most recent ISO weeks (days and weeks in `timeZone`).
 */
export interface RetentionPolicy {
  maxAgeDays?: number;
  keepLast?: number;
  keepDaily?: number;
  keepWeekly?: number;
  /** IANA zone for day/week buckets; UTC when absent. */
  timeZone?: string;
}

export interface PruneDecision {
  backup: Backup;
  action: 'keep' | 'delete';
  reasons: string[];
}

export function assertRetentionPolicy(policy: RetentionPolicy): RetentionPolicy {
  const rules = ['maxAgeDays', 'keepLast', 'keepDaily', 'keepWeekly'] as const;
  for (const rule of rules) {
    const v = policy[rule];
    if (v !== undefined && (!Number.isFinite(v) || v < 0 || (rule !== 'maxAgeDays' && !Number.isInteger(v))))
      throw invalid(
        `retention ${rule} must be a non-negative ${rule === 'maxAgeDays' ? 'number' : 'integer'} (got ${v})`,
        rule === 'maxAgeDays' ? 'e.g. maxAgeDays: 30 (days, fractions allowed)' : `e.g. ${rule}: 7 (a whole number; 0 turns the rule off)`,
      );
  }
  if (rules.every((r) => !policy[r]))
    throw invalid('the retention policy keeps nothing by rule', {
      text: 'set at least one rule',
      options: [{ option: 'maxAgeDays' }, { option: 'keepLast' }, { option: 'keepDaily' }, { option: 'keepWeekly' }],
    });
  if (policy.timeZone) dayKey(new Date(0), policy.timeZone);
  return policy;
}

/** Calendar day of `at` in `timeZone` (DST-safe: the zone's own wall-clock date). */
export function dayKey(at: Date, timeZone = 'UTC'): string {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
  } catch {
    throw invalid(`unknown time zone "${timeZone}"`, 'use an IANA name such as "Europe/Berlin" or "UTC"');
  }
}

/** ISO-8601 week (`2026-W48`) of `at`'s calendar day in `timeZone`. */
export function weekKey(at: Date, timeZone = 'UTC'): string {
  const [y, m, d] = dayKey(at, timeZone).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday); // the Thursday of this ISO week decides its year
  const yearStart = Date.UTC(date.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((date.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${date.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

const DAY_MS = 86_400_000;

/**
 * Plans a prune of ONE StatefulSet's backups. Invariants, whatever the policy:
 * the newest completed backup, in-progress backups and pinned backups are never deleted.
 * Failed backups are deleted once a newer completed backup exists (they restore nothing).
 */
export function planPrune(backups: Backup[], policy: RetentionPolicy, now: Date): PruneDecision[] {
  assertRetentionPolicy(policy);
  const ordered = [...backups].sort(newestFirst);
  const completed = ordered.filter((b) => b.status === 'completed');
  const newestCompleted = completed[0];
  const reasons = new Map<Backup, string[]>(ordered.map((b) => [b, []]));
  const keep = (b: Backup, why: string) => reasons.get(b)!.push(why);

  completed.slice(0, policy.keepLast ?? 0).forEach((b, i) => keep(b, `keep-last ${i + 1}/${policy.keepLast}`));
  keepNewestPerBucket(completed, policy.keepDaily, (b) => dayKey(new Date(backupTime(b)), policy.timeZone), 'keep-daily', keep);
  keepNewestPerBucket(completed, policy.keepWeekly, (b) => weekKey(new Date(backupTime(b)), policy.timeZone), 'keep-weekly', keep);
  if (policy.maxAgeDays)
    for (const b of completed) {
      // A timestamp in the future (clock skew) counts as age 0: kept, never pruned early.
      const ageDays = Math.max(0, now.getTime() - Date.parse(backupTime(b))) / DAY_MS;
      if (ageDays < policy.maxAgeDays) keep(b, `younger than ${policy.maxAgeDays}d`);
    }

  return ordered.map((b): PruneDecision => {
    const why = reasons.get(b)!;
    if (b === newestCompleted) why.unshift('newest completed backup');
    if (b.pinned) why.unshift('pinned');
    if (b.status === 'in_progress') why.unshift('in progress');
    if (b.status === 'failed') {
      const newer = newestCompleted && Date.parse(backupTime(newestCompleted)) > Date.parse(backupTime(b));
      if (!newer && !b.pinned) why.unshift('failed, but no newer completed backup exists yet');
      else if (!b.pinned) return { backup: b, action: 'delete', reasons: ['failed, and a newer completed backup exists'] };
    }
    return why.length > 0
      ? { backup: b, action: 'keep', reasons: why }
      : { backup: b, action: 'delete', reasons: ['kept by no retention rule'] };
  });
}

function keepNewestPerBucket(
  completedNewestFirst: Backup[],
  buckets: number | undefined,
  key: (b: Backup) => string,
  rule: string,
  keep: (b: Backup, why: string) => void,
): void {
  if (!buckets) return;
  const seen = new Set<string>();
  for (const b of completedNewestFirst) {
    const k = key(b);
    if (seen.has(k)) continue;
    if (seen.size >= buckets) break;
    seen.add(k);
    keep(b, `${rule} ${k}`);
  }
}
