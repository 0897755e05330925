import { describe, expect, it } from '@jest/globals';
import { type PgBackupError, isPgBackupError } from '../errors.js';
import { assertLabelSelector, assertName, compactTimestamp, dns1123LabelProblem, dns1123SubdomainProblem, newBackupId } from './names.js';

const catchError = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
};

describe('DNS-1123 labels (namespaces, StatefulSets, backup ids)', () => {
  it.each(['a', 'pg', 'pg-main', '0', 'a1-b2-c3', 'x'.repeat(63)])('accepts %p', (name) => {
    expect(dns1123LabelProblem(name)).toBeUndefined();
  });

  it('rejects the empty name', () => {
    expect(dns1123LabelProblem('')).toBe('must not be empty');
  });

  it('rejects names longer than 63 characters, saying how long they are', () => {
    expect(dns1123LabelProblem('x'.repeat(64))).toBe('must be no more than 63 characters (got 64)');
  });

  it.each(['Pg', 'PG-MAIN', '-pg', 'pg-', 'pg_main', 'pg.main', 'pg main', 'pg/main'])('rejects %p', (name) => {
    expect(dns1123LabelProblem(name)).toMatch(/lower case alphanumeric/);
  });
});

describe('DNS-1123 subdomains (PVCs, VolumeSnapshots, classes)', () => {
  it.each(['a', 'data-pg-0', 'csi.example.com', 'a.b-c.d', 'x'.repeat(253)])('accepts %p', (name) => {
    expect(dns1123SubdomainProblem(name)).toBeUndefined();
  });

  it('rejects the empty name and names longer than 253 characters', () => {
    expect(dns1123SubdomainProblem('')).toBe('must not be empty');
    expect(dns1123SubdomainProblem('x'.repeat(254))).toBe('must be no more than 253 characters (got 254)');
  });

  it.each(['Data', '-data', 'data-', '.data', 'data.', 'a..b', 'a.-b', 'data_pg'])('rejects %p', (name) => {
    expect(dns1123SubdomainProblem(name)).toMatch(/lower case alphanumeric/);
  });
});

describe('assertName', () => {
  it('returns a valid name unchanged', () => {
    expect(assertName('StatefulSet', 'pg-main')).toBe('pg-main');
    expect(assertName('PersistentVolumeClaim', 'data.pg-0', 'subdomain')).toBe('data.pg-0');
  });

  it('throws Invalid naming the kind, the value and the problem, with a hint', () => {
    const e = catchError(() => assertName('StatefulSet', 'PG'));
    expect(isPgBackupError(e, 'Invalid')).toBe(true);
    expect((e as Error).message).toBe(
      `invalid StatefulSet name "PG": must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`,
    );
    expect((e as PgBackupError).hint?.text).toMatch(/DNS-1123/);
  });

  it('applies the label rule by default: a dot is not allowed in a label', () => {
    expect(() => assertName('namespace', 'a.b')).toThrow(/invalid namespace name "a.b"/);
    expect(assertName('VolumeSnapshotClass', 'a.b', 'subdomain')).toBe('a.b');
  });
});

describe('label selectors', () => {
  it.each([
    'a=b',
    'a==b',
    'a!=b',
    'a in (x,y)',
    'a in (x, y)',
    'a notin (x)',
    'a',
    '!a',
    'app.kubernetes.io/managed-by=kubectl-pgbackup',
    'pgbackup.io/backup',
    '!pgbackup.io/pinned',
    'a=',
    'tier in (db,cache),app=pg,!canary',
    'a = b',
    'A_b.c-D=Value_1.x-Y',
  ])('accepts %p', (selector) => {
    expect(assertLabelSelector(selector)).toBe(selector);
  });

  it.each([
    ['a=b=c', /invalid label value "b=c"|cannot parse/],
    ['=b', /cannot parse "=b"/],
    ['a in x', /cannot parse "a in x"/],
    ['Bad_Prefix/a=b', /invalid label key prefix "Bad_Prefix"/],
    ['-prefix.io/a=b', /invalid label key prefix "-prefix.io"/],
    [`a=${'v'.repeat(64)}`, /invalid label value/],
    [`${'k'.repeat(64)}=b`, /invalid label key/],
    ['a=-b', /invalid label value "-b"/],
    ['a in (x,-y)', /invalid label value "-y"/],
    ['', /empty requirement/],
    ['a=b,', /empty requirement/],
    ['a=b c', /cannot parse/],
  ])('rejects %p', (selector, message) => {
    const e = catchError(() => assertLabelSelector(selector));
    expect(isPgBackupError(e, 'Invalid')).toBe(true);
    expect((e as Error).message).toMatch(message);
    expect((e as Error).message).toContain(`invalid label selector "${selector}"`);
    expect((e as { hint?: string }).hint).toBeTruthy();
  });

  it('accepts a value of exactly 63 characters', () => {
    expect(() => assertLabelSelector(`a=${'v'.repeat(63)}`)).not.toThrow();
  });
});

describe('newBackupId', () => {
  const at = new Date('2026-06-01T02:03:04.567Z');
  const fixed = (value: number) => () => value;

  it('is <statefulset>-<UTC yyyyMMddhhmmss>-<4 random characters>', () => {
    expect(newBackupId('pg', at, fixed(0))).toBe('pg-20260601020304-0000');
    expect(newBackupId('pg', at, fixed(0.999))).toBe('pg-20260601020304-zzzz');
    expect(compactTimestamp(at)).toBe('20260601020304');
  });

  it('is a DNS-1123 label', () => {
    for (let i = 0; i < 200; i++) expect(dns1123LabelProblem(newBackupId('pg-main', at))).toBeUndefined();
  });

  it('stays within 63 characters, and a valid label, even for a 63-character StatefulSet name', () => {
    const name = 'a'.repeat(63);
    const id = newBackupId(name, at);
    expect(id.length).toBeLessThanOrEqual(63);
    expect(dns1123LabelProblem(id)).toBeUndefined();
    expect(id).toMatch(/^a+-20260601020304-[0-9a-z]{4}$/);
  });

  it('never leaves a double dash when the shortened name ends in a dash', () => {
    const name = `${'a'.repeat(42)}-${'b'.repeat(20)}`; // 63 chars, shortened to 43: ends with the dash
    const id = newBackupId(name, at, fixed(0));
    expect(id).toBe(`${'a'.repeat(42)}-20260601020304-0000`);
    expect(dns1123LabelProblem(id)).toBeUndefined();
  });

  it('sorts by time as text within a StatefulSet', () => {
    const times = ['2026-01-09T23:59:59Z', '2026-01-10T00:00:00Z', '2026-12-31T09:00:00Z', '2027-01-01T00:00:00Z'];
    const ids = times.map((t) => newBackupId('pg', new Date(t), fixed(0.99)));
    const shuffled = [ids[2]!, ids[0]!, ids[3]!, ids[1]!];
    expect(shuffled.sort()).toEqual(ids);
  });

  it('keeps two backups of the same second apart with distinct random suffixes', () => {
    const ids = new Set(Array.from({ length: 50 }, () => newBackupId('pg', at)));
    expect(ids.size).toBeGreaterThan(45);
    expect(newBackupId('pg', at, fixed(0.1))).not.toBe(newBackupId('pg', at, fixed(0.5)));
  });
});
