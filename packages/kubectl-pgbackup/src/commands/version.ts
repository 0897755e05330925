import { BaseCommand } from '../baseCommand.js';

export default class Version extends BaseCommand<typeof Version> {
  static override summary = 'Print the client version';

  async run(): Promise<void> {
    const info = { clientVersion: this.config.version, node: process.version, platform: `${process.platform}/${process.arch}` };
    if (this.format === 'json') return this.out(JSON.stringify(info, null, 2) + '\n');
    if (this.format === 'yaml') return this.out(Object.entries(info).map(([k, v]) => `${k}: ${v}`).join('\n') + '\n');
    this.out(`kubectl-pgbackup v${info.clientVersion} (node ${info.node}, ${info.platform})\n`);
  }
}
