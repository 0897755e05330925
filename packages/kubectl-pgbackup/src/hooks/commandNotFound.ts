import type { Hook } from '@oclif/core';
import { ExitCode } from '../errors.js';

/** kubectl's wording and exit code for an unknown verb, instead of oclif's. */
const hook: Hook<'command_not_found'> = async function (options) {
  const verbs = options.config.commands.filter((c) => !c.hidden).map((c) => c.id.replace(/:/g, ' '));
  process.stderr.write(
    `error: unknown command "${options.id.replace(/:/g, ' ')}" for "kubectl pgbackup"\nhint: one of: ${[...new Set(verbs)].sort().join(', ')}\n`,
  );
  this.exit(ExitCode.usage);
};

export default hook;
