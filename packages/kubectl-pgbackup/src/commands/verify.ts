import { Args, Flags } from '@oclif/core';
import type { VerifyProgress } from '@pgbackup/core';
import { Annotations } from '@pgbackup/core/isomorphic';
import { BaseCommand } from '../baseCommand.js';
import { CliError, ExitCode } from '../errors.js';

export default class Verify extends BaseCommand<typeof Verify> {
  static override summary = 'Prove a backup restores: restore it aside, start PostgreSQL, run amcheck and row counts, record the result';
  static override description =
    'Restores the backup into a scratch StatefulSet next to the source, waits for PostgreSQL (crash recovery included), checks it runs as a primary, ' +
    'runs amcheck (bt_index_check with heapallindexed) on every b-tree index of every database, counts the rows of user tables, ' +
    `runs the checks the StatefulSet declares (annotation ${Annotations.verifyChecks}, JSON {"name": "SQL"}) and --sql if given; --check selects some of them. ` +
    'Every SQL runs read-only with a statement_timeout. The record on the backup holds only check names, results and counts. ' +
    `The result is recorded on the backup (${Annotations.verified}, shown by list and status) and the scratch objects are deleted on every path. ` +
    'Exits 1 when a check fails.';
  static override examples = [
    '<%= config.bin %> verify pg-20261125020000-x7k2 -n db',
    "<%= config.bin %> verify pg-20261125020000-x7k2 -n db --sql 'SELECT count(*) > 0 FROM orders' --database shop",
    '<%= config.bin %> verify pg-20261125020000-x7k2 -n db --check amcheck --check orders-present',
    '<%= config.bin %> verify pg-20261125020000-x7k2 -n db -o json',
  ];
  static override args = { id: Args.string({ required: true, description: 'the backup id' }) };
  static override flags = {
    check: Flags.string({
      multiple: true,
      description: `run only this check (repeatable): starts, amcheck, row-counts, or one the StatefulSet declares in its annotation ${Annotations.verifyChecks} (default: all of them)`,
    }),
    sql: Flags.string({
      description:
        'a SQL check of your own (read-only transaction, 30s statement_timeout, no psql meta-commands): fails when it errors or its first value is false',
    }),
    database: Flags.string({ description: "database the --sql check runs in (default: the pod's default)" }),
    timeout: Flags.string({ default: '10m', description: 'how long the scratch restore may take to be ready' }),
    keep: Flags.boolean({ default: false, description: 'keep the scratch StatefulSet and PVCs (for debugging)' }),
    'no-record': Flags.boolean({ default: false, description: 'do not record the result on the backup' }),
  };

  async run(): Promise<void> {
    this.refuseAllNamespaces();
    const timeoutSeconds = this.positiveDuration('timeout');
    const { core, deps, namespace } = await this.runtime();
    // Ctrl-C or SIGTERM: the scratch objects are still deleted before exiting; nothing is recorded.
    const report = await this.interruptible(
      (signal) =>
        core.verifyBackup(deps, {
          namespace: this.flags.namespace === undefined ? undefined : namespace,
          id: this.args.id,
          checks: this.flags.check,
          sql: this.flags.sql,
          database: this.flags.database,
          timeoutSeconds,
          keep: this.flags.keep,
          record: !this.flags['no-record'],
          signal,
          onProgress: (p) => this.progress(p),
        }),
      (stop) => new CliError(`${stop.word}: the scratch restore was deleted, nothing was recorded`, stop.exitCode),
    );
    const v = report.verification;
    await this.print({
      kind: 'VerifyReport',
      data: report,
      rows: [report],
      columns: [],
      name: () => `backup/${report.backupId}`,
      text: (wide) => {
        const lines = report.checks.map((c) => `  ${c.passed ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
        if (wide) lines.push(...Object.entries(report.rowCounts).map(([t, n]) => `       ${t}: ${n} rows`));
        const restored = v.restoreSeconds !== undefined ? ` (restored in ${v.restoreSeconds}s)` : '';
        return `backup/${report.backupId} verification ${v.result}${restored}\n${lines.join('\n')}\n`;
      },
    });
    if ((this.format === 'table' || this.format === 'wide') && report.leftovers.length > 0)
      this.note(`left in namespace ${report.namespace}: ${report.leftovers.join(', ')}`);
    // The caller's own run: the failed checks in full (the record on the backup keeps only names and counts).
    const failed = report.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`);
    if (v.result === 'failed') throw new CliError(`backup/${report.backupId} failed verification: ${failed.join('; ')}`, ExitCode.failure);
  }

  private progress(p: VerifyProgress): void {
    if (this.format !== 'table' && this.format !== 'wide') return;
    switch (p.stage) {
      case 'restoring':
        return this.note(`restoring into scratch statefulset/${p.statefulSet} (${p.objects} objects)`);
      case 'ready':
        return this.note(`  PostgreSQL ready after ${p.seconds}s`);
      case 'check':
        return;
      case 'cleaned':
        return this.note(p.failed.length ? `  scratch cleanup failed: ${p.failed.join('; ')}` : '  scratch objects deleted');
    }
  }
}
