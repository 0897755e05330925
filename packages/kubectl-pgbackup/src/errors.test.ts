import { describe, expect, it } from '@jest/globals';
import { conflict, forbidden, inconsistent, invalid, notFound, timeout, unavailable } from '@pgbackup/core/isomorphic';
import { CliError, describeError, formatError } from './errors.js';

describe('exit codes', () => {
  it.each([
    [notFound('x'), 3],
    [forbidden('x'), 4],
    [timeout('x'), 5],
    [conflict('x'), 6],
    [inconsistent('x'), 7],
    [invalid('x'), 2],
    [unavailable('x'), 1],
    [new Error('boom'), 1],
    [new CliError('confirmation required; re-run with --yes'), 1],
  ])('maps %s to %i', (error, code) => {
    expect(describeError(error).exitCode).toBe(code);
  });

  it('treats oclif parse errors (exit 2) as usage errors', () => {
    const parseError = Object.assign(new Error('Missing 1 required arg:\nstatefulset\nSee more help with --help'), { oclif: { exit: 2 } });
    expect(describeError(parseError)).toEqual({ message: 'Missing 1 required arg: statefulset', hint: 'see --help for the usage', exitCode: 2 });
  });
});

describe('formatError', () => {
  const error = notFound('StatefulSet "pg" not found in namespace "db"', 'list them with: kubectl get statefulsets -n db');

  it('prints one error line and one hint line, no stack', () => {
    expect(formatError(error)).toBe('error: StatefulSet "pg" not found in namespace "db"\nhint: list them with: kubectl get statefulsets -n db\n');
  });

  it('adds the stack only with --debug', () => {
    expect(formatError(error, true)).toMatch(/^error: .*\nhint: .*\nNotFoundError: .*\n\s+at /);
  });
});
