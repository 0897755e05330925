import { describe, expect, it } from '@jest/globals';
import { conflict, invalid, notFound } from '@pgbackup/core';
import { toProblem } from './problem.js';

describe("core's structured hints as problem fields", () => {
  it('returns the words, the request fields that would help and the object, never CLI flags', () => {
    const pinned = conflict(
      'backup b is pinned',
      {
        text: 'unpin it first, or delete it anyway',
        step: { operation: 'unpin', target: 'b', namespace: 'db' },
        options: [{ option: 'force' }],
      },
      { object: { kind: 'Backup', name: 'b', namespace: 'db' } },
    );
    const problem = toProblem(pinned);
    expect(problem).toMatchObject({
      status: 409,
      code: 'Conflict',
      detail: 'backup b is pinned',
      hint: 'unpin it first, or delete it anyway',
      options: [{ option: 'force' }],
      step: { operation: 'unpin', target: 'b', namespace: 'db' },
      object: { kind: 'Backup', name: 'b', namespace: 'db' },
    });
    expect(JSON.stringify(problem)).not.toMatch(/--|kubectl pgbackup/);
  });

  it('leaves out the fields a hint does not have', () => {
    const problem = toProblem(invalid('say where to restore', { options: [{ option: 'to' }, { option: 'inPlace' }] }));
    expect(problem).not.toHaveProperty('hint');
    expect(problem).not.toHaveProperty('step');
    expect(problem.options).toEqual([{ option: 'to' }, { option: 'inPlace' }]);
    expect(toProblem(notFound('gone'))).not.toHaveProperty('options');
  });
});
