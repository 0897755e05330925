import { Args } from '@oclif/core';
import { BaseCommand } from '../baseCommand.js';

const HELPER = `#!/usr/bin/env sh
# kubectl (>= 1.26) runs this for "kubectl pgbackup <TAB>": it must be on PATH next to kubectl-pgbackup.
exec kubectl pgbackup __complete "$@"
`;

export default class Completion extends BaseCommand<typeof Completion> {
  static override summary = 'Set up shell completion of verbs, StatefulSets and backup ids';
  static override description =
    'kubectl completes plugins through an executable named kubectl_complete-pgbackup on PATH (kubectl >= 1.26, with kubectl completion enabled in your shell). "completion helper" prints that script.';
  static override examples = [
    '<%= config.bin %> completion',
    '<%= config.bin %> completion helper > ~/.local/bin/kubectl_complete-pgbackup && chmod +x ~/.local/bin/kubectl_complete-pgbackup',
  ];
  static override args = { what: Args.string({ options: ['helper'], description: 'print the kubectl_complete-pgbackup helper script' }) };

  async run(): Promise<void> {
    if (this.args.what === 'helper') return this.out(HELPER);
    this.out(`Completion for "kubectl pgbackup" works through kubectl's own completion:
  1. enable kubectl completion in your shell, e.g.  source <(kubectl completion bash)
  2. put the helper on PATH:
       kubectl pgbackup completion helper > ~/.local/bin/kubectl_complete-pgbackup
       chmod +x ~/.local/bin/kubectl_complete-pgbackup
     (installs from source and the release archive ship it next to kubectl-pgbackup; Krew does not install it)
Then: kubectl pgbackup <TAB> completes verbs, flags, StatefulSets and backup ids.
`);
  }
}
