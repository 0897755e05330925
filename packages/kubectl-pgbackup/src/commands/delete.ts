import { Args, Flags } from '@oclif/core';
import { BaseCommand, dryRunFlag } from '../baseCommand.js';

export default class Delete extends BaseCommand<typeof Delete> {
  static override summary = 'Delete a backup (all its VolumeSnapshots)';
  static override description =
    'Refuses to delete a pinned backup or the last completed backup of its StatefulSet unless --force. Asks for confirmation on a terminal; elsewhere pass --yes.';
  static override hiddenAliases = ['rm'];
  static override examples = [
    '<%= config.bin %> delete pg-20261125020000-x7k2 -n db',
    '<%= config.bin %> delete pg-20261125020000-x7k2 -n db --yes',
    '<%= config.bin %> delete pg-20261125020000-x7k2 -n db --dry-run',
  ];
  static override args = { id: Args.string({ required: true, description: 'the backup id' }) };
  static override flags = {
    yes: Flags.boolean({ char: 'y', default: false, description: 'do not ask for confirmation' }),
    force: Flags.boolean({ default: false, description: 'also delete a pinned backup or the last completed one' }),
    'dry-run': dryRunFlag('check and show what would be deleted'),
  };

  async run(): Promise<void> {
    this.refuseAllNamespaces();
    const { core, deps, namespace } = await this.runtime();
    const { id } = this.args;
    const options = { force: this.flags.force };
    // Refusals (pinned, last completed) come before any question.
    const backup = await core.deleteBackup(deps, namespace, id, { ...options, dryRun: true });
    if (this.dryRun) return this.printDryRun({ delete: core.backupObjects(backup) });
    if (!this.flags.yes)
      await this.confirm(
        `Delete backup ${id} of ${backup.statefulSet} (${backup.status}, ${backup.snapshots.length} VolumeSnapshots) in namespace ${namespace}?`,
      );
    await core.deleteBackup(deps, namespace, id, options);
    this.out(`backup/${id} deleted\n`);
  }
}
