import { Args, Flags } from '@oclif/core';
import type { KubernetesObject, RestoreProgress, RestoreResult } from '@pgbackup/core';
import { Labels, isPgBackupError } from '@pgbackup/core/isomorphic';
import { BaseCommand, dryRunFlag } from '../baseCommand.js';
import { CliError } from '../errors.js';

export default class Restore extends BaseCommand<typeof Restore> {
  static override summary = 'Restore a backup into a new StatefulSet (--to), or into the backed-up one (--in-place, undoable)';
  static override description =
    'With --to: creates one PersistentVolumeClaim per snapshot, named <template>-<to>-0 so the new StatefulSet adopts it, then a StatefulSet cloned from the backed-up one (1 replica; labels that carry the source name renamed, so its Services leave the restored pod alone). Refuses when the target exists unless --replace.\n\nWith --in-place: takes a pinned pre-restore backup, scales the StatefulSet to 0, replaces its claims by claims from the snapshots (the old volumes kept with reclaim policy Retain), scales it back and waits for PostgreSQL. If the restored database does not come up, the old volumes are put back. To undo a finished in-place restore, restore the pre-restore backup in place.';
  static override examples = [
    '<%= config.bin %> restore pg-20261125020000-x7k2 --to pg-restored -n db',
    '<%= config.bin %> restore pg-20261125020000-x7k2 --to pg-restored -n db --wait',
    '<%= config.bin %> restore pg-20261125020000-x7k2 --to pg-restored -n db --dry-run -o yaml',
    '<%= config.bin %> restore pg-20261125020000-x7k2 --to pg -n db --target-namespace staging --wait',
    '<%= config.bin %> restore pg-20261125020000-x7k2 --in-place -n db --yes',
  ];
  static override args = { id: Args.string({ required: true, description: 'the backup id' }) };
  static override flags = {
    to: Flags.string({ description: 'name of the new StatefulSet', exactlyOne: ['to', 'in-place'] }),
    'in-place': Flags.boolean({
      description: 'restore into the backed-up StatefulSet itself, after a pre-restore backup (undo: restore that backup in place)',
      exactlyOne: ['to', 'in-place'],
    }),
    'target-namespace': Flags.string({
      description:
        "namespace of the new StatefulSet (default: the backup's); the snapshots are re-bound there (a Retain VolumeSnapshotContent on the same storage snapshot), and with --wait those copies are deleted once the claims are bound",
    }),
    replace: Flags.boolean({
      default: false,
      description: `replace the objects of an earlier restore to that name (labelled ${Labels.restoredFrom}); never anything else`,
    }),
    'trust-recorded-pod-template': Flags.boolean({
      default: false,
      description:
        "run the pod template recorded on the backup even where it grants more than the live StatefulSet's (ServiceAccount, privileges, host namespaces, hostPath), or than the defaults when there is none: the record is an annotation anyone who may patch volumesnapshots can rewrite, so check it first (--dry-run -o yaml)",
    }),
    yes: Flags.boolean({ char: 'y', default: false, description: 'with --replace or --in-place: do not ask for confirmation' }),
    wait: Flags.boolean({
      char: 'w',
      default: false,
      description: 'wait until PostgreSQL answers in the restored pod (--in-place always waits)',
    }),
    timeout: Flags.string({ default: '10m', description: 'with --wait: how long to wait, e.g. 90s, 10m' }),
    'dry-run': dryRunFlag('print the objects it would create and delete'),
  };

  async run(): Promise<void> {
    this.refuseAllNamespaces();
    const timeoutSeconds = this.positiveDuration('timeout');
    const { core, deps, namespace } = await this.runtime();
    const options = {
      namespace: this.flags.namespace === undefined ? undefined : namespace,
      id: this.args.id,
      to: this.flags.to,
      inPlace: this.flags['in-place'] ?? false,
      targetNamespace: this.flags['target-namespace'],
      replace: this.flags.replace,
      trustRecordedPodTemplate: this.flags['trust-recorded-pod-template'],
      wait: this.flags.wait,
      timeoutSeconds,
    };
    if (this.dryRun) {
      const result = await core.restoreBackup(deps, { ...options, dryRun: true });
      const { plan } = result;
      return this.show(result, await this.dryRunObjects({ delete: plan.delete.map(core.refObject), create: plan.create }));
    }
    if ((this.flags.replace || options.inPlace) && !this.flags.yes) {
      const { plan } = await core.previewRestore(deps, options);
      if (options.inPlace)
        await this.confirm(
          `Replace the data of statefulset/${plan.target.statefulSet} in namespace ${plan.target.namespace} with backup ${plan.backupId}? It is stopped meanwhile; a pre-restore backup is taken first.`,
        );
      else if (plan.delete.length > 0)
        await this.confirm(
          `Delete ${plan.delete.map(core.refText).join(', ')} in namespace ${plan.target.namespace} (their data is lost) and restore ${plan.backupId} there?`,
        );
    }
    // In place, an interrupted restore puts the old volumes back; one that could not says what it left and how to recover.
    const result = await this.interruptible(
      (signal) => core.restoreBackup(deps, { ...options, signal, onProgress: (p) => this.progress(p) }),
      (stop, e) =>
        options.inPlace && e === stop
          ? new CliError(`${stop.word}: the in-place restore was rolled back, its StatefulSet is on its old volumes`, stop.exitCode)
          : options.inPlace && isPgBackupError(e)
            ? e
            : new CliError(stop.word, stop.exitCode),
    );
    await this.show(result);
  }

  private progress(p: RestoreProgress): void {
    if (this.format !== 'table' && this.format !== 'wide') return;
    switch (p.stage) {
      case 'planned':
        for (const note of p.plan.notes) this.note(`note: ${note}`);
        return;
      case 'pre-restore-backup':
        return this.note(`  pre-restore backup ${p.id} completed`);
      case 'scaled':
        return this.note(`  scaled to ${p.replicas}`);
      case 'put-back':
        return this.note(
          p.failures.length === 0
            ? '  restore failed: the old volumes are back in place'
            : `  restore failed, and putting the old volumes back failed: ${p.failures.join('; ')}`,
        );
      case 'deleted':
        return this.note(
          `  deleted ${p.ref.kind.toLowerCase()}/${p.ref.name}${this.flags['in-place'] ? ' (its volume kept until the restore is ready)' : ''}`,
        );
      case 'created':
        return this.note(`  created ${p.ref.kind.toLowerCase()}/${p.ref.name}`);
      case 'ready':
        return this.note(`  PostgreSQL ready after ${p.seconds}s`);
    }
  }

  /** `objects`: what was created, or with --dry-run=server what the API server answered it would create. */
  private async show(result: RestoreResult, objects: KubernetesObject[] = result.plan.create): Promise<void> {
    const { plan } = result;
    const summary = {
      backupId: plan.backupId,
      source: plan.source,
      target: plan.target,
      dryRun: result.dryRun,
      ready: result.ready,
      ...(result.restoreSeconds !== undefined ? { restoreSeconds: result.restoreSeconds } : {}),
      ...(result.preRestoreBackup ? { preRestoreBackup: result.preRestoreBackup, undo: undoCommand(result) } : {}),
      delete: plan.delete,
      create: objects,
      notes: plan.notes,
    };
    const lines = [
      ...plan.delete.map((r) => `${r.kind.toLowerCase()}/${r.name} deleted${result.dryRun ? ` ${this.dryRunSuffix}` : ''}`),
      ...objects.map((o) => `${o.kind.toLowerCase()}/${o.metadata.name} created${result.dryRun ? ` ${this.dryRunSuffix}` : ''}`),
    ];
    if (result.ready)
      lines.push(`restore of ${plan.backupId} into statefulset/${plan.target.statefulSet} ready in ${result.restoreSeconds}s`);
    if (result.preRestoreBackup)
      lines.push(`the data from before is in backup ${result.preRestoreBackup} (pinned); to undo: ${undoCommand(result)}`);
    else if (!result.dryRun)
      lines.push(`follow it with: kubectl get statefulset ${plan.target.statefulSet} -n ${plan.target.namespace} -w`);
    await this.print({
      kind: 'Restore',
      data: summary,
      rows: objects,
      columns: [],
      name: (o) => `${o.kind.toLowerCase()}/${o.metadata.name}`,
      text: () => lines.join('\n') + '\n',
    });
  }
}

const undoCommand = (r: RestoreResult) => `kubectl pgbackup restore ${r.preRestoreBackup} -n ${r.plan.target.namespace} --in-place`;
