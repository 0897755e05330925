import { Annotations } from '../contract.js';
import { invalid } from '../errors.js';
import { assertName } from './names.js';

/** The checks every verification can run, in the order they run. `starts` always runs: the others need it. */
export const BUILT_IN_CHECKS = ['starts', 'amcheck', 'row-counts'] as const;
export type BuiltInCheck = (typeof BUILT_IN_CHECKS)[number];

/** A SQL check the database's owner declares on the StatefulSet (annotation verifyChecks). */
export interface DeclaredCheck {
  name: string;
  sql: string;
  /** Database it runs in (default: the pod's default). */
  database?: string;
}

/** What a verification runs: built-ins and declared checks, by name. */
export interface CheckSelection {
  builtIn: BuiltInCheck[];
  declared: DeclaredCheck[];
}

/**
 * Refuses SQL that psql would not send to the server as is: a backslash starts a meta-command
 * (`\!` runs a shell, `\copy`, `\o` write files), so a check holds none at all.
 */
export function assertCheckSql(what: string, sql: string): void {
  if (sql.trim() === '') throw invalid(`${what} is empty`, 'give a query whose first value is true when the check passes');
  if (sql.includes('\\'))
    throw invalid(
      `${what} contains a backslash: psql meta-commands (\\…) are not allowed in a check`,
      'write plain SQL; in a string use chr(92) for a backslash',
    );
}

/** The checks declared on a StatefulSet (its annotation value). @throws Invalid naming what is wrong. */
export function parseDeclaredChecks(statefulSet: string, raw: string | undefined): DeclaredCheck[] {
  if (raw === undefined) return [];
  const where = `annotation ${Annotations.verifyChecks} of StatefulSet ${statefulSet}`;
  const hint = `set it to JSON like {"orders-present": "SELECT count(*) > 0 FROM orders"} or {"orders-present": {"sql": "…", "database": "shop"}}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalid(`${where} is not JSON`, hint);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid(`${where} must be a JSON object of named checks`, hint);
  return Object.entries(parsed as Record<string, unknown>).map(([name, value]) => {
    assertName('check', name);
    if ((BUILT_IN_CHECKS as readonly string[]).includes(name) || name === 'sql')
      throw invalid(`${where} declares "${name}", the name of a built-in check`, 'give it another name');
    const spec = typeof value === 'string' ? { sql: value } : value;
    if (!spec || typeof spec !== 'object' || typeof (spec as { sql?: unknown }).sql !== 'string')
      throw invalid(`${where}: check "${name}" has no SQL`, hint);
    const { sql, database } = spec as { sql: string; database?: unknown };
    if (database !== undefined && typeof database !== 'string')
      throw invalid(`${where}: check "${name}" names its database with a non-string`, hint);
    assertCheckSql(`check "${name}" of ${where}`, sql);
    return { name, sql, ...(database ? { database } : {}) };
  });
}

/** The checks to run: `requested` names (undefined: every built-in and every declared one). @throws Invalid for an unknown name. */
export function selectChecks(requested: string[] | undefined, declared: DeclaredCheck[]): CheckSelection {
  if (requested === undefined) return { builtIn: [...BUILT_IN_CHECKS], declared };
  const known = [...BUILT_IN_CHECKS, ...declared.map((d) => d.name)];
  const unknown = requested.filter((n) => !known.includes(n));
  if (unknown.length > 0)
    throw invalid(
      `unknown check${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}: the checks are ${known.join(', ')}`,
      `a database's owner declares more in the annotation ${Annotations.verifyChecks} of its StatefulSet`,
    );
  return {
    builtIn: BUILT_IN_CHECKS.filter((c) => c === 'starts' || requested.includes(c)),
    declared: declared.filter((d) => requested.includes(d.name)),
  };
}
