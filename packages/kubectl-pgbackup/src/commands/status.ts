import { Args } from '@oclif/core';
import { BaseCommand } from '../baseCommand.js';
import { CliError, ExitCode } from '../errors.js';
import { describeBackup, describeEvents, describeStatefulSet } from '../views.js';

export default class Status extends BaseCommand<typeof Status> {
  static override summary = 'Show one backup in detail, or a StatefulSet with its newest backups, schedule and freshness';
  static override examples = [
    '<%= config.bin %> status pg-20261125020000-x7k2 -n db',
    '<%= config.bin %> status pg -n db',
    '<%= config.bin %> status pg -n db -o json',
  ];
  static override args = { target: Args.string({ required: true, description: 'a backup id, or a StatefulSet name' }) };

  async run(): Promise<void> {
    this.refuseAllNamespaces();
    const { core, deps, namespace } = await this.runtime();
    const target = this.args.target;
    // A backup id if snapshots carry it, else a StatefulSet.
    const backup = await core.getBackup(deps, namespace, target).catch((e: unknown) => {
      if (core.isPgBackupError(e, 'NotFound')) return undefined;
      throw e;
    });
    if (backup)
      return this.print({
        schema: 'Backup',
        data: backup,
        rows: [backup],
        columns: [],
        name: () => `backup/${backup.id}`,
        text: () => describeBackup(backup),
      });
    const sts = await core.getStatefulSetStatus(deps, namespace, target).catch((e: unknown) => {
      if (core.isPgBackupError(e, 'NotFound') && /StatefulSet/.test((e as Error).message))
        throw new CliError(
          `no backup and no StatefulSet named "${target}" in namespace "${namespace}"`,
          ExitCode.notFound,
          `list backups with: kubectl pgbackup list -n ${namespace}`,
        );
      throw e;
    });
    // Events only in the text view (-o json|yaml keep the StatefulSetStatus schema).
    const events = this.format === 'table' || this.format === 'wide' ? await core.recentEvents(deps, namespace, sts.name) : undefined;
    return this.print({
      schema: 'StatefulSetStatus',
      data: sts,
      rows: [sts],
      columns: [],
      name: () => `statefulset.apps/${sts.name}`,
      text: () => describeStatefulSet(sts) + (events ? describeEvents(events) : ''),
    });
  }
}
