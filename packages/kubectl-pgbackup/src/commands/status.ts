import { Args, Flags } from '@oclif/core';
import type { Backup, RecordedEvent, StatefulSetStatus } from '@pgbackup/core';
import { Labels } from '@pgbackup/core/isomorphic';
import { BaseCommand } from '../baseCommand.js';
import { CliError, ExitCode } from '../errors.js';
import type { View } from '../output.js';
import { describeBackup, describeEvents, describeStatefulSet } from '../views.js';

export default class Status extends BaseCommand<typeof Status> {
  static override summary = 'Show one backup in detail, or a StatefulSet with its newest backups, schedule and freshness';
  static override examples = [
    '<%= config.bin %> status pg-20261125020000-x7k2 -n db',
    '<%= config.bin %> status pg -n db',
    '<%= config.bin %> status pg -n db -o json',
    '<%= config.bin %> status pg-20261125020000-x7k2 -n db -w',
  ];
  static override args = { target: Args.string({ required: true, description: 'a backup id, or a StatefulSet name' }) };
  static override flags = {
    watch: Flags.boolean({ char: 'w', default: false, description: 'print it again whenever it (or its backups) change, until Ctrl-C' }),
  };

  async run(): Promise<void> {
    this.refuseAllNamespaces();
    const { core, deps, namespace } = await this.runtime();
    const target = this.args.target;
    // A backup id if snapshots carry it, else a StatefulSet.
    const backup = await core.getBackup(deps, namespace, target).catch((e: unknown) => {
      if (core.isPgBackupError(e, 'NotFound')) return undefined;
      throw e;
    });
    const sts = backup
      ? undefined
      : await core.getStatefulSetStatus(deps, namespace, target).catch((e: unknown) => {
          if (core.isPgBackupError(e, 'NotFound') && /StatefulSet/.test((e as Error).message))
            throw new CliError(
              `no backup and no StatefulSet named "${target}" in namespace "${namespace}"`,
              ExitCode.notFound,
              `list backups with: kubectl pgbackup list -n ${namespace}`,
            );
          throw e;
        });
    if (!this.flags.watch) return this.print(backup ? backupStatusView(backup) : await this.statefulSetView(sts!));

    // --watch: again after every change of the backup's snapshots (of a StatefulSet: of its backups' snapshots).
    let last = '';
    const showIfChanged = async (view: View<unknown>) => {
      const state = JSON.stringify(view.data);
      if (state !== last) await this.print(view);
      last = state;
    };
    await this.watchUntilInterrupted((signal, emit) =>
      core.watchBackups(
        deps,
        backup ? { namespace, selector: `${Labels.backup}=${target}` } : { namespace, statefulSet: target },
        ([newest]) =>
          emit(async () =>
            showIfChanged(
              backup
                ? backupStatusView(newest ?? backup)
                : await this.statefulSetView(await core.getStatefulSetStatus(deps, namespace, target)),
            ),
          ),
        signal,
      ),
    );
  }

  /** A StatefulSet's status; its Events only in the text view (-o json|yaml keep the StatefulSetStatus schema). */
  private async statefulSetView(sts: StatefulSetStatus): Promise<View<unknown>> {
    const text = this.format === 'table' || this.format === 'wide';
    const { core, deps, namespace } = await this.runtime();
    return statefulSetStatusView(sts, text ? await core.recentEvents(deps, namespace, sts.name) : undefined);
  }
}

const backupStatusView = (backup: Backup): View<unknown> => ({
  schema: 'Backup',
  data: backup,
  rows: [backup],
  columns: [],
  name: () => `backup/${backup.id}`,
  text: () => describeBackup(backup),
});

const statefulSetStatusView = (sts: StatefulSetStatus, events?: { events: RecordedEvent[]; error?: string }): View<unknown> => ({
  schema: 'StatefulSetStatus',
  data: sts,
  rows: [sts],
  columns: [],
  name: () => `statefulset.apps/${sts.name}`,
  text: () => describeStatefulSet(sts) + (events ? describeEvents(events) : ''),
});
