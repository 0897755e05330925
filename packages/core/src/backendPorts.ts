/** The ports only the HTTP API server needs: its read cache (informers), bearer-token and access review. */
import type { SnapshotInfo } from './domain/backup.js';
import type { ScheduledBackup } from './domain/readModels.js';
import type { AccessCheck } from './ports.js';

/** The state of one watched resource of a read cache (an informer), as health checks show it. */
export interface InformerStatus {
  /** e.g. `volumesnapshots` or `statefulsets`, with the namespace when scoped. */
  resource: string;
  /** The initial list succeeded and the watch is running. */
  synced: boolean;
  items: number;
  lastSyncAt?: string;
  lastEventAt?: string;
  lastError?: string;
  /** How many times the list+watch was restarted after an error. */
  restarts: number;
  /** While not synced: since when (the start, or the error that broke the watch). */
  unsyncedSince?: string;
}

/** What a read cache holds, read from memory only (the metrics of a scrape cost no API request). */
export interface CachedContents {
  /** Every managed VolumeSnapshot the cache holds. */
  snapshots: readonly SnapshotInfo[];
  /** Every managed backup CronJob the cache holds. */
  schedules: readonly ScheduledBackup[];
}

/** A list+watch cache in front of the API server: reads are served from memory once synced. */
export interface ReadCache {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Every informer synced. */
  synced(): boolean;
  status(): InformerStatus[];
  contents(): CachedContents;
  /** Requests sent to the API server through this cluster's connection so far (every port's, not only the cache's). */
  apiRequests(): number;
}

/** Who a bearer token belongs to, as the API server's TokenReview says. */
export interface TokenIdentity {
  authenticated: boolean;
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  /** The audiences the token is valid for, of those asked (TokenReview status.audiences). */
  audiences?: string[];
  error?: string;
}

/** A user as TokenReview authenticated it: what a SubjectAccessReview asks about. */
export interface UserInfo {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface SubjectAccessReviewer {
  /** Whether `user` may do `check` (SubjectAccessReview: the API server's authorizer, RBAC included). */
  review(user: UserInfo, check: AccessCheck): Promise<{ allowed: boolean; reason?: string }>;
}

export interface TokenReviewer {
  review(token: string, audiences?: string[]): Promise<TokenIdentity>;
}
