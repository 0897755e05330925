import { type KubeConfigOptions, type LoadedKubeConfig, loadKubeConfig } from './kubeconfig.js';

export { loadKubeConfig, type KubeConfigOptions, type LoadedKubeConfig };
export { kubernetesDeps, kubernetesToolDeps } from './deps.js';
export { mapApiError } from './apiErrors.js';
export { volumeSnapshotManifest } from './snapshots.js';
export { volumeGroupSnapshotManifest } from './groupSnapshots.js';
export { CLUSTER_ROLE, cronJobName, scheduleManifests, scheduledCommand } from './scheduleWriter.js';

export {
  cachedKubernetesDeps,
  CachedSnapshotStore,
  CachedWorkloadReader,
  CachedScheduleStore,
  type CachedKubernetesDeps,
  type CacheCounters,
  type ReadCacheOptions,
} from './cache.js';
export { KubernetesTokenReviewer } from './tokenReview.js';
export { KubernetesSubjectAccessReviewer } from './access.js';
export { kubeConfigForCluster, type ClusterConnection } from './clusterConfig.js';
