import { randomBytes } from 'node:crypto';
import { Annotations, Labels } from '../contract.js';
import type { Backup, Verification } from '../domain/backup.js';
import { planRefs } from '../domain/restore.js';
import { isPgBackupError } from '../errors.js';
import type { ObjectRef } from '../domain/readModels.js';
import { DEFAULT_QUERY_TIMEOUT_SECONDS, type DatabaseSession } from '../ports.js';
import { type DeclaredCheck, assertCheckSql, parseDeclaredChecks, selectChecks } from '../domain/verifyChecks.js';
import type { Deps } from './deps.js';
import { findBackup } from './findBackup.js';
import { previewRestore, restoreBackup } from './restoreBackup.js';
import { deleteRestored } from './restoreObjects.js';

export interface VerifyOptions {
  /** Namespace of the backup; undefined = whichever namespace holds it. */
  namespace?: string;
  id: string;
  /**
   * The checks to run, by name: built-ins (BUILT_IN_CHECKS) and those the StatefulSet declares
   * (annotation verifyChecks). Default: all of them. `starts` always runs.
   */
  checks?: string[];
  /**
   * A SQL check of the caller's own, run in the restored database (read-only, statement_timeout): it
   * fails when it errors or its first value is false/f/0. For callers that act with their own
   * credentials (the CLI); a service acting for others offers only named `checks`.
   */
  sql?: string;
  /** Database the SQL check runs in (default: the pod's default database). */
  database?: string;
  /** Seconds the scratch restore may take to become ready (default 600). */
  timeoutSeconds?: number;
  /** Keep the scratch StatefulSet and PVCs (for debugging); they are deleted otherwise, on every path. */
  keep?: boolean;
  /** Record the result on the backup (`pgbackup.io/verified`). Default true. */
  record?: boolean;
  signal?: AbortSignal;
  onProgress?: (event: VerifyProgress) => void;
}

export type VerifyProgress =
  | { stage: 'restoring'; statefulSet: string; objects: number }
  | { stage: 'ready'; seconds: number }
  | { stage: 'check'; check: VerifyCheck }
  | { stage: 'cleaned'; failed: string[] };

export interface VerifyCheck {
  /** A built-in check, a declared one, or `sql`. */
  name: string;
  passed: boolean;
  /** For the caller (may quote what a query returned); never recorded on the backup. */
  detail: string;
  /** What the record keeps: counts and names only, no query values. */
  summary?: string;
}

export interface VerifyReport {
  backupId: string;
  namespace: string;
  statefulSet: string;
  /** The scratch StatefulSet the backup was restored into. */
  scratch: string;
  verification: Verification;
  checks: VerifyCheck[];
  /** Rows per user table, `database.schema.table` → count. */
  rowCounts: Record<string, number>;
  /** Scratch objects left behind (kept on purpose, or their deletion failed). */
  leftovers: string[];
}

const MAX_TABLES = 500;
/** Seconds the scratch restore may take, and each built-in check. */
const DEFAULT_TIMEOUT = 600;

// Checks every valid b-tree index of every schema (catalogs included), index and heap (heapallindexed):
// one failing index does not stop the others, its error is reported.
const AMCHECK_SQL = `CREATE EXTENSION IF NOT EXISTS amcheck;
CREATE TEMP TABLE pgbackup_amcheck(idx text, err text);
DO $pgbackup$ DECLARE r record; BEGIN
  FOR r IN SELECT c.oid, c.oid::regclass::text AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
           WHERE am.amname = 'btree' AND c.relpersistence <> 't' AND i.indisvalid AND i.indisready LOOP
    BEGIN
      PERFORM bt_index_check(r.oid, true);
      INSERT INTO pgbackup_amcheck VALUES (r.name, NULL);
    EXCEPTION WHEN OTHERS THEN
      INSERT INTO pgbackup_amcheck VALUES (r.name, SQLERRM);
    END;
  END LOOP;
END $pgbackup$;
SELECT count(*)::text, count(err)::text, coalesce(string_agg(idx || ': ' || err, '; ') FILTER (WHERE err IS NOT NULL), '') FROM pgbackup_amcheck;`;

// Exact row counts of user tables (count(*) through query_to_xml, so one statement does them all).
const ROW_COUNTS_SQL = `SELECT n.nspname || '.' || c.relname,
  (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
ORDER BY 1 LIMIT ${MAX_TABLES}`;

/**
 * Proves a backup restores: restores it into a scratch StatefulSet next to the source, waits for
 * PostgreSQL (crash recovery included), then checks that it runs as a primary, that amcheck finds
 * every b-tree index of every database clean, counts the rows of user tables, and runs the
 * user's SQL check. Records the result on the backup's snapshots and deletes the scratch objects
 * on every path (unless `keep`). A failed check is a result (returned), not an error; errors
 * before anything is created (not found, forbidden, not completed) are thrown and not recorded.
 */
export async function verifyBackup(deps: Deps, options: VerifyOptions): Promise<VerifyReport> {
  const at = deps.clock.now().toISOString();
  if (options.sql !== undefined) assertCheckSql('--sql', options.sql);
  const probe = await findScratchName(deps, options);
  const scratch = probe.scratch;
  const backup = probe.backup;
  const selection = selectChecks(options.checks, await declaredChecks(deps, backup));
  const statementTimeout = options.timeoutSeconds ?? DEFAULT_TIMEOUT;
  const checks: VerifyCheck[] = [];
  const rowCounts: Record<string, number> = {};
  const check = (c: VerifyCheck) => {
    checks.push(c);
    options.onProgress?.({ stage: 'check', check: c });
  };
  let created: ObjectRef[] = [];
  let restoreSeconds: number | undefined;
  let indexesChecked = 0;
  let leftovers: string[] = [];
  try {
    try {
      const result = await restoreBackup(deps, {
        namespace: backup.namespace,
        id: backup.id,
        to: scratch,
        wait: true,
        timeoutSeconds: options.timeoutSeconds,
        labels: { [Labels.scratch]: 'verify' },
        signal: options.signal,
        onProgress: (p) => {
          if (p.stage === 'planned') {
            created = planRefs(p.plan);
            options.onProgress?.({ stage: 'restoring', statefulSet: scratch, objects: p.plan.create.length });
          }
        },
      });
      restoreSeconds = result.restoreSeconds;
      options.onProgress?.({ stage: 'ready', seconds: restoreSeconds ?? 0 });
    } catch (e) {
      if (options.signal?.aborted || created.length === 0) throw e;
      check({ name: 'starts', passed: false, detail: `the restored database did not become ready: ${(e as Error).message}` });
      throw new CheckFailed();
    }
    const pod = `${scratch}-0`;
    const session = await deps.database.open(backup.namespace, pod);
    let databases: string[];
    try {
      const [row] = await session.query(
        "SELECT pg_is_in_recovery()::text, current_setting('server_version'), pg_postmaster_start_time()::text",
      );
      check({
        name: 'starts',
        passed: row?.[0] === 'false',
        detail:
          row?.[0] === 'false'
            ? `PostgreSQL ${row[1]} started (crash recovery done) in ${restoreSeconds}s`
            : 'PostgreSQL is still in recovery',
      });
      databases = (await session.query('SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1')).map(
        (r) => r[0]!,
      );
    } finally {
      await session.close().catch(() => undefined);
    }
    const amcheckFailures: string[] = [];
    let corrupt = 0;
    let tables = 0;
    let rows = 0;
    const amcheck = selection.builtIn.includes('amcheck');
    const counts = selection.builtIn.includes('row-counts');
    for (const database of amcheck || counts ? databases : []) {
      await withSession(deps, backup.namespace, pod, database, async (db) => {
        if (amcheck) {
          const [r] = await db.query(AMCHECK_SQL, { timeoutSeconds: statementTimeout, signal: options.signal });
          indexesChecked += Number(r?.[0] ?? 0);
          corrupt += Number(r?.[1] ?? 0);
          if (Number(r?.[1] ?? 0) > 0) amcheckFailures.push(`${database}: ${r?.[2]}`);
        }
        if (counts)
          for (const [table, count] of await db.query(ROW_COUNTS_SQL, {
            readOnly: true,
            timeoutSeconds: statementTimeout,
            signal: options.signal,
          })) {
            rowCounts[`${database}.${table}`] = Number(count);
            tables++;
            rows += Number(count);
          }
      });
    }
    if (amcheck)
      check({
        name: 'amcheck',
        passed: amcheckFailures.length === 0,
        detail:
          amcheckFailures.length === 0
            ? `${indexesChecked} b-tree indexes clean in ${databases.length} database(s)`
            : `corrupt indexes: ${amcheckFailures.join('; ')}`,
        summary: `${corrupt} of ${indexesChecked} b-tree indexes corrupt`,
      });
    if (counts) check({ name: 'row-counts', passed: true, detail: `${tables} user tables, ${rows} rows` });
    const sqlChecks = [
      ...selection.declared,
      ...(options.sql !== undefined ? [{ name: 'sql', sql: options.sql, database: options.database }] : []),
    ];
    for (const { name, sql, database } of sqlChecks) {
      try {
        await withSession(deps, backup.namespace, pod, database, async (db) => {
          const [r] = await db.query(sql, { readOnly: true, timeoutSeconds: DEFAULT_QUERY_TIMEOUT_SECONDS, signal: options.signal });
          const value = r?.[0];
          const passed = !['f', 'false', '0'].includes((value ?? '').trim().toLowerCase());
          check({
            name,
            passed,
            detail: `returned ${value === undefined ? 'no row' : JSON.stringify(value)}`,
            summary: passed ? 'true' : 'false',
          });
        });
      } catch (e) {
        if (options.signal?.aborted) throw e;
        check({ name, passed: false, detail: `failed: ${(e as Error).message}`, summary: 'error' });
      }
    }
    return await finish();
  } catch (e) {
    if (!(e instanceof CheckFailed)) {
      if (options.signal?.aborted || !created.length) throw e;
      // Said in full to the caller; the record keeps only that the checks were stopped (an error may quote data).
      check({ name: 'error', passed: false, detail: (e as Error).message, summary: 'the checks stopped on an error' });
    }
    return await finish();
  } finally {
    if (!options.keep && created.length > 0) {
      leftovers.push(...(await deleteRestored(deps, created)));
      options.onProgress?.({ stage: 'cleaned', failed: leftovers });
    }
  }

  async function finish(): Promise<VerifyReport> {
    const failed = checks.filter((c) => !c.passed);
    const passed = failed.length === 0 && checks.length > 0;
    const tables = Object.keys(rowCounts).length;
    // The record is served to whoever may read backups: names, results and counts, never what a query returned.
    const recorded = (c: VerifyCheck) => `${c.name}${c.passed ? '' : ' failed'}: ${c.summary ?? c.detail}`;
    const verification: Verification = {
      result: passed ? 'passed' : 'failed',
      at,
      ...(restoreSeconds !== undefined ? { restoreSeconds } : {}),
      message: checks.map(recorded).join('; '),
      checks: checks.map((c) => ({ name: c.name, passed: c.passed })),
      ...(indexesChecked ? { indexesChecked } : {}),
      ...(tables ? { tables, rows: Object.values(rowCounts).reduce((a, b) => a + b, 0) } : {}),
    };
    if (options.record !== false) await record(deps, backup, verification);
    await deps.events.record({
      namespace: backup.namespace,
      statefulSet: backup.statefulSet,
      reason: passed ? 'VerificationPassed' : 'VerificationFailed',
      note: `backup ${backup.id} ${passed ? 'verified' : 'failed verification'}: ${verification.message}`,
    });
    if (options.keep) leftovers = created.map((r) => `${r.kind.toLowerCase()}/${r.name}`);
    return {
      backupId: backup.id,
      namespace: backup.namespace,
      statefulSet: backup.statefulSet,
      scratch,
      verification,
      checks,
      rowCounts,
      leftovers,
    };
  }
}

class CheckFailed extends Error {}

/** A free scratch name `<sts>-verify-<6 hex>`, checked by planning the restore (which also checks the backup). */
async function findScratchName(deps: Deps, options: VerifyOptions): Promise<{ scratch: string; backup: Backup }> {
  for (let attempt = 0; ; attempt++) {
    const backup = await findBackup(deps, options.id, options.namespace);
    const scratch = `${backup.statefulSet.slice(0, 28).replace(/-+$/, '')}-verify-${randomBytes(3).toString('hex')}`;
    try {
      await previewRestore(deps, { namespace: backup.namespace, id: backup.id, to: scratch });
      return { scratch, backup };
    } catch (e) {
      if (!isPgBackupError(e, 'Conflict') || attempt >= 3) throw e;
    }
  }
}

/** The checks the StatefulSet's owner declares (none when it no longer exists). */
async function declaredChecks(deps: Pick<Deps, 'workloadWriter'>, backup: Backup): Promise<DeclaredCheck[]> {
  const live = await deps.workloadWriter.readStatefulSet(backup.namespace, backup.statefulSet).catch((e: unknown) => {
    if (isPgBackupError(e, 'NotFound')) return undefined;
    throw e;
  });
  return parseDeclaredChecks(
    backup.statefulSet,
    (live?.metadata.annotations as Record<string, string> | undefined)?.[Annotations.verifyChecks],
  );
}

async function withSession<T>(
  deps: Pick<Deps, 'database'>,
  namespace: string,
  pod: string,
  database: string | undefined,
  fn: (s: DatabaseSession) => Promise<T>,
): Promise<T> {
  const session = await deps.database.open(namespace, pod, undefined, database ? { database } : undefined);
  try {
    return await fn(session);
  } finally {
    await session.close().catch(() => undefined);
  }
}

/** Writes the result on every snapshot of the backup (a deleted backup is not an error). */
async function record(deps: Pick<Deps, 'snapshots'>, backup: Backup, verification: Verification): Promise<void> {
  const value = JSON.stringify(verification);
  await Promise.all(
    backup.snapshots.map((s) =>
      deps.snapshots.annotate(s.namespace, s.name, { [Annotations.verified]: value }).catch((e: unknown) => {
        if (!isPgBackupError(e, 'NotFound')) throw e;
      }),
    ),
  );
}
