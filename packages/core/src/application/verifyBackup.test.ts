import { describe, expect, it } from '@jest/globals';
import { Annotations } from '../contract.js';
import { deriveBackup } from '../domain/backup.js';
import { timeout } from '../errors.js';
import type { QueryOptions } from '../ports.js';
import { type FakeDeps, aBackupSnapshot, aStatefulSetManifest, fakeDeps } from '../testing/index.js';
import { verifyBackup } from './verifyBackup.js';

const ID = 'pg-20260601020000-abcd';

function world(options: { amcheck?: string[]; sql?: string } = {}): FakeDeps {
  const deps = fakeDeps({ snapshots: [aBackupSnapshot({ id: ID })] });
  deps.workloadWriter.put(aStatefulSetManifest());
  deps.database.fallback = {
    answer: (sql) => {
      if (sql.includes('pg_postmaster_start_time')) return [['false', '17.2', '2026-06-01 12:00:00+00']];
      if (sql.includes('FROM pg_database')) return [['app'], ['postgres']];
      if (sql.includes('bt_index_check')) return [options.amcheck ?? ['120', '0', '']];
      if (sql.includes('query_to_xml')) return [['public.orders', '42']];
      if (options.sql && sql === options.sql) return [['t']];
      return undefined;
    },
  };
  return deps;
}

const recorded = (deps: FakeDeps) => deriveBackup(ID, deps.snapshots.all(), deps.clock.now()).verification;
const scratchLeft = (deps: FakeDeps) => [...deps.workloadWriter.objects.keys()].filter((k) => k.includes('verify'));

describe('verifyBackup', () => {
  it('restores aside, checks every database, records a pass on the backup and deletes the scratch objects', async () => {
    const deps = world({ sql: 'SELECT true' });
    const report = await verifyBackup(deps, { namespace: 'db', id: ID, sql: 'SELECT true' });
    expect(report.scratch).toMatch(/^pg-verify-[0-9a-f]{6}$/);
    expect(report.checks.map((c) => [c.name, c.passed])).toEqual([
      ['starts', true],
      ['amcheck', true],
      ['row-counts', true],
      ['sql', true],
    ]);
    expect(report.checks[1]!.detail).toBe('240 b-tree indexes clean in 2 database(s)');
    expect(report.rowCounts).toEqual({ 'app.public.orders': 42, 'postgres.public.orders': 42 });
    expect(report.verification).toMatchObject({ result: 'passed', indexesChecked: 240, tables: 2, rows: 84 });
    expect(recorded(deps)).toEqual(report.verification);
    expect(deps.database.databases).toContain('app');
    expect(scratchLeft(deps)).toEqual([]);
    expect(report.leftovers).toEqual([]);
    expect(deps.database.openSessions).toEqual([]);
  });

  it('records a failure naming the corrupt index, and still cleans up', async () => {
    const deps = world({ amcheck: ['120', '1', 'orders_pkey: index "orders_pkey" lacks a main relation tuple'] });
    const report = await verifyBackup(deps, { namespace: 'db', id: ID });
    expect(report.verification.result).toBe('failed');
    expect(report.checks.find((c) => c.name === 'amcheck')!.detail).toMatch(/corrupt indexes: app: orders_pkey/);
    // The record counts; what the index check said stays with the caller.
    expect(report.verification.message).toMatch(/amcheck failed: 2 of 240 b-tree indexes corrupt/);
    expect(report.verification.message).not.toMatch(/orders_pkey/);
    expect(recorded(deps)?.result).toBe('failed');
    expect(scratchLeft(deps)).toEqual([]);
  });

  it('fails the SQL check when it answers false or errors', async () => {
    const deps = world();
    deps.database.fallback!.answer = ((prev) => (sql: string) => (sql === 'SELECT false' ? [['f']] : prev!(sql)))(
      deps.database.fallback!.answer,
    );
    const report = await verifyBackup(deps, { namespace: 'db', id: ID, sql: 'SELECT false' });
    expect(report.checks.find((c) => c.name === 'sql')).toEqual({ name: 'sql', passed: false, detail: 'returned "f"', summary: 'false' });
    expect(report.verification.result).toBe('failed');
    expect(report.verification.checks).toContainEqual({ name: 'sql', passed: false });
  });

  it('records a failure when the restored database never becomes ready, and deletes the scratch objects', async () => {
    const deps = world();
    deps.workloadWriter.failures.waitReady = timeout('StatefulSet db/x was not ready within 600s: pod x-0 Running, not ready');
    const report = await verifyBackup(deps, { namespace: 'db', id: ID });
    expect(report.checks).toEqual([
      { name: 'starts', passed: false, detail: expect.stringMatching(/did not become ready: .*not ready within 600s/) },
    ]);
    expect(recorded(deps)?.result).toBe('failed');
    expect(scratchLeft(deps)).toEqual([]);
  });

  it('keeps the scratch objects with keep, and records nothing with record: false', async () => {
    const deps = world();
    const report = await verifyBackup(deps, { namespace: 'db', id: ID, keep: true, record: false });
    expect(report.leftovers).toEqual([
      `persistentvolumeclaim/data-${report.scratch}-0`,
      `service/${report.scratch}`,
      `statefulset/${report.scratch}`,
    ]);
    expect(scratchLeft(deps)).toHaveLength(3);
    expect(deps.snapshots.all()[0]!.annotations[Annotations.verified]).toBeUndefined();
  });

  it('throws (records nothing, creates nothing) for a backup that is not completed', async () => {
    const deps = fakeDeps({ snapshots: [aBackupSnapshot({ id: ID, phase: 'failed', recordedError: 'boom' })] });
    deps.workloadWriter.put(aStatefulSetManifest());
    await expect(verifyBackup(deps, { namespace: 'db', id: ID })).rejects.toMatchObject({ code: 'Invalid' });
    expect(deps.workloadWriter.objects.size).toBe(1);
    expect(deps.snapshots.all()[0]!.annotations[Annotations.verified]).toBeUndefined();
  });

  it('deletes the scratch objects and records nothing when interrupted', async () => {
    const deps = world();
    const interrupt = new AbortController();
    deps.workloadWriter.waitReady = async () => {
      interrupt.abort(new Error('interrupted'));
      throw new Error('interrupted');
    };
    await expect(verifyBackup(deps, { namespace: 'db', id: ID, signal: interrupt.signal })).rejects.toThrow('interrupted');
    expect(scratchLeft(deps)).toEqual([]);
    expect(deps.snapshots.all()[0]!.annotations[Annotations.verified]).toBeUndefined();
  });

  it('runs the checks the StatefulSet declares, read-only with a statement timeout, and records names and results, never values', async () => {
    const deps = world();
    const manifest = aStatefulSetManifest();
    (manifest.metadata as unknown as { annotations: Record<string, string> }).annotations[Annotations.verifyChecks] = JSON.stringify({
      'orders-present': { sql: 'SELECT count(*) FROM orders', database: 'app' },
      'no-negative': "SELECT 'secret-value-42'",
    });
    deps.workloadWriter.put(manifest);
    const seen: { sql: string; options?: QueryOptions }[] = [];
    deps.database.fallback!.observe = (sql, options) => seen.push({ sql, options });
    const prev = deps.database.fallback!.answer!;
    deps.database.fallback!.answer = (sql) =>
      sql === 'SELECT count(*) FROM orders' ? [['0']] : sql.startsWith("SELECT 'secret") ? [['secret-value-42']] : prev(sql);
    const report = await verifyBackup(deps, { namespace: 'db', id: ID, checks: ['orders-present', 'no-negative'] });
    expect(report.checks.map((c) => [c.name, c.passed])).toEqual([
      ['starts', true],
      ['orders-present', false],
      ['no-negative', true],
    ]);
    expect(seen.find((q) => q.sql === 'SELECT count(*) FROM orders')!.options).toMatchObject({ readOnly: true, timeoutSeconds: 30 });
    expect(deps.database.databases).toContain('app');
    const stored = JSON.stringify(deps.snapshots.all().map((x) => x.annotations[Annotations.verified]));
    expect(stored).not.toMatch(/secret-value-42/);
    expect(recorded(deps)).toMatchObject({
      result: 'failed',
      checks: [
        { name: 'starts', passed: true },
        { name: 'orders-present', passed: false },
        { name: 'no-negative', passed: true },
      ],
    });
  });

  it('refuses before creating anything: an unknown check, SQL with a psql meta-command, a malformed declaration', async () => {
    const deps = world();
    await expect(verifyBackup(deps, { namespace: 'db', id: ID, checks: ['amcheck', 'nope'] })).rejects.toMatchObject({
      code: 'Invalid',
      message: 'unknown check "nope": the checks are starts, amcheck, row-counts',
    });
    await expect(verifyBackup(deps, { namespace: 'db', id: ID, sql: "SELECT 1 \\! sh -c 'id'" })).rejects.toMatchObject({
      code: 'Invalid',
      message: expect.stringMatching(/psql meta-commands/),
    });
    const manifest = aStatefulSetManifest();
    (manifest.metadata as unknown as { annotations: Record<string, string> }).annotations[Annotations.verifyChecks] = '{"x": "\\\\! id"}';
    deps.workloadWriter.put(manifest);
    await expect(verifyBackup(deps, { namespace: 'db', id: ID })).rejects.toMatchObject({
      code: 'Invalid',
      message: expect.stringMatching(/check "x" of annotation pgbackup.io\/verify-checks of StatefulSet pg contains a backslash/),
    });
    expect(scratchLeft(deps)).toEqual([]);
    expect(deps.database.sessions).toEqual([]);
  });

  it('runs only the built-ins named (starts always)', async () => {
    const deps = world();
    const report = await verifyBackup(deps, { namespace: 'db', id: ID, checks: ['row-counts'] });
    expect(report.checks.map((c) => c.name)).toEqual(['starts', 'row-counts']);
    expect(deps.database.sessions.flatMap((x) => x.queries).some((q) => q.includes('bt_index_check'))).toBe(false);
  });
});
