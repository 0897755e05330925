import { Args } from '@oclif/core';
import { BaseCommand } from '../baseCommand.js';
import { CliError, ExitCode } from '../errors.js';

export default class Doctor extends BaseCommand<typeof Doctor> {
  static override summary = 'Check that backups can work here: snapshot API, RBAC, volumes, snapshot classes, PostgreSQL';
  static override examples = ['<%= config.bin %> doctor -n db', '<%= config.bin %> doctor pg -n db'];
  static override args = { statefulset: Args.string({ description: 'also check this StatefulSet' }) };

  async run(): Promise<void> {
    this.refuseAllNamespaces();
    const { core, deps, namespace } = await this.runtime();
    const report = await core.doctor(deps, { namespace, statefulSet: this.args.statefulset });
    const color = this.color();
    const mark = (ok: boolean) => (ok ? (color ? '\x1b[32m✓\x1b[0m' : '✓') : color ? '\x1b[31m✗\x1b[0m' : '✗');
    await this.print({
      schema: 'DoctorReport',
      data: report,
      rows: report.checks,
      columns: [],
      name: (c) => `check/${c.name}`,
      text: () => report.checks.map((c) => `${mark(c.ok)} ${c.name}: ${c.detail}\n${!c.ok && c.fix ? `    fix: ${c.fix}\n` : ''}`).join(''),
    });
    const failed = report.checks.filter((c) => !c.ok).length;
    if (failed) throw new CliError(`${failed} of ${report.checks.length} checks failed`, ExitCode.failure);
  }
}
