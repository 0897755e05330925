import { describe, expect, it } from '@jest/globals';
import { DATABASE_HEALTH, databaseHealth, newestVerified } from './health.js';

const verified = (result: 'passed' | 'failed', at: string) => ({ verification: { result, at } });

describe('databaseHealth', () => {
  it('puts the worst first, in this order', () => {
    expect(DATABASE_HEALTH).toEqual(['unreadable', 'failed', 'missing', 'late', 'verification-failed', 'manual', 'ok']);
  });

  it('says each state, the worse one winning', () => {
    const failedAndLate = { newestBackup: { status: 'failed' as const }, freshness: { state: 'late' as const } };
    expect(databaseHealth(undefined, [])).toBe('unreadable');
    expect(databaseHealth(failedAndLate, [])).toBe('failed');
    expect(databaseHealth({ freshness: { state: 'missing' } }, [])).toBe('missing');
    expect(
      databaseHealth({ newestBackup: { status: 'completed' }, freshness: { state: 'late' } }, [verified('failed', '2026-06-01T00:00:00Z')]),
    ).toBe('late');
    expect(databaseHealth({ freshness: { state: 'ok' } }, [verified('failed', '2026-06-01T00:00:00Z')])).toBe('verification-failed');
    expect(databaseHealth({ newestBackup: { status: 'completed' } }, [])).toBe('manual');
    expect(
      databaseHealth({ freshness: { state: 'ok' } }, [
        verified('passed', '2026-06-02T00:00:00Z'),
        verified('failed', '2026-06-01T00:00:00Z'),
      ]),
    ).toBe('ok');
  });
});

describe('newestVerified', () => {
  it('is the backup verified last, whatever the list order', () => {
    const older = verified('passed', '2026-06-01T00:00:00Z');
    const newer = verified('failed', '2026-06-03T00:00:00Z');
    expect(newestVerified([older, {}, newer])).toBe(newer);
    expect(newestVerified([{}])).toBeUndefined();
    expect(newestVerified(undefined)).toBeUndefined();
  });
});
