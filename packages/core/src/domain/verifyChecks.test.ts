import { describe, expect, it } from '@jest/globals';
import { assertCheckSql, parseDeclaredChecks, selectChecks } from './verifyChecks.js';

describe('verify checks', () => {
  it('parses the checks a StatefulSet declares: SQL, or SQL and database', () => {
    expect(parseDeclaredChecks('pg', '{"a": "SELECT true", "b": {"sql": "SELECT 1", "database": "shop"}}')).toEqual([
      { name: 'a', sql: 'SELECT true' },
      { name: 'b', sql: 'SELECT 1', database: 'shop' },
    ]);
    expect(parseDeclaredChecks('pg', undefined)).toEqual([]);
  });

  it('refuses a malformed declaration precisely', () => {
    expect(() => parseDeclaredChecks('pg', 'nope')).toThrow('annotation pgbackup.io/verify-checks of StatefulSet pg is not JSON');
    expect(() => parseDeclaredChecks('pg', '["SELECT 1"]')).toThrow(/must be a JSON object of named checks/);
    expect(() => parseDeclaredChecks('pg', '{"Bad Name": "SELECT 1"}')).toThrow(/invalid check name "Bad Name"/);
    expect(() => parseDeclaredChecks('pg', '{"amcheck": "SELECT 1"}')).toThrow(/the name of a built-in check/);
    expect(() => parseDeclaredChecks('pg', '{"a": {"database": "x"}}')).toThrow(/check "a" has no SQL/);
  });

  it('refuses any backslash: psql would run a meta-command (\\! is a shell)', () => {
    expect(() => assertCheckSql('--sql', '\\! id')).toThrow(/psql meta-commands/);
    expect(() => assertCheckSql('--sql', 'SELECT 1;\n\\copy t TO /tmp/x')).toThrow(/psql meta-commands/);
    expect(() => assertCheckSql('--sql', '  ')).toThrow('--sql is empty');
    expect(() => assertCheckSql('--sql', "SELECT 'a' || chr(92)")).not.toThrow();
  });

  it('selects by name: everything by default, starts always, unknown names refused listing the known ones', () => {
    const declared = [{ name: 'orders', sql: 'SELECT true' }];
    expect(selectChecks(undefined, declared)).toEqual({ builtIn: ['starts', 'amcheck', 'row-counts'], declared });
    expect(selectChecks(['orders'], declared)).toEqual({ builtIn: ['starts'], declared });
    expect(() => selectChecks(['orders', 'x', 'y'], declared)).toThrow(
      'unknown checks "x", "y": the checks are starts, amcheck, row-counts, orders',
    );
  });
});
