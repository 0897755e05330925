import { Args } from '@oclif/core';
import { BaseCommand } from '../baseCommand.js';
import { backupView } from '../views.js';

export default class Pin extends BaseCommand<typeof Pin> {
  static override summary = 'Pin a backup: prune and delete leave it alone';
  static override examples = ['<%= config.bin %> pin pg-20261125020000-x7k2 -n db'];
  static override args = { id: Args.string({ required: true, description: 'the backup id' }) };

  /** What this verb sets (unpin is this command with false). */
  protected readonly pinned: boolean = true;

  async run(): Promise<void> {
    this.refuseAllNamespaces();
    const { core, deps, namespace } = await this.runtime();
    const backup = await core.pinBackup(deps, namespace, this.args.id, this.pinned);
    if (this.format === 'table' || this.format === 'wide') return this.out(`backup/${backup.id} ${this.pinned ? 'pinned' : 'unpinned'}\n`);
    await this.print(backupView(backup));
  }
}
