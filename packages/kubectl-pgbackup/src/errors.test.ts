import { describe, expect, it } from '@jest/globals';
import { conflict, forbidden, inconsistent, invalid, notFound, timeout, unavailable } from '@pgbackup/core/isomorphic';
import { CliError, commandText, describeError, flagText, formatError, hintText } from './errors.js';

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
    expect(describeError(parseError)).toEqual({
      message: 'Missing 1 required arg: statefulset',
      hint: 'see --help for the usage',
      exitCode: 2,
    });
  });
});

describe('formatError', () => {
  const error = notFound('StatefulSet "pg" not found in namespace "db"', 'list them with: kubectl get statefulsets -n db');

  it('prints one error line and one hint line, no stack', () => {
    expect(formatError(error)).toBe(
      'error: StatefulSet "pg" not found in namespace "db"\nhint: list them with: kubectl get statefulsets -n db\n',
    );
  });

  it('adds the stack only with --debug', () => {
    expect(formatError(error, true)).toMatch(/^error: .*\nhint: .*\nNotFoundError: .*\n\s+at /);
  });
});

describe("core's structured hints in this tool's words", () => {
  it('words options as flags, with a placeholder when no value is given', () => {
    expect(flagText({ option: 'force' })).toBe('--force');
    expect(flagText({ option: 'pod' })).toBe('--pod POD');
    expect(flagText({ option: 'to', value: 'pg-restored' })).toBe('--to pg-restored');
    expect(flagText({ option: 'method', omit: true })).toBe('omit --method');
    expect(flagText({ option: 'lockWaitSeconds' })).toBe('--lock-wait DURATION');
    expect(flagText({ option: 'maxAgeDays' })).toBe('--max-age DAYS');
    expect(flagText({ option: 'cron', value: '0 2 * * *' })).toBe('--cron "0 2 * * *"');
  });

  it('words a step as the command to run', () => {
    expect(commandText({ operation: 'status', target: 'pg-1', namespace: 'db', options: [{ option: 'watch' }] })).toBe(
      'kubectl pgbackup status pg-1 -n db --watch',
    );
    expect(commandText({ operation: 'list', allNamespaces: true })).toBe('kubectl pgbackup list -A');
    expect(commandText({ operation: 'schedule-set', target: 'pg', namespace: 'db' })).toBe('kubectl pgbackup schedule set pg -n db');
  });

  it('joins text, command and flags into one hint line', () => {
    expect(hintText({ text: 'take a newer backup first, or delete it anyway', options: [{ option: 'force' }] })).toBe(
      'take a newer backup first, or delete it anyway (--force)',
    );
    expect(
      hintText({
        text: 'unpin it first, or delete it anyway',
        step: { operation: 'unpin', target: 'b', namespace: 'db' },
        options: [{ option: 'force' }],
      }),
    ).toBe('unpin it first, or delete it anyway: kubectl pgbackup unpin b -n db (or --force)');
    expect(hintText({ options: [{ option: 'to' }, { option: 'inPlace' }] })).toBe('pass --to NAME or --in-place');
    expect(hintText({ text: 'retry' })).toBe('retry');
  });

  it('prints the worded hint of a core error', () => {
    const pinned = conflict('backup b is pinned', {
      text: 'unpin it first, or delete it anyway',
      step: { operation: 'unpin', target: 'b', namespace: 'db' },
      options: [{ option: 'force' }],
    });
    expect(formatError(pinned)).toBe(
      'error: backup b is pinned\nhint: unpin it first, or delete it anyway: kubectl pgbackup unpin b -n db (or --force)\n',
    );
  });
});
