import { Args } from '@oclif/core';
import type { ScheduleView } from '@pgbackup/core';
import { BaseCommand } from '../../baseCommand.js';

export default class ScheduleShow extends BaseCommand<typeof ScheduleShow> {
  static override summary = "Show a StatefulSet's backup schedule, retention and next run";
  static override examples = ['<%= config.bin %> schedule show pg -n db', '<%= config.bin %> schedule show pg -n db -o yaml'];
  static override args = { statefulset: Args.string({ required: true, description: 'the StatefulSet' }) };

  async run(): Promise<void> {
    this.refuseAllNamespaces();
    const { core, deps, namespace } = await this.runtime();
    const s = await core.getSchedule(deps, namespace, this.args.statefulset);
    const retention = (r: ScheduleView['retention']) =>
      r
        ? Object.entries(r)
            .map(([k, v]) => `${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}=${v}`)
            .join(',')
        : '-';
    await this.print({
      schema: 'ScheduledBackup',
      data: s,
      rows: [s],
      name: (x) => `cronjob.batch/${x.cronJob ?? x.statefulSet}`,
      columns: [
        { header: 'statefulset', value: (x) => x.statefulSet },
        { header: 'schedule', value: (x) => x.schedule.cron },
        { header: 'timezone', value: (x) => x.schedule.timeZone ?? 'UTC' },
        { header: 'suspend', value: (x) => String(x.suspended) },
        { header: 'last run', value: (x) => x.lastScheduleTime ?? '-' },
        { header: 'next run', value: (x) => x.nextRunAt ?? '-' },
        { header: 'retention', value: (x) => retention(x.retention) },
        { header: 'verify', value: (x) => (x.verify ? 'each backup' : '-') },
        { header: 'cronjob', value: (x) => x.cronJob ?? '-', wide: true },
        { header: 'image', value: (x) => x.image ?? '-', wide: true },
      ],
    });
  }
}
