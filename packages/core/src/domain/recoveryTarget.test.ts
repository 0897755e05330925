import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { aBackup } from '../testing/builders.js';
import {
  chooseBaseBackup,
  parseRecoveryTarget,
  parseTargetTime,
  parseTimelineHistory,
  recoveryScript,
  recoverySettings,
} from './recoveryTarget.js';
import type { RecoverabilityWindow } from './walArchive.js';

const window: RecoverabilityWindow = {
  base: { id: 'pg-a', cutAt: '2026-12-07T10:00:00Z', lsn: '0/3000000' },
  from: '2026-12-07T10:00:00Z',
  to: '2026-12-07T12:00:00.500000Z',
  toLsn: '0/9000000',
};
const backups = [
  aBackup('pg-old', '2026-12-07T09:00:00Z', { lsn: '0/1000000' }),
  aBackup('pg-a', '2026-12-07T10:00:00Z', { lsn: '0/3000100', redoLsn: '0/3000000' }),
  aBackup('pg-b', '2026-12-07T11:00:00Z', { lsn: '0/6000100', redoLsn: '0/6000000' }),
  aBackup('pg-failed', '2026-12-07T11:30:00Z', { status: 'failed', lsn: '0/7000000' }),
];

describe('recovery targets', () => {
  it('parses RFC 3339 times strictly, to the microsecond, and requires the offset', () => {
    expect(parseTargetTime('2026-12-07T11:00:00Z')).toBe(BigInt(Date.UTC(2026, 11, 7, 11)) * 1000n);
    expect(parseTargetTime('2026-12-07T12:00:00.000001+01:00')).toBe(BigInt(Date.UTC(2026, 11, 7, 11)) * 1000n + 1n);
    expect(() => parseTargetTime('2026-12-07T11:00:00')).toThrow(/with an offset/);
    expect(() => parseTargetTime('2026-12-07T11:00:00')).toThrow(
      expect.objectContaining({ hint: { text: expect.stringMatching(/add the offset/) } }),
    );
    expect(() => parseTargetTime('2026-02-30T11:00:00Z')).toThrow(/not a valid date/);
    expect(() => parseTargetTime('2026-12-07T24:00:00Z')).toThrow(/not a valid date/);
    expect(() => parseTargetTime('2026-12-07T11:00:00.1234567Z')).toThrow(/microsecond/);
    expect(() => parseTargetTime('yesterday')).toThrow(/not an RFC 3339 time/);
  });

  it('takes exactly one target; inclusive unless told otherwise', () => {
    expect(parseRecoveryTarget({})).toBeUndefined();
    expect(parseRecoveryTarget({ time: '2026-12-07T11:00:00Z' })).toEqual({ kind: 'time', time: '2026-12-07T11:00:00Z', inclusive: true });
    expect(parseRecoveryTarget({ lsn: '0/3a', inclusive: false })).toEqual({ kind: 'lsn', lsn: '0/3A', inclusive: false });
    expect(() => parseRecoveryTarget({ time: '2026-12-07T11:00:00Z', lsn: '0/1' })).toThrow(/one recovery target, not time and lsn/);
    expect(() => parseRecoveryTarget({ lsn: '12' })).toThrow(/not a WAL position/);
    expect(() => parseRecoveryTarget({ inclusive: false })).toThrow(/give a target/);
  });

  it('refuses restore point names that would need quoting anywhere', () => {
    expect(parseRecoveryTarget({ name: 'before-migration_42.a' })).toMatchObject({ kind: 'name', name: 'before-migration_42.a' });
    for (const name of ["x'; rm -rf /; '", 'a b', '$(id)', '-x', 'a'.repeat(64), '', 'x"y', 'é'])
      expect(() => parseRecoveryTarget({ name })).toThrow(/invalid restore point name/);
  });
});

describe('the base backup of a restore to a target', () => {
  const time = (t: string) => parseRecoveryTarget({ time: t })!;

  it('is the newest completed backup the archive covers, cut at or before the target', () => {
    expect(chooseBaseBackup(time('2026-12-07T10:30:00Z'), window, backups).id).toBe('pg-a');
    expect(chooseBaseBackup(time('2026-12-07T11:45:00Z'), window, backups).id).toBe('pg-b');
    expect(chooseBaseBackup(time('2026-12-07T11:00:00Z'), window, backups).id).toBe('pg-b');
    expect(chooseBaseBackup(parseRecoveryTarget({ lsn: '0/5000000' })!, window, backups).id).toBe('pg-a');
  });

  it('refuses a target outside the window, naming it', () => {
    const named = /recoverability window, 2026-12-07T10:00:00Z \(backup pg-a\) to 2026-12-07T12:00:00.500000Z \(LSN 0\/9000000\)/;
    expect(() => chooseBaseBackup(time('2026-12-07T09:30:00Z'), window, backups)).toThrow(named);
    expect(() => chooseBaseBackup(time('2026-12-07T09:30:00Z'), window, backups)).toThrow(/is before the/);
    expect(() => chooseBaseBackup(time('2026-12-07T12:00:00.500001Z'), window, backups)).toThrow(/is after the/);
    expect(() => chooseBaseBackup(parseRecoveryTarget({ lsn: '0/9000001' })!, window, backups)).toThrow(/is after the/);
    expect(() => chooseBaseBackup(time('2026-12-07T11:00:00Z'), undefined, backups, { why: 'it holds no WAL yet' })).toThrow(
      /no recoverability window: it holds no WAL yet/,
    );
  });

  it('checks a given backup: covered by the archive and cut before the target', () => {
    expect(chooseBaseBackup(time('2026-12-07T11:30:00Z'), window, backups, { backup: backups[1] }).id).toBe('pg-a');
    expect(() => chooseBaseBackup(time('2026-12-07T11:30:00Z'), window, backups, { backup: backups[0] })).toThrow(
      /not covered by the WAL archive/,
    );
    expect(() => chooseBaseBackup(time('2026-12-07T10:30:00Z'), window, backups, { backup: backups[2] })).toThrow(/cut after the time/);
  });

  it('finds a restore point among those marked, and checks where it is', () => {
    const restorePoints = [{ name: 'before-x', lsn: '0/6800000', time: '2026-12-07T11:20:00.000000Z' }];
    expect(chooseBaseBackup(parseRecoveryTarget({ name: 'before-x' })!, window, backups, { restorePoints }).id).toBe('pg-b');
    expect(() => chooseBaseBackup(parseRecoveryTarget({ name: 'other' })!, window, backups, { restorePoints })).toThrow(
      /no restore point "other" is recorded/,
    );
  });
});

describe('the recovery settings and the init container script', () => {
  it('writes restore_command with the .partial fallback, the target, promote and the base timeline', () => {
    expect(recoverySettings(parseRecoveryTarget({ time: '2026-12-07T11:00:00.25+01:00', inclusive: false })!)).toEqual([
      `restore_command = 'cp "/var/lib/pgbackup/wal-archive/wal/%f" "%p" 2>/dev/null || cp "/var/lib/pgbackup/wal-archive/wal/%f.partial" "%p"'`,
      "recovery_target_time = '2026-12-07T11:00:00.25+01:00'",
      "recovery_target_inclusive = 'off'",
      "recovery_target_timeline = 'current'",
      "recovery_target_action = 'promote'",
    ]);
  });

  it('runs in sh: on the first start writes the settings and recovery.signal and drops the archiver slot; never again', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pgdata-'));
    mkdirSync(path.join(dir, 'pg_replslot/pgbackup_wal_archive'), { recursive: true });
    mkdirSync(path.join(dir, 'pg_replslot/standby_1'), { recursive: true });
    writeFileSync(path.join(dir, 'PG_VERSION'), '15\n');
    writeFileSync(path.join(dir, 'postgresql.auto.conf'), "max_slot_wal_keep_size = '4GB'\n");
    // The archive's directory is a constant; the test runs the script with it replaced by a temporary one.
    const archive = mkdtempSync(path.join(tmpdir(), 'archive-'));
    const script = recoveryScript(parseRecoveryTarget({ name: 'before-x' })!, 'copy-wal-archive-1').replaceAll(
      '/var/lib/pgbackup/wal-archive/wal',
      archive,
    );
    const start = () => execFileSync('sh', ['-c', script], { env: { PATH: process.env.PATH, PGDATA: dir }, encoding: 'utf8' });
    expect(start()).toMatch(/recovery to restore point "before-x" set up/);
    expect(existsSync(path.join(dir, 'recovery.signal'))).toBe(true);
    expect(existsSync(path.join(dir, 'pg_replslot/pgbackup_wal_archive'))).toBe(false);
    expect(existsSync(path.join(dir, 'pg_replslot/standby_1'))).toBe(true);
    const conf = readFileSync(path.join(dir, 'postgresql.auto.conf'), 'utf8');
    expect(conf).toMatch(/^max_slot_wal_keep_size = '4GB'\n# kubectl pgbackup restore: restore point "before-x"\nrestore_command = /);
    expect(conf).toContain("recovery_target_name = 'before-x'\n");
    // Promotion removes recovery.signal; a restart of the pod must not start recovery again.
    execFileSync('rm', [path.join(dir, 'recovery.signal')]);
    expect(start()).toMatch(/written on an earlier start/);
    expect(existsSync(path.join(dir, 'recovery.signal'))).toBe(false);
    expect(readFileSync(path.join(dir, 'postgresql.auto.conf'), 'utf8')).toBe(conf);
  });

  it('refuses to start without a data directory', () => {
    const script = recoveryScript(parseRecoveryTarget({ lsn: '0/1' })!, 'r');
    expect(() => execFileSync('sh', ['-c', script], { env: { PGDATA: '/nonexistent' }, stdio: 'pipe' })).toThrow(
      /no PostgreSQL data directory/,
    );
  });
});

describe('where replay stopped', () => {
  it('is the last line of the newest timeline history', () => {
    expect(parseTimelineHistory('00000002.history', '1\t0/5A3B2C8\tbefore 2026-12-07 11:00:00.25+00\n')).toEqual({
      timeline: 2,
      lsn: '0/5A3B2C8',
      reason: 'before 2026-12-07 11:00:00.25+00',
    });
    expect(parseTimelineHistory('00000003.history', '1\t0/5A3B2C8\tx\n\n2\t0/6000000\tat restore point "a"\n')?.lsn).toBe('0/6000000');
    expect(parseTimelineHistory('x.history', '1\t0/1\ty')).toBeUndefined();
  });
});
