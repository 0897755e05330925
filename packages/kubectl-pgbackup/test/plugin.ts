// How the integration tests run `kubectl pgbackup`: the repo's launcher found by kubectl's plugin discovery on PATH.
import path from 'node:path';
import { KUBECONFIG, KUBECTL, ROOT } from '../../../tools/cluster/test/kube.js';

/** The folder of the `kubectl-pgbackup` launcher. */
export const PLUGIN_BIN = path.join(ROOT, 'packages/kubectl-pgbackup/bin');

/** The environment of a `kubectl pgbackup` run against the local cluster; `extraPath` goes before the rest of PATH. */
export function pluginEnv(extraPath: string[] = []): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: [PLUGIN_BIN, path.dirname(KUBECTL), ...extraPath, process.env.PATH].join(':'),
    KUBECONFIG,
    NODE_OPTIONS: '',
  };
}
