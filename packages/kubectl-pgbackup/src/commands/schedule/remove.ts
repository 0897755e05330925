import { Args } from '@oclif/core';
import { BaseCommand, dryRunFlag } from '../../baseCommand.js';

export default class ScheduleRemove extends BaseCommand<typeof ScheduleRemove> {
  static override summary = "Delete a StatefulSet's backup CronJob and its RBAC (backups stay)";
  static override examples = ['<%= config.bin %> schedule remove pg -n db'];
  static override args = { statefulset: Args.string({ required: true, description: 'the StatefulSet' }) };
  static override flags = { 'dry-run': dryRunFlag('show what would be deleted') };

  async run(): Promise<void> {
    this.refuseAllNamespaces();
    const { core, deps, namespace } = await this.runtime();
    const removed = await core.removeSchedule(deps, namespace, this.args.statefulset, { dryRun: this.dryRun });
    for (const r of removed) this.out(`${r} deleted${this.dryRun ? ' (dry run)' : ''}\n`);
  }
}
