import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { invalid } from '../errors.js';
import { type LoadedKubeConfig, applyRequestTimeout, loadKubeConfig } from './kubeconfig.js';

const SA_TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * One cluster as the Backstage Kubernetes plugin configures it (name, url, serviceAccountToken,
 * caData, skipTLSVerify), or a kubeconfig file/context; with neither, kubectl's rules and then
 * the in-cluster ServiceAccount.
 */
export interface ClusterConnection {
  name: string;
  url?: string;
  serviceAccountToken?: string;
  /** Base64 PEM of the API server's CA. */
  caData?: string;
  caFile?: string;
  skipTLSVerify?: boolean;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  /** Defaults to process.env. */
  env?: Record<string, string | undefined>;
}

export function kubeConfigForCluster(cluster: ClusterConnection): LoadedKubeConfig {
  if (!cluster.url)
    return loadKubeConfig({ kubeconfig: cluster.kubeconfig, context: cluster.context, namespace: cluster.namespace, env: cluster.env });
  if (!/^https?:\/\//.test(cluster.url))
    throw invalid(`cluster "${cluster.name}": url "${cluster.url}" must start with https:// or http://`);
  const kc = new KubeConfig();
  // Without a token in the config, use the pod's ServiceAccount token file (re-read as kubelet rotates it).
  const user = cluster.serviceAccountToken
    ? { name: `${cluster.name}-user`, token: cluster.serviceAccountToken }
    : existsSync(SA_TOKEN_FILE)
      ? { name: `${cluster.name}-user`, authProvider: { name: 'tokenFile', config: { tokenFile: SA_TOKEN_FILE } } }
      : { name: `${cluster.name}-user` };
  kc.loadFromOptions({
    clusters: [
      {
        name: cluster.name,
        server: cluster.url,
        caData: cluster.caData,
        caFile: cluster.caFile,
        skipTLSVerify: cluster.skipTLSVerify ?? false,
      },
    ],
    users: [user],
    contexts: [{ name: cluster.name, cluster: cluster.name, user: user.name, namespace: cluster.namespace }],
    currentContext: cluster.name,
  });
  return { kubeConfig: applyRequestTimeout(kc), namespace: cluster.namespace ?? 'default', contextName: cluster.name };
}
