import {
  AppsV1Api,
  BatchV1Api,
  CustomObjectsApi,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
  type V1CronJob,
  type V1StatefulSet,
  makeInformer,
} from '@kubernetes/client-node';
import type { Deps } from '../application/deps.js';
import { Labels, MANAGED_SELECTOR, SnapshotStorage } from '../contract.js';
import type { SnapshotInfo } from '../domain/backup.js';
import { labelsMatch, splitRequirements } from '../domain/labelSelector.js';
import { notFound } from '../errors.js';
import type { ScheduledBackup, SnapshotClassInfo, SnapshotContentInfo, StatefulSetInfo } from '../domain/readModels.js';
import type { NewSnapshot, ScheduleStore, SnapshotQuery, SnapshotStore, WorkloadReader } from '../ports.js';
import type { CachedContents, InformerStatus, ReadCache } from '../backendPorts.js';
import { kubernetesDeps } from './deps.js';
import type { LoadedKubeConfig } from './kubeconfig.js';
import { countRequests } from './requestCounter.js';
import { toScheduledBackup } from './schedules.js';
import { toSnapshotInfo } from './snapshots.js';

type VolumeSnapshot = Parameters<typeof toSnapshotInfo>[0] & KubernetesObject;

const MAX_BACKOFF_MS = 30_000;

/** One informer (list + watch) that restarts itself after errors with a capped backoff. */
class WatchedResource<T extends KubernetesObject> {
  private informer?: Informer<T> & ObjectCache<T>;
  private stopped = false;
  private failedSinceStart = false;
  private backoffMs = 1000;
  private timer?: NodeJS.Timeout;
  readonly state: InformerStatus;

  constructor(
    resource: string,
    private readonly make: () => Informer<T> & ObjectCache<T>,
  ) {
    this.state = { resource, synced: false, items: 0, restarts: 0, unsyncedSince: new Date().toISOString() };
  }

  async start(): Promise<void> {
    this.stopped = false;
    const informer = this.make();
    this.informer = informer;
    const touch = () => {
      this.state.lastEventAt = new Date().toISOString();
    };
    informer.on('add', touch);
    informer.on('update', touch);
    informer.on('delete', touch);
    informer.on('error', (err?: unknown) => {
      this.failedSinceStart = true;
      if (this.state.synced) this.state.unsyncedSince = new Date().toISOString();
      this.state.synced = false;
      this.state.lastError = describe(err);
      if (this.stopped) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.restart(), this.backoffMs);
      this.timer.unref?.();
      this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    });
    await this.run();
  }

  private async restart(): Promise<void> {
    if (this.stopped) return;
    this.state.restarts++;
    await this.run();
  }

  private async run(): Promise<void> {
    this.failedSinceStart = false;
    try {
      await this.informer!.start();
    } catch (e) {
      this.informer!.stop().catch(() => undefined);
      this.failedSinceStart = true;
      this.state.lastError = describe(e);
    }
    if (!this.failedSinceStart && !this.stopped) {
      this.state.synced = true;
      this.state.unsyncedSince = undefined;
      this.state.lastSyncAt = new Date().toISOString();
      this.backoffMs = 1000;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.state.synced) this.state.unsyncedSince = new Date().toISOString();
    this.state.synced = false;
    await this.informer?.stop();
  }

  get synced(): boolean {
    return this.state.synced;
  }

  list(namespace?: string): ReadonlyArray<T> {
    return this.informer?.list(namespace) ?? [];
  }

  get(name: string, namespace: string): T | undefined {
    return this.informer?.get(name, namespace);
  }

  status(): InformerStatus {
    return { ...this.state, items: this.informer?.list().length ?? 0 };
  }
}

const describe = (e: unknown): string => {
  const err = e as { code?: number; message?: string; body?: unknown };
  if (err?.code && typeof err.code === 'number')
    return `HTTP ${err.code}: ${typeof err.body === 'string' ? err.body.slice(0, 200) : (err.message ?? '')}`;
  return err?.message ?? String(e);
};

export interface ReadCacheOptions {
  /** Watch only these namespaces (one informer each); undefined = the whole cluster. */
  namespaces?: string[];
  /** How long pod/PVC details of an unchanged StatefulSet are reused. Default 15 s. */
  workloadDetailTtlMs?: number;
}

export interface CacheCounters {
  /** Reads answered from memory. */
  hits: number;
  /** Reads that went to the API server (cache not synced, out of scope, or a miss on a just-created backup). */
  fallbacks: number;
}

/** An informer per scope: keys `namespace → resource` (`''` = every namespace). */
class Scoped<T extends KubernetesObject> {
  constructor(readonly byNamespace: Map<string, WatchedResource<T>>) {}

  /** The informer that holds `namespace` (or every namespace when undefined), if any. */
  for(namespace: string | undefined): WatchedResource<T> | undefined {
    const all = this.byNamespace.get('');
    if (all) return all;
    return namespace === undefined ? undefined : this.byNamespace.get(namespace);
  }

  get all(): WatchedResource<T>[] {
    return [...this.byNamespace.values()];
  }
}

/** SnapshotStore whose reads come from a VolumeSnapshot informer (managed-by label); writes go through. */
export class CachedSnapshotStore implements SnapshotStore {
  constructor(
    private readonly direct: SnapshotStore,
    private readonly informers: Scoped<VolumeSnapshot>,
    private readonly counters: CacheCounters,
  ) {}

  async list(query: SnapshotQuery): Promise<SnapshotInfo[]> {
    const informer = this.informers.for(query.namespace);
    const requirements = splitRequirements(query.labelSelector);
    // The informer only holds managed snapshots: any other query must ask the API server.
    if (!informer?.synced || !requirements.includes(MANAGED_SELECTOR)) return this.fallback(query);
    const matches = compileSelector(query.labelSelector);
    const items = informer.list(query.namespace).filter((vs) => matches(vs.metadata?.labels ?? {}));
    // A backup created a moment ago may not have reached the watch yet: read it from the source.
    if (items.length === 0 && requirements.some((r) => r.startsWith(`${Labels.backup}=`))) return this.fallback(query);
    this.counters.hits++;
    return items.map((vs) => this.info(vs));
  }

  /** Every snapshot the informers hold, from memory. */
  cached(): SnapshotInfo[] {
    return this.informers.all.flatMap((w) => w.list().map((vs) => this.info(vs)));
  }

  /**
   * toSnapshotInfo once per cached object (the informer replaces an object on every change), frozen
   * so that every reader shares it safely and groupBackups can reuse what it derived from it.
   */
  private readonly infos = new WeakMap<VolumeSnapshot, SnapshotInfo>();
  private info(vs: VolumeSnapshot): SnapshotInfo {
    let info = this.infos.get(vs);
    if (!info) {
      const raw = toSnapshotInfo(vs);
      info = Object.freeze({ ...raw, labels: Object.freeze({ ...raw.labels }), annotations: Object.freeze({ ...raw.annotations }) });
      this.infos.set(vs, info);
    }
    return info;
  }

  private fallback(query: SnapshotQuery): Promise<SnapshotInfo[]> {
    this.counters.fallbacks++;
    return this.direct.list(query);
  }

  create(snapshot: NewSnapshot): Promise<SnapshotInfo> {
    return this.direct.create(snapshot);
  }

  annotate(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void> {
    return this.direct.annotate(namespace, name, annotations);
  }

  adopt(namespace: string, name: string, labels: Record<string, string>, annotations: Record<string, string>): Promise<void> {
    return this.direct.adopt(namespace, name, labels, annotations);
  }

  delete(namespace: string, name: string): Promise<void> {
    return this.direct.delete(namespace, name);
  }

  watch(query: SnapshotQuery, onChange: (snapshots: SnapshotInfo[]) => boolean, signal: AbortSignal): Promise<void> {
    return this.direct.watch(query, onChange, signal);
  }

  listClasses(): Promise<SnapshotClassInfo[]> {
    return this.direct.listClasses();
  }

  readContent(name: string): Promise<SnapshotContentInfo | undefined> {
    return this.direct.readContent(name);
  }
}

/**
 * WorkloadReader whose StatefulSets come from an informer. Replica counts are always the
 * informer's; pods and volumes are read through and reused while the StatefulSet is unchanged
 * (its resourceVersion moves whenever readiness does) and younger than the TTL.
 */
export class CachedWorkloadReader implements WorkloadReader {
  private readonly details = new Map<string, { resourceVersion: string; at: number; info: Promise<StatefulSetInfo> }>();

  constructor(
    private readonly direct: WorkloadReader,
    private readonly informers: Scoped<V1StatefulSet & KubernetesObject>,
    private readonly counters: CacheCounters,
    private readonly ttlMs: number,
  ) {}

  async getStatefulSet(namespace: string, name: string): Promise<StatefulSetInfo> {
    const informer = this.informers.for(namespace);
    if (!informer?.synced) {
      this.counters.fallbacks++;
      return this.direct.getStatefulSet(namespace, name);
    }
    const sts = informer.get(name, namespace);
    if (!sts)
      throw notFound(
        `StatefulSet "${name}" not found in namespace "${namespace}"`,
        `list them with: kubectl get statefulsets -n ${namespace}`,
      );
    const key = `${namespace}/${name}`;
    const resourceVersion = sts.metadata?.resourceVersion ?? '';
    let entry = this.details.get(key);
    if (!entry || entry.resourceVersion !== resourceVersion || Date.now() - entry.at > this.ttlMs) {
      this.counters.fallbacks++;
      entry = { resourceVersion, at: Date.now(), info: this.direct.getStatefulSet(namespace, name) };
      this.details.set(key, entry);
      entry.info.catch(() => this.details.delete(key));
    } else this.counters.hits++;
    const info = await entry.info;
    return {
      ...info,
      replicas: sts.spec?.replicas ?? 1,
      readyReplicas: sts.status?.readyReplicas ?? 0,
      currentReplicas: sts.status?.currentReplicas ?? 0,
      updatedReplicas: sts.status?.updatedReplicas ?? 0,
    };
  }

  async listStatefulSetNames(namespace: string): Promise<string[]> {
    const informer = this.informers.for(namespace);
    if (!informer?.synced) {
      this.counters.fallbacks++;
      return this.direct.listStatefulSetNames(namespace);
    }
    this.counters.hits++;
    return informer
      .list(namespace)
      .map((s) => s.metadata?.name ?? '')
      .filter(Boolean)
      .sort();
  }
}

/** ScheduleStore whose schedules come from an informer of the managed CronJobs. */
export class CachedScheduleStore implements ScheduleStore {
  private readonly schedules = new WeakMap<V1CronJob, ScheduledBackup | undefined>();

  constructor(
    private readonly direct: ScheduleStore,
    private readonly informers: Scoped<V1CronJob & KubernetesObject>,
    private readonly counters: CacheCounters,
  ) {}

  async get(namespace: string, statefulSet: string): Promise<ScheduledBackup | undefined> {
    const informer = this.informers.for(namespace);
    if (!informer?.synced) {
      this.counters.fallbacks++;
      return this.direct.get(namespace, statefulSet);
    }
    this.counters.hits++;
    return this.cached(informer.list(namespace)).find((s) => s.statefulSet === statefulSet);
  }

  /** Every schedule the informers hold (or those of the given CronJobs), from memory. */
  cached(cronJobs: readonly V1CronJob[] = this.informers.all.flatMap((w) => [...w.list()])): ScheduledBackup[] {
    return cronJobs.flatMap((cj) => {
      if (!this.schedules.has(cj)) this.schedules.set(cj, toScheduledBackup(cj));
      const s = this.schedules.get(cj);
      return s ? [s] : [];
    });
  }
}

export interface CachedKubernetesDeps {
  /** Reads from the cache; writes and watches go to the API server. */
  deps: Deps;
  /** Every port straight on the API server (for writes that must see the current state). */
  direct: Deps;
  cache: ReadCache & { counters: CacheCounters };
}

/** The ports of a cluster with a list+watch cache in front of VolumeSnapshots and StatefulSets. */
export function cachedKubernetesDeps(loaded: LoadedKubeConfig, options: ReadCacheOptions = {}): CachedKubernetesDeps {
  const kc = loaded.kubeConfig;
  const requests = countRequests(kc);
  const direct = kubernetesDeps(loaded);
  const counters: CacheCounters = { hits: 0, fallbacks: 0 };
  const scopes = options.namespaces?.length ? options.namespaces : [''];
  const snapshots = new Scoped(new Map(scopes.map((ns) => [ns, snapshotInformer(kc, ns)])));
  const statefulSets = new Scoped(new Map(scopes.map((ns) => [ns, statefulSetInformer(kc, ns)])));
  const cronJobs = new Scoped(new Map(scopes.map((ns) => [ns, cronJobInformer(kc, ns)])));
  const all = [...snapshots.all, ...statefulSets.all, ...cronJobs.all] as WatchedResource<KubernetesObject>[];
  const snapshotStore = new CachedSnapshotStore(direct.snapshots, snapshots, counters);
  const scheduleStore = new CachedScheduleStore(direct.schedules, cronJobs, counters);
  const cache = {
    counters,
    start: async () => {
      await Promise.all(all.map((w) => w.start()));
    },
    stop: async () => {
      await Promise.all(all.map((w) => w.stop()));
    },
    synced: () => all.every((w) => w.synced),
    status: () => all.map((w) => w.status()),
    contents: (): CachedContents => ({ snapshots: snapshotStore.cached(), schedules: scheduleStore.cached() }),
    apiRequests: () => requests.count,
  };
  return {
    direct,
    cache,
    deps: {
      ...direct,
      snapshots: snapshotStore,
      workloads: new CachedWorkloadReader(direct.workloads, statefulSets, counters, options.workloadDetailTtlMs ?? 15_000),
      schedules: scheduleStore,
    },
  };
}

function snapshotInformer(kc: KubeConfig, namespace: string): WatchedResource<VolumeSnapshot> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const common = {
    group: SnapshotStorage.group,
    version: SnapshotStorage.version,
    plural: 'volumesnapshots',
    labelSelector: MANAGED_SELECTOR,
  };
  const path = namespace
    ? `/apis/${SnapshotStorage.apiVersion}/namespaces/${namespace}/volumesnapshots`
    : `/apis/${SnapshotStorage.apiVersion}/volumesnapshots`;
  const list = async () =>
    (namespace
      ? await api.listNamespacedCustomObject({ ...common, namespace })
      : await api.listClusterCustomObject(common)) as KubernetesListObject<VolumeSnapshot>;
  return new WatchedResource(namespace ? `volumesnapshots/${namespace}` : 'volumesnapshots', () =>
    makeInformer(kc, path, list, MANAGED_SELECTOR),
  );
}

function statefulSetInformer(kc: KubeConfig, namespace: string): WatchedResource<V1StatefulSet & KubernetesObject> {
  const api = kc.makeApiClient(AppsV1Api);
  const path = namespace ? `/apis/apps/v1/namespaces/${namespace}/statefulsets` : '/apis/apps/v1/statefulsets';
  const list = async () =>
    (namespace ? await api.listNamespacedStatefulSet({ namespace }) : await api.listStatefulSetForAllNamespaces()) as KubernetesListObject<
      V1StatefulSet & KubernetesObject
    >;
  return new WatchedResource(namespace ? `statefulsets/${namespace}` : 'statefulsets', () => makeInformer(kc, path, list));
}

function cronJobInformer(kc: KubeConfig, namespace: string): WatchedResource<V1CronJob & KubernetesObject> {
  const api = kc.makeApiClient(BatchV1Api);
  const path = namespace ? `/apis/batch/v1/namespaces/${namespace}/cronjobs` : '/apis/batch/v1/cronjobs';
  const list = async () =>
    (namespace
      ? await api.listNamespacedCronJob({ namespace, labelSelector: MANAGED_SELECTOR })
      : await api.listCronJobForAllNamespaces({ labelSelector: MANAGED_SELECTOR })) as KubernetesListObject<V1CronJob & KubernetesObject>;
  return new WatchedResource(namespace ? `cronjobs/${namespace}` : 'cronjobs', () => makeInformer(kc, path, list, MANAGED_SELECTOR));
}

/**
 * A label selector parsed once into a predicate (a cached read filters every object with it).
 * Equality requirements are checked first with plain lookups; the rest use labelsMatch.
 */
function compileSelector(selector: string): (labels: Record<string, string>) => boolean {
  const equal: [string, string][] = [];
  const rest: string[] = [];
  for (const raw of splitRequirements(selector)) {
    if (raw === '') continue;
    const eq = /^([^=!\s()]+)\s*==?\s*([^=!\s()]*)$/.exec(raw);
    if (eq) equal.push([eq[1]!, eq[2]!]);
    else rest.push(raw);
  }
  const others = rest.join(',');
  return (labels) => {
    for (const [k, v] of equal) if (labels[k] !== v) return false;
    return others === '' || labelsMatch(labels, others);
  };
}
