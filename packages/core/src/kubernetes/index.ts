import type { Deps } from '../application/deps.js';
import { systemClock } from '../ports.js';
import { ExecDatabaseConnector } from './database.js';
import { KubernetesDiscovery } from './discovery.js';
import { type KubeConfigOptions, type LoadedKubeConfig, loadKubeConfig } from './kubeconfig.js';
import { LeaseBackupLock } from './lock.js';
import { CronJobScheduleStore } from './schedules.js';
import { KubernetesSnapshotStore } from './snapshots.js';
import { KubernetesWorkloadReader } from './workloads.js';

export { loadKubeConfig, type KubeConfigOptions, type LoadedKubeConfig };
export { mapApiError } from './apiErrors.js';

/** Wires every port to the cluster of a loaded kubeconfig. */
export function kubernetesDeps(loaded: LoadedKubeConfig): Deps {
  const kc = loaded.kubeConfig;
  return {
    workloads: new KubernetesWorkloadReader(kc),
    snapshots: new KubernetesSnapshotStore(kc),
    discovery: new KubernetesDiscovery(kc),
    database: new ExecDatabaseConnector(kc),
    lock: new LeaseBackupLock(kc),
    schedules: new CronJobScheduleStore(kc),
    clock: systemClock,
  };
}
