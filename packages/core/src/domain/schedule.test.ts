import { describe, expect, it } from '@jest/globals';
import { PgBackupError } from '../errors.js';
import { aBackup } from '../testing/builders.js';
import { type Schedule, assertSchedule, freshness, nextRun, previousRun } from './schedule.js';

const invalidError = (fn: () => unknown): PgBackupError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PgBackupError);
    expect((e as PgBackupError).code).toBe('Invalid');
    expect((e as PgBackupError).hint).toBeTruthy();
    return e as PgBackupError;
  }
  throw new Error('expected an Invalid error');
};

describe('assertSchedule', () => {
  it.each([
    '0 2 * * *',
    '*/15 * * * *',
    '0 3 * * 1-5',
    '5 4 1,15 * *',
    '0 0 * * SUN',
    '@yearly',
    '@annually',
    '@monthly',
    '@weekly',
    '@daily',
    '@midnight',
    '@hourly',
    '  @daily ',
  ])('accepts %p', (cron) => {
    expect(assertSchedule({ cron })).toEqual({ cron });
  });

  it('accepts a known IANA time zone', () => {
    expect(assertSchedule({ cron: '0 2 * * *', timeZone: 'Europe/Berlin' })).toEqual({ cron: '0 2 * * *', timeZone: 'Europe/Berlin' });
  });

  it('rejects 6 fields (seconds), which a CronJob does not accept', () => {
    expect(invalidError(() => assertSchedule({ cron: '0 0 2 * * *' })).message).toBe(
      'invalid schedule "0 0 2 * * *": a CronJob schedule has 5 fields (minute hour day-of-month month day-of-week)',
    );
  });

  it.each([
    'every day',
    '0 2 * *',
    'foo bar baz qux quux',
    '61 * * * *',
    '0 25 * * *',
    '* * * * 8',
    '@reboot',
    '',
    'valueOf',
    'constructor',
  ])('rejects %p', (cron) => {
    expect(invalidError(() => assertSchedule({ cron })).message).toMatch(/^invalid schedule/);
  });

  it('rejects an unknown time zone', () => {
    expect(invalidError(() => assertSchedule({ cron: '0 2 * * *', timeZone: 'Mars/Olympus' })).message).toBe(
      'unknown time zone "Mars/Olympus"',
    );
  });

  it('nextRun and previousRun reject a bad schedule too', () => {
    invalidError(() => nextRun({ cron: '0 0 2 * * *' }, new Date()));
    invalidError(() => previousRun({ cron: 'nope' }, new Date()));
  });
});

describe('nextRun and previousRun', () => {
  const daily2am: Schedule = { cron: '0 2 * * *' };

  it('computes in UTC when no zone is given', () => {
    expect(nextRun(daily2am, new Date('2026-06-01T12:00:00Z')).toISOString()).toBe('2026-06-02T02:00:00.000Z');
    expect(previousRun(daily2am, new Date('2026-06-01T12:00:00Z')).toISOString()).toBe('2026-06-01T02:00:00.000Z');
  });

  it('computes the wall-clock time of the zone, in summer and in winter', () => {
    const berlin: Schedule = { ...daily2am, timeZone: 'Europe/Berlin' };
    expect(nextRun(berlin, new Date('2026-06-01T12:00:00Z')).toISOString()).toBe('2026-06-02T00:00:00.000Z'); // CEST, UTC+2
    expect(nextRun(berlin, new Date('2026-01-15T12:00:00Z')).toISOString()).toBe('2026-01-16T01:00:00.000Z'); // CET, UTC+1
    expect(previousRun(berlin, new Date('2026-06-01T12:00:00Z')).toISOString()).toBe('2026-06-01T00:00:00.000Z');
  });

  it('expands macros', () => {
    expect(nextRun({ cron: '@hourly' }, new Date('2026-06-01T12:30:00Z')).toISOString()).toBe('2026-06-01T13:00:00.000Z');
    expect(nextRun({ cron: '@weekly' }, new Date('2026-06-01T12:00:00Z')).toISOString()).toBe('2026-06-07T00:00:00.000Z'); // Sunday
  });

  it('nextRun is strictly after the given time', () => {
    expect(nextRun({ cron: '@hourly' }, new Date('2026-06-01T12:00:00Z')).toISOString()).toBe('2026-06-01T13:00:00.000Z');
  });
});

describe('freshness', () => {
  const hourly: Schedule = { cron: '0 * * * *' };
  const at = (t: string) => new Date(`2026-06-01T${t}Z`);

  it('is ok when the newest completed backup covers the last scheduled run, with the RPO in seconds', () => {
    const f = freshness(hourly, [aBackup('b', '2026-06-01T10:01:00Z')], at('10:20:00'));
    expect(f).toEqual({
      state: 'ok',
      expectedSince: '2026-06-01T10:00:00.000Z',
      newestCompletedAt: '2026-06-01T10:01:00.000Z',
      rpoSeconds: 19 * 60,
      nextRunAt: '2026-06-01T11:00:00.000Z',
    });
  });

  it('is late when the last scheduled run has no completed backup after the grace period, saying by how much', () => {
    const f = freshness(hourly, [aBackup('b', '2026-06-01T09:01:00Z')], at('10:20:00'));
    expect(f.state).toBe('late');
    expect(f.expectedSince).toBe('2026-06-01T10:00:00.000Z');
    expect(f.lateBySeconds).toBe(20 * 60);
    expect(f.rpoSeconds).toBe(79 * 60);
  });

  it('gives a run the grace period to complete before it counts as late', () => {
    const backups = [aBackup('b', '2026-06-01T09:01:00Z')];
    expect(freshness(hourly, backups, at('10:10:00')).state).toBe('ok'); // 10:00 run still within 15 min grace
    expect(freshness(hourly, backups, at('10:10:00')).expectedSince).toBe('2026-06-01T09:00:00.000Z');
    expect(freshness(hourly, backups, at('10:16:00')).state).toBe('late');
    expect(freshness(hourly, backups, at('10:10:00'), { graceSeconds: 300 }).state).toBe('late');
    expect(freshness(hourly, backups, at('10:10:00'), { graceSeconds: 300 }).lateBySeconds).toBe(600);
  });

  it('owes no run expected before the schedule was set: a backup older than the schedule is not late until its first run', () => {
    const backups = [aBackup('b', '2026-05-20T08:00:00Z')];
    // Set at 10:05: the 10:00 run was never owed, so nothing is late before 11:00 + grace.
    const since = { scheduledSince: '2026-06-01T10:05:00Z' };
    expect(freshness(hourly, backups, at('10:20:00'), since)).toMatchObject({ state: 'ok', rpoSeconds: 12 * 86400 + 140 * 60 });
    expect(freshness(hourly, backups, at('11:20:00'), since)).toMatchObject({ state: 'late', lateBySeconds: 20 * 60 });
    // Set before the 10:00 run: that run was owed.
    expect(freshness(hourly, backups, at('10:20:00'), { scheduledSince: '2026-06-01T09:30:00Z' }).state).toBe('late');
    // No backup at all stays missing, however new the schedule.
    expect(freshness(hourly, [], at('10:20:00'), since).state).toBe('missing');
  });

  it('is missing when there is no completed backup at all', () => {
    const f = freshness(hourly, [aBackup('f', '2026-06-01T10:01:00Z', { status: 'failed' })], at('10:20:00'));
    expect(f).toEqual({ state: 'missing', expectedSince: '2026-06-01T10:00:00.000Z', nextRunAt: '2026-06-01T11:00:00.000Z' });
  });

  it('counts only completed backups: a newer failed or in-progress backup does not make it fresh', () => {
    const backups = [
      aBackup('running', '2026-06-01T10:00:05Z', { status: 'in_progress' }),
      aBackup('failed', '2026-06-01T10:00:01Z', { status: 'failed' }),
      aBackup('old', '2026-06-01T09:00:10Z'),
    ];
    const f = freshness(hourly, backups, at('10:20:00'));
    expect(f.state).toBe('late');
    expect(f.newestCompletedAt).toBe('2026-06-01T09:00:10.000Z');
  });

  it('uses the newest completed backup whatever the order of the list', () => {
    const backups = [
      aBackup('old', '2026-06-01T08:00:00Z'),
      aBackup('new', '2026-06-01T10:00:30Z'),
      aBackup('mid', '2026-06-01T09:00:00Z'),
    ];
    expect(freshness(hourly, backups, at('10:20:00')).state).toBe('ok');
  });

  it('dates a backup by its cut, not by when it started', () => {
    const b = aBackup('b', '2026-06-01T09:59:50Z', { cutAt: '2026-06-01T10:00:02Z' });
    expect(freshness(hourly, [b], at('10:20:00')).state).toBe('ok');
  });

  it('never reports a negative RPO for a backup dated in the future (clock skew)', () => {
    expect(freshness(hourly, [aBackup('b', '2026-06-01T10:25:00Z')], at('10:20:00')).rpoSeconds).toBe(0);
  });

  it('moves on with the clock across runs (what it reuses between calls never goes stale)', () => {
    const hourly: Schedule = { cron: '0 * * * *' };
    const at = (iso: string) => freshness(hourly, [aBackup('b', '2026-06-01T12:00:30Z')], new Date(iso));
    expect(at('2026-06-01T12:20:00Z')).toMatchObject({
      state: 'ok',
      expectedSince: '2026-06-01T12:00:00.000Z',
      nextRunAt: '2026-06-01T13:00:00.000Z',
    });
    expect(at('2026-06-01T13:10:00Z')).toMatchObject({
      state: 'ok',
      expectedSince: '2026-06-01T12:00:00.000Z',
      nextRunAt: '2026-06-01T14:00:00.000Z',
    });
    expect(at('2026-06-01T13:16:00Z')).toMatchObject({ state: 'late', expectedSince: '2026-06-01T13:00:00.000Z', lateBySeconds: 960 });
    // and back in time (another caller's clock): computed anew, not taken from the later answer
    expect(at('2026-06-01T12:20:00Z')).toMatchObject({
      state: 'ok',
      expectedSince: '2026-06-01T12:00:00.000Z',
      nextRunAt: '2026-06-01T13:00:00.000Z',
    });
  });

  it('follows the schedule time zone', () => {
    const berlin: Schedule = { cron: '0 2 * * *', timeZone: 'Europe/Berlin' }; // 00:00Z in summer
    const b = aBackup('b', '2026-05-31T23:59:00Z');
    expect(freshness(berlin, [b], new Date('2026-06-01T01:00:00Z')).state).toBe('late');
    expect(freshness({ cron: '0 2 * * *' }, [b], new Date('2026-06-01T01:00:00Z')).state).toBe('ok');
  });
});
