import { Args } from '@oclif/core';
import { BaseCommand } from '../baseCommand.js';
import { backupView } from '../views.js';

export default class Unpin extends BaseCommand<typeof Unpin> {
  static override summary = 'Unpin a backup: retention applies to it again';
  static override examples = ['<%= config.bin %> unpin pg-20261125020000-x7k2 -n db'];
  static override args = { id: Args.string({ required: true, description: 'the backup id' }) };

  async run(): Promise<void> {
    this.refuseAllNamespaces();
    const { core, deps, namespace } = await this.runtime();
    const backup = await core.pinBackup(deps, namespace, this.args.id, false);
    if (this.format === 'table' || this.format === 'wide') return this.out(`backup/${backup.id} unpinned\n`);
    await this.print(backupView(backup));
  }
}
