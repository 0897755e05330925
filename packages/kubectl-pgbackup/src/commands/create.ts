import { hostname } from 'node:os';
import { Args, Flags } from '@oclif/core';
import type { Backup, BackupType, ConsistencyMethod, CreateProgress, KubernetesObject } from '@pgbackup/core';
import { BaseCommand, type Stop, dryRunFlag, parseDuration } from '../baseCommand.js';
import { CliError, ExitCode } from '../errors.js';
import { humanBytes } from '../output.js';
import { backupView } from '../views.js';

export default class Create extends BaseCommand<typeof Create> {
  static override summary =
    'Back up a StatefulSet: CHECKPOINT in the primary, then an atomic VolumeSnapshot of its volume (a VolumeGroupSnapshot of several)';
  static override examples = [
    '<%= config.bin %> create pg -n db',
    '<%= config.bin %> create pg -n db --wait --timeout 15m',
    '<%= config.bin %> create pg -n db --dry-run',
    '<%= config.bin %> create pg -n db --lock-wait 15m --wait',
  ];
  static override args = { statefulset: Args.string({ required: true, description: 'the StatefulSet to back up' }) };
  static override flags = {
    type: Flags.string({ options: ['manual', 'scheduled'], default: 'manual', description: 'recorded on the backup' }),
    method: Flags.string({
      options: ['checkpoint-snapshot', 'group-snapshot'],
      description: 'how consistency is reached (default: chosen from the volumes)',
    }),
    'snapshot-class': Flags.string({ description: "VolumeSnapshotClass (default: the default class of each volume's CSI driver)" }),
    'group-snapshot-class': Flags.string({
      description: "VolumeGroupSnapshotClass of a pod with several volumes (default: the default class of the volumes' CSI driver)",
    }),
    pod: Flags.string({ description: 'back up this pod instead of the detected primary' }),
    pin: Flags.boolean({ default: false, description: 'exempt the backup from pruning' }),
    'lock-wait': Flags.string({
      default: '0s',
      description: 'when another backup of the StatefulSet runs, wait this long for it (e.g. 15m) instead of failing',
    }),
    'consistency-timeout': Flags.string({
      default: '5m',
      description: "how long the CHECKPOINT and the storage's cut may take before the backup counts as failed",
    }),
    wait: Flags.boolean({ char: 'w', default: false, description: 'wait until every snapshot is readyToUse' }),
    timeout: Flags.string({ default: '10m', description: 'with --wait: how long to wait, e.g. 90s, 10m' }),
    'dry-run': dryRunFlag('print the VolumeSnapshots (or the VolumeGroupSnapshot) it would create'),
  };

  async run(): Promise<void> {
    this.refuseAllNamespaces();
    const timeoutSeconds = this.positiveDuration('timeout');
    const consistencyTimeoutSeconds = this.positiveDuration('consistency-timeout');
    const started = Date.now();
    const { core, deps, namespace } = await this.runtime();
    const options = {
      namespace,
      statefulSet: this.args.statefulset,
      type: this.flags.type as BackupType,
      method: this.flags.method as ConsistencyMethod | undefined,
      snapshotClass: this.flags['snapshot-class'],
      groupSnapshotClass: this.flags['group-snapshot-class'],
      lockWaitSeconds: parseDuration(this.flags['lock-wait'], '--lock-wait'),
      consistencyTimeoutSeconds,
      pod: this.flags.pod,
      pin: this.flags.pin,
      holder: `kubectl-pgbackup@${hostname()}`,
    };

    if (this.dryRun) {
      const plan = await core.planBackup(deps, options);
      const objects = plan.group ? [core.volumeGroupSnapshotManifest(plan.group)] : plan.snapshots.map(core.volumeSnapshotManifest);
      if (this.format === 'table' || this.format === 'wide' || this.format === 'yaml')
        this.note(
          `backup/${plan.id} ${this.dryRunSuffix}: ${plan.method} of pod ${plan.pod}, ${plan.group ? `one VolumeGroupSnapshot of ${plan.group.claims.join(', ')}` : `${objects.length} VolumeSnapshot(s)`}`,
        );
      return this.printDryRun({ create: objects as KubernetesObject[] });
    }

    // Ctrl-C before the cut: the backup is recorded failed and everything released. After: it goes on.
    let id: string | undefined;
    let created: Backup | undefined;
    const interrupted = (stop: Stop) =>
      created
        ? new CliError(
            `stopped waiting; backup/${created.id} goes on`,
            stop.exitCode,
            `follow it with: kubectl pgbackup status ${created.id} -n ${namespace}`,
          )
        : new CliError(
            `${stop.word} before the snapshots were cut${id ? `: backup/${id} was recorded as failed` : ''}`,
            stop.exitCode,
            'nothing was left half-done; run the command again',
          );
    await this.interruptible(async (signal) => {
      created = await core.createBackup(deps, { ...options, signal, onProgress: (p) => this.progress(p, (x) => (id = x)) });
      if (!this.flags.wait) {
        await this.done(created, 'created');
        if (this.format === 'table' || this.format === 'wide')
          this.note(`follow it with: kubectl pgbackup status ${created.id} -n ${namespace}`);
        return;
      }
      const remaining = Math.max(1, timeoutSeconds - (Date.now() - started) / 1000);
      let last = '';
      const final = await core.waitForBackup(deps, namespace, created.id, {
        timeoutSeconds: remaining,
        signal,
        onProgress: (b) => {
          const line = this.progressLine(b, started);
          if (line !== last) this.note(line);
          last = line;
        },
      });
      if (final.status === 'failed')
        throw new CliError(
          `backup/${final.id} failed: ${final.error ?? 'unknown reason'}`,
          ExitCode.failure,
          `details: kubectl pgbackup status ${final.id} -n ${namespace}`,
        );
      await this.done(final, 'completed');
    }, interrupted);
  }

  private async done(backup: Backup, verb: string): Promise<void> {
    if (this.format === 'table' || this.format === 'wide') {
      const size = backup.size === undefined ? '' : `, ${humanBytes(backup.size)}`;
      return this.out(
        `backup/${backup.id} ${verb} (${backup.snapshots.length} VolumeSnapshot${backup.snapshots.length === 1 ? '' : 's'}${size})\n`,
      );
    }
    await this.print(backupView(backup));
  }

  private progress(p: CreateProgress, setId: (id: string) => void): void {
    switch (p.stage) {
      case 'planned':
        setId(p.plan.id);
        return this.note(`backup/${p.plan.id}: ${p.plan.method} of pod ${p.plan.pod} (${p.plan.snapshots.map((s) => s.pvc).join(', ')})`);
      case 'waiting-for-lock':
        return this.note(`waiting: ${p.reason}`);
      case 'checkpoint':
        return this.note(`  CHECKPOINT done in ${p.pod} at LSN ${p.lsn}`);
      case 'snapshots-created':
        return this.note(`  VolumeSnapshots created: ${p.names.join(', ')}`);
      case 'cut':
        return this.note(`  cut by the storage at ${p.cutAt}`);
    }
  }

  private progressLine(b: Backup, started: number): string {
    const elapsed = Math.round((Date.now() - started) / 1000);
    const volumes = b.snapshots
      .map((s) => `${s.pvc}: ${s.readyToUse ? 'ready' : s.error ? `error (${s.error})` : s.cutAt ? 'cut, not ready' : 'pending'}`)
      .join(', ');
    return `  [${elapsed}s] ${b.status} ${b.snapshots.filter((s) => s.readyToUse).length}/${b.volumes} ready: ${volumes}`;
  }
}
