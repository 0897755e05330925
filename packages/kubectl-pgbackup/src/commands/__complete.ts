import { Command } from '@oclif/core';
import { buildRuntime } from '../baseCommand.js';
import { OUTPUT_FORMATS } from '../output.js';

// Cobra's protocol, as kubectl calls `kubectl_complete-pgbackup`: one candidate a line, then `:<directive>`.
const NO_FILE_COMP = 4;

const VALUES: Record<string, readonly string[]> = {
  output: OUTPUT_FORMATS,
  status: ['in_progress', 'completed', 'failed'],
  type: ['manual', 'scheduled'],
  method: ['checkpoint-snapshot', 'group-snapshot'],
};

/** Which names each verb's first argument takes. */
const ARGUMENT: Record<string, ('statefulset' | 'backup')[]> = {
  create: ['statefulset'],
  list: ['statefulset'],
  prune: ['statefulset'],
  recover: ['statefulset'],
  doctor: ['statefulset'],
  'schedule:set': ['statefulset'],
  'schedule:show': ['statefulset'],
  'schedule:remove': ['statefulset'],
  status: ['backup', 'statefulset'],
  delete: ['backup'],
  pin: ['backup'],
  unpin: ['backup'],
};

export default class Complete extends Command {
  static override hidden = true;
  static override strict = false;
  static override summary = 'Shell completion candidates (cobra __complete protocol)';

  async run(): Promise<void> {
    const words = this.argv.length ? this.argv : [''];
    const partial = words.at(-1)!;
    const before = words.slice(0, -1);
    const candidates = await this.candidates(before, partial).catch(() => []);
    process.stdout.write(candidates.map((c) => c + '\n').join('') + `:${NO_FILE_COMP}\n`);
  }

  private async candidates(before: string[], partial: string): Promise<string[]> {
    const ids = this.config.commands.filter((c) => !c.hidden).map((c) => c.id);
    const positional: string[] = [];
    const given: Record<string, string> = {};
    let id: string | undefined;
    let pending: string | undefined;
    for (const word of before) {
      if (pending) {
        given[pending] = word;
        pending = undefined;
      } else if (word.startsWith('-') && !word.includes('=')) {
        const name = this.flagName(id, word);
        if (name && this.takesValue(id, name)) pending = name;
      } else if (word.startsWith('--') && word.includes('=')) {
        const [k, v] = word.slice(2).split('=', 2);
        given[k!] = v!;
      } else {
        positional.push(word);
        const candidate = positional.slice(0, 2).join(':');
        if (ids.includes(candidate)) id = candidate;
        else if (ids.includes(positional[0]!)) id = positional[0];
      }
    }
    if (pending) return (VALUES[pending] ?? []).filter((v) => v.startsWith(partial));
    if (partial.startsWith('-')) {
      const flags = Object.entries(this.config.findCommand(id ?? '')?.flags ?? {}).map(([n]) => `--${n}`);
      return flags.filter((f) => f.startsWith(partial)).sort();
    }
    if (!id) {
      const depth = positional.length;
      const next = [
        ...new Set(
          ids
            .filter((i) => i.split(':').slice(0, depth).join(':') === positional.join(':'))
            .map((i) => i.split(':')[depth])
            .filter(Boolean),
        ),
      ];
      return (next as string[]).filter((n) => n.startsWith(partial)).sort();
    }
    const args = positional.length - id.split(':').length;
    const kinds = ARGUMENT[id];
    if (!kinds || args > 0) return [];
    const { core, deps, namespace } = await buildRuntime({
      kubeconfig: given.kubeconfig,
      context: given.context,
      cluster: given.cluster,
      user: given.user,
      namespace: given.namespace,
    });
    return core.completeNames(deps, { namespace, kinds, prefix: partial });
  }

  private flagName(id: string | undefined, word: string): string | undefined {
    const flags = this.config.findCommand(id ?? 'list')?.flags ?? {};
    if (word.startsWith('--')) return word.slice(2);
    return Object.entries(flags).find(([, f]) => f.char === word.slice(1))?.[0];
  }

  private takesValue(id: string | undefined, name: string): boolean {
    return this.config.findCommand(id ?? 'list')?.flags[name]?.type === 'option';
  }
}
