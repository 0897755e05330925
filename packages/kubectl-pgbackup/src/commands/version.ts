import { BaseCommand } from '../baseCommand.js';

export default class Version extends BaseCommand<typeof Version> {
  static override summary = 'Print the client version';

  async run(): Promise<void> {
    const info = { clientVersion: this.config.version, node: process.version, platform: `${process.platform}/${process.arch}` };
    await this.print({
      kind: 'Version',
      data: info,
      rows: [info],
      columns: [],
      name: () => `version/${info.clientVersion}`,
      text: () => `kubectl-pgbackup v${info.clientVersion} (node ${info.node}, ${info.platform})\n`,
    });
  }
}
