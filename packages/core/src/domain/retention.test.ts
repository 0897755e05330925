import { describe, expect, it } from '@jest/globals';
import { PgBackupError } from '../errors.js';
import { aBackup } from '../testing/builders.js';
import type { Backup } from './backup.js';
import { type PruneDecision, type RetentionPolicy, assertRetentionPolicy, dayKey, planPrune, weekKey } from './retention.js';

const now = new Date('2026-06-01T12:00:00Z');
const daysAgo = (d: number, from = now) => new Date(from.getTime() - d * 86_400_000).toISOString();

const actions = (decisions: PruneDecision[]) => Object.fromEntries(decisions.map((d) => [d.backup.id, d.action]));
const deleted = (decisions: PruneDecision[]) => decisions.filter((d) => d.action === 'delete').map((d) => d.backup.id);
const reasonsOf = (decisions: PruneDecision[], id: string) => decisions.find((d) => d.backup.id === id)!.reasons;

/** `n` completed backups, one per day, the newest `b0` one day ago. */
const daily = (n: number): Backup[] => Array.from({ length: n }, (_, i) => aBackup(`b${i}`, daysAgo(i + 1)));

describe('planPrune invariants', () => {
  it('plans nothing for no backups', () => {
    expect(planPrune([], { keepLast: 3 }, now)).toEqual([]);
  });

  it('returns one decision per backup, newest first, whatever the input order', () => {
    const backups = daily(4);
    const decisions = planPrune([backups[2]!, backups[0]!, backups[3]!, backups[1]!], { keepLast: 1 }, now);
    expect(decisions.map((d) => d.backup.id)).toEqual(['b0', 'b1', 'b2', 'b3']);
  });

  it('never prunes the newest completed backup, even with keepLast 0 and a tiny maxAgeDays', () => {
    const backups = daily(3);
    const decisions = planPrune(backups, { keepLast: 0, maxAgeDays: 0.0001 }, now);
    expect(actions(decisions)).toEqual({ b0: 'keep', b1: 'delete', b2: 'delete' });
    expect(reasonsOf(decisions, 'b0')).toEqual(['newest completed backup']);
  });

  it('never prunes the newest completed backup when newer failed and in-progress backups exist', () => {
    const backups = [
      aBackup('running', daysAgo(0.01), { status: 'in_progress' }),
      aBackup('broken', daysAgo(0.5), { status: 'failed' }),
      aBackup('good', daysAgo(40)),
      aBackup('older', daysAgo(50)),
    ];
    const decisions = planPrune(backups, { maxAgeDays: 7 }, now);
    expect(actions(decisions)).toEqual({ running: 'keep', broken: 'keep', good: 'keep', older: 'delete' });
  });

  it('never prunes a pinned backup, completed or failed', () => {
    const backups = [
      aBackup('new', daysAgo(1)),
      aBackup('pinned-old', daysAgo(300), { pinned: true }),
      aBackup('pinned-failed', daysAgo(200), { status: 'failed', pinned: true }),
    ];
    const decisions = planPrune(backups, { keepLast: 1 }, now);
    expect(actions(decisions)).toEqual({ new: 'keep', 'pinned-old': 'keep', 'pinned-failed': 'keep' });
    expect(reasonsOf(decisions, 'pinned-old')).toContain('pinned');
    expect(reasonsOf(decisions, 'pinned-failed')).toContain('pinned');
  });

  it('never prunes an in-progress backup, however old', () => {
    const backups = [aBackup('new', daysAgo(1)), aBackup('stuck', daysAgo(90), { status: 'in_progress' })];
    const decisions = planPrune(backups, { keepLast: 1 }, now);
    expect(actions(decisions)).toEqual({ new: 'keep', stuck: 'keep' });
    expect(reasonsOf(decisions, 'stuck')).toContain('in progress');
  });

  it('deletes nothing when every backup failed: a failed backup goes only once a newer completed one exists', () => {
    const backups = [aBackup('f1', daysAgo(1), { status: 'failed' }), aBackup('f2', daysAgo(30), { status: 'failed' })];
    const decisions = planPrune(backups, { keepLast: 1, maxAgeDays: 1 }, now);
    expect(deleted(decisions)).toEqual([]);
    expect(reasonsOf(decisions, 'f2')).toEqual(['failed, but no newer completed backup exists yet']);
  });

  it('deletes a failed backup once a newer completed backup exists, and keeps a failed one newer than it', () => {
    const backups = [
      aBackup('f-new', daysAgo(0.5), { status: 'failed' }),
      aBackup('ok', daysAgo(1)),
      aBackup('f-old', daysAgo(2), { status: 'failed' }),
    ];
    const decisions = planPrune(backups, { keepLast: 10 }, now);
    expect(actions(decisions)).toEqual({ 'f-new': 'keep', ok: 'keep', 'f-old': 'delete' });
    expect(reasonsOf(decisions, 'f-old')).toEqual(['failed, and a newer completed backup exists']);
  });

  it('deletes a completed backup that no rule keeps, saying so', () => {
    const decisions = planPrune(daily(2), { keepLast: 1 }, now);
    expect(reasonsOf(decisions, 'b1')).toEqual(['kept by no retention rule']);
  });

  it('validates the policy before planning', () => {
    expect(() => planPrune(daily(2), { keepLast: -1 }, now)).toThrow(PgBackupError);
  });
});

describe('planPrune rules', () => {
  it('keepLast N keeps the N newest completed backups', () => {
    const decisions = planPrune(daily(5), { keepLast: 3 }, now);
    expect(actions(decisions)).toEqual({ b0: 'keep', b1: 'keep', b2: 'keep', b3: 'delete', b4: 'delete' });
    expect(reasonsOf(decisions, 'b2')).toEqual(['keep-last 3/3']);
  });

  it('keepLast counts completed backups only, not failed or in-progress ones', () => {
    const backups = [aBackup('f', daysAgo(0.2), { status: 'failed' }), aBackup('r', daysAgo(0.1), { status: 'in_progress' }), ...daily(3)];
    expect(actions(planPrune(backups, { keepLast: 2 }, now))).toMatchObject({ b0: 'keep', b1: 'keep', b2: 'delete' });
  });

  it('keepDaily N keeps the newest backup of each of the N most recent days with a backup', () => {
    const backups = [
      aBackup('d1-late', '2026-05-31T22:00:00Z'),
      aBackup('d1-early', '2026-05-31T02:00:00Z'),
      aBackup('d2-late', '2026-05-30T20:00:00Z'),
      aBackup('d2-early', '2026-05-30T01:00:00Z'),
      aBackup('d3', '2026-05-27T12:00:00Z'),
    ];
    const decisions = planPrune(backups, { keepDaily: 2 }, now);
    expect(actions(decisions)).toEqual({ 'd1-late': 'keep', 'd1-early': 'delete', 'd2-late': 'keep', 'd2-early': 'delete', d3: 'delete' });
    expect(reasonsOf(decisions, 'd2-late')).toEqual(['keep-daily 2026-05-30']);
  });

  it('keepWeekly N keeps the newest backup of each of the N most recent ISO weeks, across a year boundary', () => {
    const backups = [
      aBackup('w01-mon', '2027-01-04T02:00:00Z'), // 2027-W01
      aBackup('w53-sun', '2027-01-03T02:00:00Z'), // 2026-W53
      aBackup('w53-fri', '2027-01-01T02:00:00Z'), // 2026-W53
      aBackup('w53-thu', '2026-12-31T02:00:00Z'), // 2026-W53
      aBackup('w52-sun', '2026-12-27T02:00:00Z'), // 2026-W52
      aBackup('w52-mon', '2026-12-21T02:00:00Z'), // 2026-W52
    ];
    const decisions = planPrune(backups, { keepWeekly: 3 }, new Date('2027-01-05T00:00:00Z'));
    expect(actions(decisions)).toEqual({
      'w01-mon': 'keep',
      'w53-sun': 'keep',
      'w53-fri': 'delete',
      'w53-thu': 'delete',
      'w52-sun': 'keep',
      'w52-mon': 'delete',
    });
    expect(reasonsOf(decisions, 'w53-sun')).toEqual(['keep-weekly 2026-W53']);
  });

  it('maxAgeDays keeps completed backups younger than that many days', () => {
    const backups = [aBackup('a1', daysAgo(1)), aBackup('a6', daysAgo(6.9)), aBackup('a7', daysAgo(7.1)), aBackup('a30', daysAgo(30))];
    const decisions = planPrune(backups, { maxAgeDays: 7 }, now);
    expect(actions(decisions)).toEqual({ a1: 'keep', a6: 'keep', a7: 'delete', a30: 'delete' });
    expect(reasonsOf(decisions, 'a6')).toEqual(['younger than 7d']);
  });

  it('keeps a backup when ANY rule keeps it (union), listing every reason', () => {
    const backups = [
      aBackup('n0', daysAgo(0.1)),
      aBackup('n1', daysAgo(0.2)),
      aBackup('old-week', '2026-05-18T12:00:00Z'), // 2026-W21, 14 days ago
      aBackup('older', '2026-05-17T12:00:00Z'),
    ];
    const decisions = planPrune(backups, { keepLast: 1, maxAgeDays: 1, keepWeekly: 2 }, now);
    expect(actions(decisions)).toEqual({ n0: 'keep', n1: 'keep', 'old-week': 'keep', older: 'delete' });
    expect(reasonsOf(decisions, 'n0')).toEqual(['newest completed backup', 'keep-last 1/1', 'keep-weekly 2026-W23', 'younger than 1d']);
    expect(reasonsOf(decisions, 'n1')).toEqual(['younger than 1d']);
    expect(reasonsOf(decisions, 'old-week')).toEqual(['keep-weekly 2026-W21']);
  });

  it('keeps a backup dated in the future (clock skew) under maxAgeDays instead of pruning it', () => {
    const future = (d: number) => new Date(now.getTime() + d * 86_400_000).toISOString();
    const backups = [aBackup('f10', future(10)), aBackup('f9', future(9)), aBackup('past', daysAgo(8))];
    const decisions = planPrune(backups, { maxAgeDays: 7 }, now);
    expect(actions(decisions)).toEqual({ f10: 'keep', f9: 'keep', past: 'delete' });
    expect(reasonsOf(decisions, 'f9')).toEqual(['younger than 7d']);
  });

  describe.each([
    ['spring forward', '2026-03-29', '2026-03-28T23:30:00Z', '2026-03-29T21:30:00Z', '2026-03-28T10:00:00Z'],
    ['fall back', '2026-10-25', '2026-10-24T22:30:00Z', '2026-10-25T22:30:00Z', '2026-10-24T10:00:00Z'],
  ])('daily buckets on a DST day (%s, Europe/Berlin %s)', (_, day, at0030, at2330, dayBefore) => {
    const backups = [aBackup('late', at2330), aBackup('early', at0030), aBackup('day-before', dayBefore)];
    const later = new Date('2026-12-01T00:00:00Z');

    it('puts 00:30 and 23:30 local time in one bucket of the local day', () => {
      expect(dayKey(new Date(at0030), 'Europe/Berlin')).toBe(day);
      expect(dayKey(new Date(at2330), 'Europe/Berlin')).toBe(day);
      const decisions = planPrune(backups, { keepDaily: 2, timeZone: 'Europe/Berlin' }, later);
      expect(actions(decisions)).toEqual({ late: 'keep', early: 'delete', 'day-before': 'keep' });
      expect(reasonsOf(decisions, 'late')).toContain(`keep-daily ${day}`);
    });

    it('splits them in UTC, where they fall on different days', () => {
      expect(dayKey(new Date(at0030))).not.toBe(dayKey(new Date(at2330)));
      const decisions = planPrune(backups, { keepDaily: 2 }, later);
      expect(actions(decisions)).toEqual({ late: 'keep', early: 'keep', 'day-before': 'delete' });
    });
  });
});

describe('dayKey and weekKey', () => {
  it('dayKey is the calendar day in the zone, UTC by default', () => {
    expect(dayKey(new Date('2026-06-01T23:30:00Z'))).toBe('2026-06-01');
    expect(dayKey(new Date('2026-06-01T23:30:00Z'), 'Europe/Berlin')).toBe('2026-06-02');
    expect(dayKey(new Date('2026-06-01T02:00:00Z'), 'America/New_York')).toBe('2026-05-31');
  });

  it.each([
    ['2026-12-28T12:00:00Z', '2026-W53'],
    ['2026-12-31T12:00:00Z', '2026-W53'],
    ['2027-01-01T12:00:00Z', '2026-W53'],
    ['2027-01-03T12:00:00Z', '2026-W53'],
    ['2027-01-04T12:00:00Z', '2027-W01'],
    ['2025-12-29T12:00:00Z', '2026-W01'],
    ['2026-01-01T12:00:00Z', '2026-W01'],
    ['2024-12-30T12:00:00Z', '2025-W01'],
    ['2026-06-01T12:00:00Z', '2026-W23'],
  ])('weekKey(%s) is the ISO week %s', (at, week) => {
    expect(weekKey(new Date(at))).toBe(week);
  });

  it('weekKey uses the local day: Sunday 23:30 in Berlin is still that week even when UTC says so too, Monday 00:30 is the next', () => {
    expect(weekKey(new Date('2027-01-03T22:30:00Z'), 'Europe/Berlin')).toBe('2026-W53'); // Sun 23:30 local
    expect(weekKey(new Date('2027-01-03T23:30:00Z'), 'Europe/Berlin')).toBe('2027-W01'); // Mon 00:30 local
    expect(weekKey(new Date('2027-01-03T23:30:00Z'))).toBe('2026-W53');
  });

  it('an unknown time zone is Invalid with a hint', () => {
    expect(() => dayKey(now, 'Mars/Olympus')).toThrow(
      expect.objectContaining({
        code: 'Invalid',
        message: 'unknown time zone "Mars/Olympus"',
        hint: { text: expect.stringMatching(/IANA/) },
      }),
    );
  });
});

describe('assertRetentionPolicy', () => {
  it.each<RetentionPolicy>([
    { keepLast: 7 },
    { maxAgeDays: 0.5 },
    { keepDaily: 7, keepWeekly: 4, timeZone: 'Europe/Berlin' },
    { keepLast: 0, keepDaily: 1 },
  ])('accepts %p', (policy) => {
    expect(assertRetentionPolicy(policy)).toBe(policy);
  });

  it.each<[string, RetentionPolicy, RegExp]>([
    ['negative keepLast', { keepLast: -1 }, /keepLast must be a non-negative integer \(got -1\)/],
    ['non-integer keepLast', { keepLast: 1.5 }, /keepLast must be a non-negative integer \(got 1.5\)/],
    ['non-integer keepDaily', { keepDaily: 2.5 }, /keepDaily must be a non-negative integer/],
    ['negative keepWeekly', { keepWeekly: -4 }, /keepWeekly must be a non-negative integer/],
    ['negative maxAgeDays', { maxAgeDays: -1 }, /maxAgeDays must be a non-negative number/],
    ['NaN maxAgeDays', { maxAgeDays: Number.NaN }, /maxAgeDays must be a non-negative number/],
    ['infinite keepLast', { keepLast: Number.POSITIVE_INFINITY }, /keepLast must be a non-negative integer/],
    ['an empty policy', {}, /keeps nothing by rule/],
    ['a policy of zeros', { keepLast: 0, maxAgeDays: 0 }, /keeps nothing by rule/],
    ['an unknown time zone', { keepLast: 1, timeZone: 'Europe/Atlantis' }, /unknown time zone "Europe\/Atlantis"/],
  ])('rejects %s with Invalid and a hint', (_, policy, message) => {
    let error: unknown;
    try {
      assertRetentionPolicy(policy);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PgBackupError);
    expect((error as PgBackupError).code).toBe('Invalid');
    expect((error as PgBackupError).message).toMatch(message);
    expect((error as PgBackupError).hint).toBeTruthy();
  });
});
