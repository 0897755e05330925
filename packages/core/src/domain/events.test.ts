import { describe, expect, it } from '@jest/globals';
import { EVENT_REASONS, EVENT_WINDOW_SECONDS, eventName, eventNote } from './events.js';

describe('Events', () => {
  it('spells every reason in CamelCase, Warning for failures', () => {
    for (const [reason, { type }] of Object.entries(EVENT_REASONS)) {
      expect(reason).toMatch(/^[A-Z][a-z]+(?:[A-Z][a-z]+)*$/);
      expect(type).toBe(/Failed$/.test(reason) ? 'Warning' : 'Normal');
    }
  });

  it('names every occurrence of one reason on one StatefulSet within a window alike, and the next window anew', () => {
    const at = new Date('2026-06-01T12:00:00Z');
    const later = (s: number) => new Date(at.getTime() + s * 1000);
    const name = eventName({ statefulSet: 'pg', reason: 'BackupCompleted' }, at);
    expect(name).toMatch(/^pg\.backupcompleted\.[0-9a-z]+$/);
    expect(eventName({ statefulSet: 'pg', reason: 'BackupCompleted' }, later(EVENT_WINDOW_SECONDS - 1))).toBe(name);
    expect(eventName({ statefulSet: 'pg', reason: 'BackupCompleted' }, later(EVENT_WINDOW_SECONDS))).not.toBe(name);
    expect(eventName({ statefulSet: 'pg', reason: 'BackupFailed' }, at)).not.toBe(name);
    expect(eventName({ statefulSet: 'other', reason: 'BackupCompleted' }, at)).not.toBe(name);
  });

  it('keeps a note within the API server limit of 1024 characters', () => {
    expect(eventNote('x'.repeat(5000))).toHaveLength(1024);
    expect(eventNote('short')).toBe('short');
  });
});
