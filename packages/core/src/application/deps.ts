import type { BackupLock, Clock, DatabaseConnector, Discovery, ScheduleStore, SnapshotStore, WorkloadReader } from '../ports.js';

/** Everything the use cases may need; each use case takes only the part it uses. */
export interface Deps {
  workloads: WorkloadReader;
  snapshots: SnapshotStore;
  discovery: Discovery;
  database: DatabaseConnector;
  lock: BackupLock;
  schedules: ScheduleStore;
  clock: Clock;
}
