import { Args, Flags } from '@oclif/core';
import { BaseCommand, dryRunFlag, parseDuration } from '../../baseCommand.js';
import { resourceName } from '../../output.js';

export default class ScheduleSet extends BaseCommand<typeof ScheduleSet> {
  static override summary = 'Create or update the CronJob that backs up a StatefulSet, then prunes its backups';
  static override description =
    'Writes a CronJob (concurrencyPolicy Forbid, 3 successful and 3 failed Jobs kept) running "kubectl-pgbackup create --type scheduled --wait" then "kubectl-pgbackup prune", with its ServiceAccount, Role, RoleBinding and a ClusterRoleBinding to the ClusterRole kubectl-pgbackup (VolumeSnapshotClasses, PersistentVolumes).';
  static override examples = [
    '<%= config.bin %> schedule set pg -n db --cron "0 2 * * *" --keep-daily 7 --keep-weekly 4',
    '<%= config.bin %> schedule set pg -n db --cron @hourly --time-zone Europe/Berlin --keep-last 24 --dry-run',
  ];
  static override args = { statefulset: Args.string({ required: true, description: 'the StatefulSet to back up' }) };
  static override flags = {
    cron: Flags.string({ required: true, description: 'CronJob schedule, 5 fields or a macro: "0 2 * * *", @daily' }),
    'time-zone': Flags.string({ description: 'IANA time zone of the schedule and of prune days (default UTC)' }),
    'keep-last': Flags.integer({ min: 0, description: 'prune: keep the N newest completed backups' }),
    'keep-daily': Flags.integer({ min: 0, description: 'prune: keep one backup per day for N days' }),
    'keep-weekly': Flags.integer({ min: 0, description: 'prune: keep one backup per ISO week for N weeks' }),
    'max-age': Flags.string({ description: 'prune: keep backups younger than N days' }),
    image: Flags.string({ description: 'image of the backup pod (default ghcr.io/pgbackup/kubectl-pgbackup:<version>)' }),
    'wait-timeout': Flags.string({ default: '1h', description: 'how long a run waits for its snapshots to be ready' }),
    suspend: Flags.boolean({ default: false, description: 'create the CronJob suspended' }),
    verify: Flags.boolean({
      default: false,
      description:
        'verify each backup (scratch restore, amcheck, row counts) before pruning; a failed verification fails the Job and prunes nothing. Its Role may also create and delete StatefulSets, PVCs and Services',
    }),
    'dry-run': dryRunFlag('print the objects instead of writing them'),
  };

  async run(): Promise<void> {
    this.refuseAllNamespaces();
    const f = this.flags;
    const waitTimeoutSeconds = Math.round(parseDuration(f['wait-timeout'], '--wait-timeout'));
    const retention = [f['keep-last'], f['keep-daily'], f['keep-weekly'], f['max-age']].some((v) => v !== undefined)
      ? {
          keepLast: f['keep-last'],
          keepDaily: f['keep-daily'],
          keepWeekly: f['keep-weekly'],
          maxAgeDays: f['max-age'] === undefined ? undefined : Number(f['max-age']),
          timeZone: f['time-zone'],
        }
      : undefined;
    const { core, deps, namespace } = await this.runtime();
    const result = await core.setSchedule(deps, {
      namespace,
      statefulSet: this.args.statefulset,
      cron: f.cron,
      timeZone: f['time-zone'],
      retention: retention && (Object.fromEntries(Object.entries(retention).filter(([, v]) => v !== undefined)) as typeof retention),
      image: f.image ?? `ghcr.io/pgbackup/kubectl-pgbackup:${this.config.version}`,
      suspend: f.suspend,
      waitTimeoutSeconds,
      verify: f.verify,
      dryRun: this.dryRun,
    });
    if (this.dryRun) return this.printDryRun({ apply: result.objects });
    await this.print({
      objects: result.objects,
      rows: result.objects,
      columns: [],
      name: resourceName,
      text: () => result.applied.map(({ object, action }) => `${resourceName(object)} ${action}\n`).join(''),
    });
  }
}
