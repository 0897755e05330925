// The standalone server of the integration tests: on a free loopback port, against the local cluster (its kubeconfig
// unless `env` names another one), returned once its cache has synced (/health/ready answers 200).
import { KUBECONFIG, MIN, eventually } from '../../../tools/cluster/test/kube.js';
import { type Logger, jsonLogger } from '../src/logger.js';
import { type Standalone, startStandalone } from '../src/standalone.js';

export async function startLocalApi(
  env: Record<string, string>,
  logger: Logger = jsonLogger('warn', () => undefined),
): Promise<Standalone> {
  const api = await startStandalone({
    env: { ...process.env, KUBECONFIG, PORT: '0', HOST: '127.0.0.1', PGBACKUP_SHUTDOWN_GRACE_SECONDS: '5', ...env },
    logger,
  });
  await eventually('the cache to sync', MIN, async () => ((await fetch(`${api.url}/health/ready`)).status === 200 ? true : undefined));
  return api;
}
