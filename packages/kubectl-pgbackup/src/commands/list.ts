import { Args, Flags } from '@oclif/core';
import type { Backup, BackupStatus, ListBackupsOptions } from '@pgbackup/core';
import { Labels } from '@pgbackup/core/isomorphic';
import { BaseCommand } from '../baseCommand.js';
import { TableStream } from '../output.js';
import { backupColumns, backupListView, backupView } from '../views.js';

export default class List extends BaseCommand<typeof List> {
  static override summary = 'List backups, newest first';
  static override hiddenAliases = ['ls'];
  static override examples = [
    '<%= config.bin %> list -n db',
    '<%= config.bin %> list pg -n db --status completed',
    '<%= config.bin %> list -A -o wide',
    '<%= config.bin %> list -n db --pvc data-pg-0 -o json',
    '<%= config.bin %> list -n db -w',
  ];
  static override args = { statefulset: Args.string({ description: 'only backups of this StatefulSet' }) };
  static override flags = {
    selector: Flags.string({ char: 'l', description: `label selector on the VolumeSnapshots, e.g. ${Labels.type}=scheduled` }),
    pvc: Flags.string({ description: 'only backups with a snapshot of this PersistentVolumeClaim' }),
    status: Flags.string({ options: ['in_progress', 'completed', 'failed'], description: 'only backups with this status' }),
    watch: Flags.boolean({
      char: 'w',
      default: false,
      description: 'after the list, print each backup again when it changes, until Ctrl-C',
    }),
    'watch-only': Flags.boolean({ default: false, description: 'print only the changes, not the list first, until Ctrl-C' }),
  };

  async run(): Promise<void> {
    const { core, deps, namespace } = await this.runtime();
    const all = this.flags['all-namespaces'];
    const options: ListBackupsOptions = {
      namespace: all ? undefined : namespace,
      statefulSet: this.args.statefulset,
      selector: this.flags.selector,
      status: this.flags.status as BackupStatus | undefined,
      pvc: this.flags.pvc,
    };
    if (!this.flags.watch && !this.flags['watch-only'])
      return this.print(backupListView(await core.listBackups(deps, options), { allNamespaces: all, namespace }));

    // kubectl get -w: each backup once, then again whenever it changes; the table's header once.
    const rows = new TableStream(backupColumns({ allNamespaces: all }), {
      wide: this.format === 'wide',
      noHeaders: this.flags['no-headers'],
    });
    const shown = new Map<string, string>();
    let skip = this.flags['watch-only'];
    const show = (changed: Backup[]) =>
      this.format === 'table' || this.format === 'wide'
        ? this.out(rows.lines(changed))
        : changed.reduce((done, b) => done.then(() => this.print(backupView(b))), Promise.resolve());
    await this.watchUntilInterrupted((signal, emit) =>
      core.watchBackups(
        deps,
        options,
        (backups) => {
          const changed = backups.filter((b) => {
            const key = `${b.namespace}/${b.id}`;
            const state = JSON.stringify(b);
            if (shown.get(key) === state) return false;
            shown.set(key, state);
            return true;
          });
          if (!skip && changed.length > 0) emit(() => show(changed));
          skip = false;
        },
        signal,
      ),
    );
  }
}
