// Properties of the parsers and of retention, for any input fast-check can think of (issue 11).
// Each property's runs are counted in the name; a failure prints the shrunk counterexample.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { PgBackupError } from '../errors.js';
import { aBackup } from '../testing/builders.js';
import { type Backup, BACKUP_STATUSES, newestFirst } from './backup.js';
import { labelsMatch } from './labelSelector.js';
import { assertLabelSelector, assertName, dns1123LabelProblem, newBackupId } from './names.js';
import { assertRetentionPolicy, planPrune, type RetentionPolicy } from './retention.js';
import { assertSchedule, nextRun, previousRun } from './schedule.js';

const RUNS = 300;
const NOW = new Date('2026-06-01T12:00:00Z');

/** Only the error family may come out of a parser: anything else would be a crash (exit 1 + stack, or HTTP 500). */
function invalidOrOk(fn: () => unknown): 'ok' | 'invalid' {
  try {
    fn();
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(PgBackupError);
    expect((e as PgBackupError).code).toBe('Invalid');
    expect((e as PgBackupError).message).not.toMatch(/\n/);
    return 'invalid';
  }
}

const time = fc.date({ min: new Date('2025-01-01T00:00:00Z'), max: new Date('2026-07-01T00:00:00Z'), noInvalidDate: true });
const backupArb = fc.record({
  at: time,
  status: fc.constantFrom(...BACKUP_STATUSES),
  pinned: fc.boolean(),
  suffix: fc.stringMatching(/^[a-z0-9]{4}$/),
});
const backupsArb = fc.uniqueArray(backupArb, { maxLength: 40, selector: (b) => b.suffix }).map((list) =>
  list.map((b) =>
    aBackup(
      `pg-${b.at
        .toISOString()
        .replace(/[-:T.Z]/g, '')
        .slice(0, 14)}-${b.suffix}`,
      b.at.toISOString(),
      { status: b.status, pinned: b.pinned },
    ),
  ),
);
const count = fc.option(fc.nat({ max: 30 }), { nil: undefined });
const policyArb: fc.Arbitrary<RetentionPolicy> = fc
  .record({
    keepLast: count,
    keepDaily: count,
    keepWeekly: count,
    maxAgeDays: fc.option(fc.double({ min: 0, max: 400, noNaN: true }), { nil: undefined }),
    timeZone: fc.option(fc.constantFrom('UTC', 'Europe/Berlin', 'America/Los_Angeles', 'Asia/Kolkata', 'Pacific/Chatham'), {
      nil: undefined,
    }),
  })
  .filter((p) => Boolean(p.keepLast || p.keepDaily || p.keepWeekly || p.maxAgeDays));

describe('retention (planPrune), for any set of backups and policy', () => {
  it(`never deletes the newest completed, a pinned or an in-progress backup; decides each backup once (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(backupsArb, policyArb, (backups, policy) => {
        const decisions = planPrune(backups, policy, NOW);
        expect(decisions.map((d) => d.backup.id).sort()).toEqual(backups.map((b) => b.id).sort());
        const deleted = new Set(decisions.filter((d) => d.action === 'delete').map((d) => d.backup.id));
        const newestCompleted = [...backups].sort(newestFirst).find((b) => b.status === 'completed');
        if (newestCompleted) expect(deleted.has(newestCompleted.id)).toBe(false);
        for (const b of backups) {
          if (b.pinned || b.status === 'in_progress') expect(deleted.has(b.id)).toBe(false);
        }
        for (const d of decisions) expect(d.reasons.length).toBeGreaterThan(0);
        // A failed backup only goes when a newer completed one exists.
        for (const d of decisions.filter((x) => x.action === 'delete' && x.backup.status === 'failed'))
          expect(newestCompleted && Date.parse(newestCompleted.cutAt ?? newestCompleted.startedAt) > Date.parse(d.backup.startedAt)).toBe(
            true,
          );
      }),
      { numRuns: RUNS },
    );
  });

  it(`keeps at least min(keepLast, completed) completed backups (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(backupsArb, fc.integer({ min: 1, max: 10 }), (backups, keepLast) => {
        const kept = planPrune(backups, { keepLast }, NOW).filter((d) => d.action === 'keep' && d.backup.status === 'completed');
        expect(kept.length).toBeGreaterThanOrEqual(Math.min(keepLast, backups.filter((b: Backup) => b.status === 'completed').length));
      }),
      { numRuns: RUNS },
    );
  });

  it(`rejects any invalid policy with an Invalid error, never another exception (${RUNS} runs)`, () => {
    const anyNumber = fc.option(fc.oneof(fc.integer({ min: -5, max: 50 }), fc.double(), fc.constant(Number.NaN), fc.constant(Infinity)), {
      nil: undefined,
    });
    fc.assert(
      fc.property(
        fc.record({
          keepLast: anyNumber,
          keepDaily: anyNumber,
          keepWeekly: anyNumber,
          maxAgeDays: anyNumber,
          timeZone: fc.option(fc.string(), { nil: undefined }),
        }),
        (policy) => {
          invalidOrOk(() => assertRetentionPolicy(policy));
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('schedule parser', () => {
  const field = (min: number, max: number) =>
    fc.oneof(
      fc.constant('*'),
      fc.integer({ min, max }).map(String),
      fc.integer({ min: 1, max: Math.max(1, max - min) }).map((s) => `*/${s}`),
      fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
      fc.uniqueArray(fc.integer({ min, max }), { minLength: 2, maxLength: 4 }).map((v) => v.join(',')),
    );
  const validCron = fc.tuple(field(0, 59), field(0, 23), field(1, 28), field(1, 12), field(0, 6)).map((f) => f.join(' '));

  it(`any string: accepted or an Invalid error (${RUNS} runs)`, () => {
    const junk = fc.oneof(
      fc.string(),
      fc
        .array(
          fc.oneof(
            fc.constantFrom('*', '/', '-', ',', '?', 'L', '#', '@daily', '@reboot', '60', '-1', '99', 'MON', 'JAN', ' '),
            fc.nat(70).map(String),
          ),
          { maxLength: 8 },
        )
        .map((a) => a.join(' ')),
    );
    fc.assert(
      fc.property(junk, fc.option(fc.oneof(fc.string(), fc.constantFrom('UTC', 'Europe/Berlin')), { nil: undefined }), (cron, timeZone) => {
        invalidOrOk(() => assertSchedule({ cron, timeZone }));
      }),
      { numRuns: RUNS },
    );
  });

  it(`a valid 5-field cron: next run after the instant, previous run not after it (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(validCron, time, fc.constantFrom(undefined, 'UTC', 'Europe/Berlin', 'America/New_York'), (cron, at, timeZone) => {
        expect(invalidOrOk(() => assertSchedule({ cron, timeZone }))).toBe('ok');
        const next = nextRun({ cron, timeZone }, at);
        const prev = previousRun({ cron, timeZone }, at);
        expect(next.getTime()).toBeGreaterThan(at.getTime());
        expect(prev.getTime()).toBeLessThanOrEqual(at.getTime());
        expect(next.getTime() - at.getTime()).toBeLessThanOrEqual(366 * 86_400_000 * 5);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('names and selectors', () => {
  it(`assertName and assertLabelSelector: ok or Invalid for any string; labelsMatch never throws on a valid selector (${RUNS} runs)`, () => {
    const chars = fc.string({ unit: fc.constantFrom(...'abz09-._/=!(), \tAZé'.split('')), maxLength: 70 });
    fc.assert(
      fc.property(fc.oneof(chars, fc.string({ maxLength: 80 })), (s) => {
        invalidOrOk(() => assertName('StatefulSet', s));
        invalidOrOk(() => assertName('VolumeSnapshotClass', s, 'subdomain'));
        if (invalidOrOk(() => assertLabelSelector(s)) === 'ok') labelsMatch({ app: 'pg', 'pgbackup.io/backup': 'x' }, s);
      }),
      { numRuns: RUNS },
    );
  });

  it(`newBackupId: a DNS-1123 label of ≤ 63 characters that sorts by time, for any valid StatefulSet name (${RUNS} runs)`, () => {
    const stsName = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    fc.assert(
      fc.property(stsName, time, time, (sts, a, b) => {
        const [early, late] = a <= b ? [a, b] : [b, a];
        const x = newBackupId(sts, early);
        const y = newBackupId(sts, late);
        expect(dns1123LabelProblem(x)).toBeUndefined();
        expect(x.length).toBeLessThanOrEqual(63);
        expect(x.slice(0, -5) <= y.slice(0, -5)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});
