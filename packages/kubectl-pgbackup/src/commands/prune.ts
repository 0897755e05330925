import { Args, Flags } from '@oclif/core';
import { BaseCommand, dryRunFlag } from '../baseCommand.js';
import { pruneView } from '../views.js';

export default class Prune extends BaseCommand<typeof Prune> {
  static override summary = "Delete a StatefulSet's backups that no retention rule keeps";
  static override description =
    'A backup is kept when ANY rule keeps it. Whatever the rules, the newest completed backup, pinned backups and backups in progress are kept.';
  static override examples = [
    '<%= config.bin %> prune pg -n db --keep-last 7 --keep-daily 14 --dry-run',
    '<%= config.bin %> prune pg -n db --max-age 30',
  ];
  static override args = { statefulset: Args.string({ required: true, description: 'the StatefulSet whose backups to prune' }) };
  static override flags = {
    'keep-last': Flags.integer({ min: 0, description: 'keep the N newest completed backups' }),
    'keep-daily': Flags.integer({ min: 0, description: 'keep the newest backup of each of the last N days' }),
    'keep-weekly': Flags.integer({ min: 0, description: 'keep the newest backup of each of the last N ISO weeks' }),
    'max-age': Flags.string({ description: 'keep backups younger than N days (decimals allowed)' }),
    'time-zone': Flags.string({ description: 'IANA time zone of days and weeks (default UTC)' }),
    'dry-run': dryRunFlag('show what would be deleted and why, delete nothing'),
  };

  async run(): Promise<void> {
    this.refuseAllNamespaces();
    const maxAge = this.flags['max-age'];
    const maxAgeDays = maxAge === undefined ? undefined : Number(maxAge.replace(/d$/, ''));
    const { core, deps, namespace } = await this.runtime();
    const dryRun = this.dryRun;
    const decisions = await core.prune(deps, {
      namespace,
      statefulSet: this.args.statefulset,
      dryRun,
      policy: {
        keepLast: this.flags['keep-last'],
        keepDaily: this.flags['keep-daily'],
        keepWeekly: this.flags['keep-weekly'],
        maxAgeDays,
        timeZone: this.flags['time-zone'],
      },
    });
    // --dry-run=server: the API server checks each deletion.
    if (this.dryRunMode === 'server')
      await this.dryRunObjects({ delete: decisions.filter((d) => d.action === 'delete').flatMap((d) => core.backupObjects(d.backup)) });
    await this.print(pruneView(decisions, dryRun));
    if (this.format === 'table' || this.format === 'wide') {
      const deleted = decisions.filter((d) => d.action === 'delete').length;
      this.note(`${deleted} of ${decisions.length} backups ${dryRun ? 'would be deleted (dry run)' : 'deleted'}`);
    }
  }
}
