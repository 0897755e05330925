import { describe, expect, it } from '@jest/globals';
import { aBackup } from '../testing/builders.js';
import { formatLsn, parseLsn, parseSegmentName, recoverabilityWindow, segmentName, segmentRuns } from './walArchive.js';

const MB16 = 16 * 1024 * 1024;

describe('WAL positions and segment names', () => {
  it('parses and prints LSNs as PostgreSQL does', () => {
    expect(parseLsn('0/3000060')).toBe(0x3000060n);
    expect(parseLsn('1/A')).toBe((1n << 32n) | 10n);
    expect(formatLsn(parseLsn('16/B374D848'))).toBe('16/B374D848');
    expect(() => parseLsn('3000060')).toThrow(/not a WAL position/);
  });

  it('names segments like XLogFileName, and reads them back (.partial included)', () => {
    expect(segmentName(1, parseLsn('0/3000060'))).toBe('000000010000000000000003');
    expect(segmentName(2, parseLsn('1/FF000000'))).toBe('0000000200000001000000FF');
    expect(parseSegmentName('0000000200000001000000FF.partial')).toEqual({ timeline: 2, start: parseLsn('1/FF000000'), partial: true });
    expect(parseSegmentName('00000002.history')).toBeUndefined();
    expect(parseSegmentName('000000010000000000000003', 64 * 1024 * 1024)?.start).toBe(3n * 64n * 1024n * 1024n);
  });

  it('groups segments into runs without holes: a missing segment splits them', () => {
    const files = ['000000010000000000000003', '000000010000000000000004', '000000010000000000000006.partial'];
    expect(segmentRuns({ files, segmentBytes: MB16 }).map((r) => [formatLsn(r.from), formatLsn(r.to)])).toEqual([
      ['0/3000000', '0/5000000'],
      ['0/6000000', '0/7000000'],
    ]);
  });
});

describe('recoverabilityWindow', () => {
  const files = ['000000010000000000000003', '000000010000000000000004', '000000010000000000000005.partial'];
  const newestCommit = { time: '2026-12-07T12:10:00Z', lsn: '0/5001000' };
  const backup = (id: string, cutAt: string, redoLsn: string) =>
    aBackup(id, cutAt, { status: 'completed', cutAt, lsn: redoLsn, redoLsn });

  it('starts at the oldest completed backup whose redo point the newest run holds, and ends at the newest commit', () => {
    const backups = [
      backup('before-archive', '2026-12-07T11:00:00Z', '0/2000028'),
      backup('b1', '2026-12-07T12:00:00Z', '0/3000100'),
      backup('b2', '2026-12-07T12:05:00Z', '0/4000100'),
    ];
    expect(recoverabilityWindow(backups, { files, segmentBytes: MB16, newestCommit })).toEqual({
      base: { id: 'b1', cutAt: '2026-12-07T12:00:00Z', lsn: '0/3000100' },
      from: '2026-12-07T12:00:00Z',
      to: '2026-12-07T12:10:00Z',
      toLsn: '0/5001000',
    });
  });

  it('has no window when a hole separates every backup from the newest WAL, or nothing was received', () => {
    const holed = ['000000010000000000000003', '000000010000000000000005.partial'];
    const backups = [backup('b1', '2026-12-07T12:00:00Z', '0/3000100')];
    expect(recoverabilityWindow(backups, { files: holed, segmentBytes: MB16, newestCommit })).toBeUndefined();
    expect(recoverabilityWindow(backups, { files, segmentBytes: MB16 })).toBeUndefined();
    expect(recoverabilityWindow([{ ...backups[0]!, status: 'failed' }], { files, segmentBytes: MB16, newestCommit })).toBeUndefined();
  });
});
