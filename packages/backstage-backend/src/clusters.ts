import type { RootConfigService as Config } from '@backstage/backend-plugin-api';
import { type ClusterConnection, cachedKubernetesDeps, kubeConfigForCluster } from '@pgbackup/core';
import type { Logger } from './logger.js';
import type { ClusterTarget } from './routes.js';

export interface ClusterSettings extends ClusterConnection {
  /** Namespace of requests and entities that name none. */
  defaultNamespace?: string;
  /** Watch only these namespaces (needs only namespaced RBAC); default the whole cluster. */
  namespaces?: string[];
}

/** `pgbackup.clusters[]` of app-config; none configured = one cluster from KUBECONFIG, ~/.kube/config or in-cluster. */
export function readClusterSettings(config: Config): ClusterSettings[] {
  const entries = config.getOptionalConfigArray('pgbackup.clusters') ?? [];
  if (entries.length === 0) return [{ name: 'default' }];
  return entries.map((c) => ({
    name: c.getString('name'),
    url: c.getOptionalString('url'),
    serviceAccountToken: c.getOptionalString('serviceAccountToken'),
    caData: c.getOptionalString('caData'),
    caFile: c.getOptionalString('caFile'),
    skipTLSVerify: c.getOptionalBoolean('skipTLSVerify'),
    kubeconfig: c.getOptionalString('kubeconfig'),
    context: c.getOptionalString('context'),
    defaultNamespace: c.getOptionalString('defaultNamespace'),
    namespaces: c.getOptionalStringArray('namespaces'),
  }));
}

/** Connects each cluster with an informer cache; a cluster that fails to connect is logged, not fatal for the others. */
export function connectClusters(settings: ClusterSettings[], logger: Logger): ClusterTarget[] {
  return settings.flatMap((s) => {
    try {
      const loaded = kubeConfigForCluster(s);
      const { deps, direct, cache } = cachedKubernetesDeps(loaded, { namespaces: s.namespaces });
      return [{ name: s.name, deps, writeDeps: direct, cache, defaultNamespace: s.defaultNamespace ?? s.namespace ?? loaded.namespace }];
    } catch (e) {
      logger.error(`pgbackup: cluster "${s.name}" is not usable: ${(e as Error).message}`);
      return [];
    }
  });
}

/** Starts every cache without waiting (readiness reports the sync). */
export function startCaches(clusters: ClusterTarget[], logger: Logger): void {
  for (const c of clusters)
    c.cache?.start().then(
      () => logger.info(`pgbackup: cache of cluster "${c.name}" ${c.cache?.synced() ? 'synced' : 'not synced yet'}`),
      (e: unknown) => logger.warn(`pgbackup: cache of cluster "${c.name}" failed to start: ${(e as Error).message}`),
    );
}
