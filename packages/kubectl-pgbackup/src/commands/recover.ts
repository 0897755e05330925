import { Args, Flags } from '@oclif/core';
import type { RecoverResult, RestoreProgress } from '@pgbackup/core';
import { Annotations } from '@pgbackup/core/isomorphic';
import { BaseCommand, parseDuration } from '../baseCommand.js';

export default class Recover extends BaseCommand<typeof Recover> {
  static override summary = 'Finish or roll back an in-place restore that did not finish (killed, or its rollback failed)';
  static override description =
    `An in-place restore records each step on its StatefulSet (annotation ${Annotations.inPlaceRestore}) before it starts. ` +
    "recover takes the StatefulSet's Lease and reads that record: a restore whose restored claims all exist is finished (PostgreSQL awaited, " +
    'the old volumes given back to their reclaim policy); anything earlier, or a restored database that does not come up, is rolled back ' +
    '(the old claims bound to their kept volumes again, the old replica count). Either way the StatefulSet ends on one of the two databases. ' +
    'Nothing to do is not an error.';
  static override examples = ['<%= config.bin %> recover pg -n db', '<%= config.bin %> recover pg -n db --rollback'];
  static override args = { statefulset: Args.string({ required: true, description: 'the StatefulSet restored in place' }) };
  static override flags = {
    rollback: Flags.boolean({ default: false, description: 'roll back even when the restore could be finished' }),
    timeout: Flags.string({ default: '10m', description: 'how long the restored database may take to answer, e.g. 90s, 10m' }),
    'lock-wait': Flags.string({
      default: '90s',
      description: "how long to wait for the StatefulSet's Lease (a killed restore's Lease expires within a minute)",
    }),
  };

  async run(): Promise<void> {
    this.refuseAllNamespaces();
    const timeoutSeconds = this.positiveDuration('timeout');
    const lockWaitSeconds = parseDuration(this.flags['lock-wait'], '--lock-wait');
    const { core, deps, namespace } = await this.runtime();
    // Interrupted, it stops where it is: the record stays on the StatefulSet for the next recover.
    const result = await this.interruptible((signal) =>
      core.recoverInPlaceRestore(deps, {
        namespace,
        statefulSet: this.args.statefulset,
        rollBack: this.flags.rollback,
        timeoutSeconds,
        lockWaitSeconds,
        signal,
        onProgress: (p) => this.progress(p),
      }),
    );
    await this.show(result);
  }

  private progress(p: RestoreProgress): void {
    if (this.format !== 'table' && this.format !== 'wide') return;
    if (p.stage === 'deleted') this.note(`  deleted ${p.ref.kind.toLowerCase()}/${p.ref.name}`);
    else if (p.stage === 'scaled') this.note(`  scaled to ${p.replicas}`);
    else if (p.stage === 'ready') this.note(`  PostgreSQL ready after ${p.seconds}s`);
  }

  private async show(result: RecoverResult): Promise<void> {
    const sts = `statefulset/${result.statefulSet}`;
    const pre = result.record?.preRestoreBackup;
    const line =
      result.outcome === 'none'
        ? `${sts}: no unfinished in-place restore`
        : result.outcome === 'restored'
          ? `${sts}: in-place restore of ${result.record?.backup} finished${pre ? `; the data from before is in backup ${pre} (pinned), to undo: kubectl pgbackup restore ${pre} -n ${result.namespace} --in-place` : ''}`
          : `${sts}: in-place restore of ${result.record?.backup} rolled back onto the old volumes (${result.reason})`;
    await this.print({
      kind: 'Recovery',
      data: result,
      rows: [result],
      columns: [],
      name: () => sts,
      text: () => `${line}\n`,
    });
  }
}
