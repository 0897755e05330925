import type {
  BackupLock,
  Clock,
  DatabaseConnector,
  Discovery,
  EventRecorder,
  GroupSnapshotStore,
  ScheduleStore,
  SnapshotStore,
  WorkloadReader,
  WorkloadWriter,
} from '../ports.js';

/** Everything the use cases may need; each use case takes only the part it uses. */
export interface Deps {
  workloads: WorkloadReader;
  /** Creates and deletes StatefulSets and PVCs (restore, verify). */
  workloadWriter: WorkloadWriter;
  snapshots: SnapshotStore;
  /** VolumeGroupSnapshots: a pod whose PostgreSQL spans several volumes. */
  groups: GroupSnapshotStore;
  discovery: Discovery;
  database: DatabaseConnector;
  lock: BackupLock;
  schedules: ScheduleStore;
  /** Events on the StatefulSet (backup started/completed/failed, prune, restore, verify). */
  events: EventRecorder;
  clock: Clock;
}
