import type { ReadCache } from '../backendPorts.js';
import { groupBackups } from '../domain/backup.js';
import { type MetricSample, backupMetrics } from '../domain/metrics.js';
import type { Clock } from '../ports.js';

export interface CacheSample {
  resource: string;
  synced: boolean;
  /** 0 while synced; else seconds since the informer last was. */
  staleSeconds: number;
}

export interface ClusterMetrics {
  cluster: string;
  backups: MetricSample[];
  cache: CacheSample[];
  kubernetesRequests: number;
}

/**
 * The metrics of one cluster, from its read cache only: a scrape sends no request to the API
 * server, and while the API server is away it answers with what the cache last held (and says how old).
 */
export function collectMetrics(
  cluster: string,
  cache: Pick<ReadCache, 'contents' | 'status' | 'apiRequests'>,
  clock: Clock,
): ClusterMetrics {
  const now = clock.now();
  const { snapshots, schedules } = cache.contents();
  return {
    cluster,
    backups: backupMetrics({ cluster, backups: groupBackups([...snapshots], now), schedules, now }),
    cache: cache.status().map((s) => ({
      resource: s.resource,
      synced: s.synced,
      staleSeconds: s.synced || !s.unsyncedSince ? 0 : Math.max(0, (now.getTime() - Date.parse(s.unsyncedSince)) / 1000),
    })),
    kubernetesRequests: cache.apiRequests(),
  };
}
