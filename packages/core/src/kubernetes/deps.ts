/** The adapters wired together: every port of core implemented against one cluster. */
import type { Deps } from '../application/deps.js';
import type { AccessReviewer, Clock, ScheduleWriter, ServerDryRun, SnapshotContentReader } from '../ports.js';
import { KubernetesAccessReviewer } from './access.js';
import { KubernetesScheduleWriter } from './scheduleWriter.js';
import { KubernetesServerDryRun } from './serverDryRun.js';
import { ExecDatabaseConnector } from './database.js';
import { KubernetesDiscovery } from './discovery.js';
import { KubernetesEventRecorder } from './events.js';
import { KubernetesGroupSnapshotStore } from './groupSnapshots.js';
import type { LoadedKubeConfig } from './kubeconfig.js';
import { LeaseBackupLock } from './lock.js';
import { CronJobScheduleStore } from './schedules.js';
import { KubernetesSnapshotContentReader, KubernetesSnapshotStore } from './snapshots.js';
import { KubernetesWorkloadReader } from './workloads.js';
import { KubernetesWorkloadWriter } from './workloadWriter.js';

const systemClock: Clock = { now: () => new Date() };

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
    events: new KubernetesEventRecorder(kc, systemClock),
    clock: systemClock,
  };
}

/** The ports only the command-line tool needs (schedule writing, access review, doctor's orphan check, --dry-run=server). */
export function kubernetesToolDeps(loaded: LoadedKubeConfig): {
  scheduleWriter: ScheduleWriter;
  access: AccessReviewer;
  contents: SnapshotContentReader;
  serverDryRun: ServerDryRun;
} {
  return {
    scheduleWriter: new KubernetesScheduleWriter(loaded.kubeConfig),
    access: new KubernetesAccessReviewer(loaded.kubeConfig),
    contents: new KubernetesSnapshotContentReader(loaded.kubeConfig),
    serverDryRun: new KubernetesServerDryRun(loaded.kubeConfig),
  };
}
