import type { Deps } from '../application/deps.js';
import type { AccessReviewer, ScheduleWriter, SnapshotContentReader } from '../ports.js';
import { KubernetesAccessReviewer } from './access.js';
import { KubernetesScheduleWriter } from './scheduleWriter.js';
import { systemClock } from '../ports.js';
import { ExecDatabaseConnector } from './database.js';
import { KubernetesDiscovery } from './discovery.js';
import { KubernetesGroupSnapshotStore } from './groupSnapshots.js';
import { type KubeConfigOptions, type LoadedKubeConfig, loadKubeConfig } from './kubeconfig.js';
import { LeaseBackupLock } from './lock.js';
import { CronJobScheduleStore } from './schedules.js';
import { KubernetesSnapshotContentReader, KubernetesSnapshotStore } from './snapshots.js';
import { KubernetesWorkloadReader } from './workloads.js';
import { KubernetesWorkloadWriter } from './workloadWriter.js';

export { loadKubeConfig, type KubeConfigOptions, type LoadedKubeConfig };
export { mapApiError } from './apiErrors.js';
export { volumeSnapshotManifest } from './snapshots.js';
export { volumeGroupSnapshotManifest } from './groupSnapshots.js';
export { CLUSTER_ROLE, cronJobName, scheduleManifests, scheduledCommand } from './scheduleWriter.js';

/** Wires every port to the cluster of a loaded kubeconfig. */
export function kubernetesDeps(loaded: LoadedKubeConfig): Deps {
  const kc = loaded.kubeConfig;
  const discovery = new KubernetesDiscovery(kc);
  return {
    workloads: new KubernetesWorkloadReader(kc),
    workloadWriter: new KubernetesWorkloadWriter(kc),
    snapshots: new KubernetesSnapshotStore(kc),
    groups: new KubernetesGroupSnapshotStore(kc, discovery),
    discovery,
    database: new ExecDatabaseConnector(kc),
    lock: new LeaseBackupLock(kc),
    schedules: new CronJobScheduleStore(kc),
    clock: systemClock,
  };
}

/** The ports only the command-line tool needs (schedule writing, access review, doctor's orphan check). */
export function kubernetesToolDeps(loaded: LoadedKubeConfig): { scheduleWriter: ScheduleWriter; access: AccessReviewer; contents: SnapshotContentReader } {
  return {
    scheduleWriter: new KubernetesScheduleWriter(loaded.kubeConfig),
    access: new KubernetesAccessReviewer(loaded.kubeConfig),
    contents: new KubernetesSnapshotContentReader(loaded.kubeConfig),
  };
}
export { cachedKubernetesDeps, CachedSnapshotStore, CachedWorkloadReader, TtlScheduleStore, type CachedKubernetesDeps, type CacheCounters, type ReadCacheOptions } from './cache.js';
export { KubernetesTokenReviewer } from './tokenReview.js';
export { kubeConfigForCluster, type ClusterConnection } from './clusterConfig.js';
