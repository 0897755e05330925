import { Args, Flags } from '@oclif/core';
import type { BackupStatus } from '@pgbackup/core';
import { Labels } from '@pgbackup/core/isomorphic';
import { BaseCommand } from '../baseCommand.js';
import { backupListView } from '../views.js';

export default class List extends BaseCommand<typeof List> {
  static override summary = 'List backups, newest first';
  static override hiddenAliases = ['ls'];
  static override examples = [
    '<%= config.bin %> list -n db',
    '<%= config.bin %> list pg -n db --status completed',
    '<%= config.bin %> list -A -o wide',
    '<%= config.bin %> list -n db --pvc data-pg-0 -o json',
  ];
  static override args = { statefulset: Args.string({ description: 'only backups of this StatefulSet' }) };
  static override flags = {
    selector: Flags.string({ char: 'l', description: `label selector on the VolumeSnapshots, e.g. ${Labels.type}=scheduled` }),
    pvc: Flags.string({ description: 'only backups with a snapshot of this PersistentVolumeClaim' }),
    status: Flags.string({ options: ['in_progress', 'completed', 'failed'], description: 'only backups with this status' }),
  };

  async run(): Promise<void> {
    const { core, deps, namespace } = await this.runtime();
    const all = this.flags['all-namespaces'];
    const backups = await core.listBackups(deps, {
      namespace: all ? undefined : namespace,
      statefulSet: this.args.statefulset,
      selector: this.flags.selector,
      status: this.flags.status as BackupStatus | undefined,
      pvc: this.flags.pvc,
    });
    await this.print(backupListView(backups, { allNamespaces: all, namespace }));
  }
}
