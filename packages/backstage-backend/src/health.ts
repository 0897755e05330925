import { Router } from 'express';
import type { Deps, ReadCache } from '@pgbackup/core';

/** What the probes read of a served cluster (a ClusterTarget of the router, which imports this module). */
interface ProbedCluster {
  name: string;
  deps: Pick<Deps, 'discovery'>;
  cache?: Pick<ReadCache, 'status'>;
}

export interface HealthOptions {
  /** How long an API-server check result is reused (probes come every few seconds). Default 10 s. */
  apiCheckTtlMs?: number;
  /** Deadline of one API-server check. Default 3 s. */
  apiCheckTimeoutMs?: number;
}

interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}

/**
 * `/live`: the process answers. `/startup`: every informer cache has synced once.
 * `/ready`: per cluster, the cache is synced and the API server serves snapshot.storage.k8s.io/v1.
 */
export function healthRoutes(clusters: ProbedCluster[], options: HealthOptions = {}): Router {
  const ttl = options.apiCheckTtlMs ?? 10_000;
  const timeoutMs = options.apiCheckTimeoutMs ?? 3_000;
  const apiChecks = new Map<string, { at: number; check: Promise<Check> }>();

  const apiCheck = (c: ProbedCluster): Promise<Check> => {
    const cached = apiChecks.get(c.name);
    if (cached && Date.now() - cached.at < ttl) return cached.check;
    const name = `${c.name}: API server and snapshot CRDs`;
    const check = Promise.race([
      c.deps.discovery.apiSupport().then(
        (support): Check =>
          support.snapshotVersions.includes('v1')
            ? { name, ok: true, detail: `snapshot.storage.k8s.io ${support.snapshotVersions.join(', ')}` }
            : { name, ok: false, detail: 'snapshot.storage.k8s.io/v1 is not served: install the external-snapshotter CRDs and controller' },
        (e: unknown): Check => ({ name, ok: false, detail: (e as Error)?.message ?? String(e) }),
      ),
      new Promise<Check>((resolve) =>
        setTimeout(() => resolve({ name, ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs).unref(),
      ),
    ]);
    apiChecks.set(c.name, { at: Date.now(), check });
    return check;
  };

  const cacheChecks = (c: ProbedCluster, requireCurrent: boolean): Check[] =>
    (c.cache?.status() ?? []).map((s) => ({
      name: `${c.name}: cache ${s.resource}`,
      ok: requireCurrent ? s.synced : s.lastSyncAt !== undefined,
      detail: `${s.synced ? 'synced' : 'not synced'}, ${s.items} items${s.lastSyncAt ? `, synced at ${s.lastSyncAt}` : ''}${s.restarts ? `, ${s.restarts} restarts` : ''}${s.lastError ? `, last error: ${s.lastError}` : ''}`,
    }));

  const router = Router();
  router.get('/live', (_req, res) => {
    res.json({ status: 'ok', checks: [] });
  });
  router.get('/startup', (_req, res) => {
    const checks = clusters.flatMap((c) => cacheChecks(c, false));
    const ok = checks.every((c) => c.ok);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'starting', checks });
  });
  router.get('/ready', (_req, res, next) => {
    Promise.all(clusters.map(async (c) => [...cacheChecks(c, true), await apiCheck(c)]))
      .then((all) => {
        const checks = all.flat();
        const ok = checks.every((c) => c.ok);
        res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', checks });
      })
      .catch(next);
  });
  return router;
}
