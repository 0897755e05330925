import { CustomObjectsApi, type KubeConfig, PatchStrategy, Watch, setHeaderOptions } from '@kubernetes/client-node';
import { SnapshotStorage } from '../contract.js';
import type { SnapshotInfo } from '../domain/backup.js';
import type { SnapshotClassInfo, SnapshotContentInfo } from '../domain/readModels.js';
import type { NewSnapshot, SnapshotContentReader, SnapshotQuery, SnapshotStore } from '../ports.js';
import { isPgBackupError } from '../errors.js';
import { call } from './apiErrors.js';
import { sleep } from '../sleep.js';
import { parseQuantity } from '../domain/quantity.js';

/** Where VolumeSnapshots, their contents and classes are served. */
const API = { group: SnapshotStorage.group, version: SnapshotStorage.version };
const PAGE = 500;

/** The parts of a snapshot.storage.k8s.io/v1 VolumeSnapshot that pgbackup reads. */
export interface VolumeSnapshot {
  metadata: {
    name: string;
    namespace: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
  };
  spec: { source: { persistentVolumeClaimName?: string }; volumeSnapshotClassName?: string };
  status?: {
    readyToUse?: boolean;
    creationTime?: string;
    restoreSize?: string;
    error?: { message?: string };
    boundVolumeSnapshotContentName?: string;
  };
}

const iso = (t: string | undefined) => (t ? new Date(t).toISOString() : undefined);

/** The parts of a VolumeSnapshotContent that pgbackup reads. */
interface VolumeSnapshotContent {
  metadata: { name: string; creationTimestamp?: string; deletionTimestamp?: string };
  spec?: {
    volumeSnapshotRef?: { namespace?: string; name?: string };
    deletionPolicy?: string;
    driver?: string;
    sourceVolumeMode?: string;
    volumeSnapshotClassName?: string;
    source?: { snapshotHandle?: string };
  };
  status?: { snapshotHandle?: string };
}

const toContentInfo = (c: VolumeSnapshotContent): SnapshotContentInfo => ({
  name: c.metadata.name,
  snapshotNamespace: c.spec?.volumeSnapshotRef?.namespace,
  snapshotName: c.spec?.volumeSnapshotRef?.name,
  deletionPolicy: c.spec?.deletionPolicy,
  driver: c.spec?.driver,
  snapshotHandle: c.status?.snapshotHandle ?? c.spec?.source?.snapshotHandle,
  sourceVolumeMode: c.spec?.sourceVolumeMode,
  className: c.spec?.volumeSnapshotClassName,
  createdAt: iso(c.metadata.creationTimestamp),
  deleting: c.metadata.deletionTimestamp !== undefined,
});

export function toSnapshotInfo(vs: VolumeSnapshot): SnapshotInfo {
  return {
    name: vs.metadata.name,
    namespace: vs.metadata.namespace,
    pvc: vs.spec.source.persistentVolumeClaimName ?? '',
    createdAt: iso(vs.metadata.creationTimestamp) ?? new Date(0).toISOString(),
    readyToUse: vs.status?.readyToUse === true,
    cutAt: iso(vs.status?.creationTime),
    restoreSize: vs.status?.restoreSize !== undefined ? parseQuantity(vs.status.restoreSize) : undefined,
    error: vs.status?.error?.message,
    className: vs.spec.volumeSnapshotClassName,
    contentName: vs.status?.boundVolumeSnapshotContentName,
    labels: vs.metadata.labels ?? {},
    annotations: vs.metadata.annotations ?? {},
  };
}

/** The VolumeSnapshot object written for a new snapshot (also what `create --dry-run` prints). */
export function volumeSnapshotManifest(s: NewSnapshot): VolumeSnapshot & { apiVersion: string; kind: string } {
  return {
    apiVersion: SnapshotStorage.apiVersion,
    kind: 'VolumeSnapshot',
    metadata: { name: s.name, namespace: s.namespace, labels: s.labels, annotations: s.annotations },
    spec: { source: { persistentVolumeClaimName: s.pvc }, volumeSnapshotClassName: s.className },
  };
}

export class KubernetesSnapshotStore implements SnapshotStore {
  private readonly api: CustomObjectsApi;

  constructor(private readonly kc: KubeConfig) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  async list(query: SnapshotQuery): Promise<SnapshotInfo[]> {
    return (await this.listRaw(query)).items.map(toSnapshotInfo);
  }

  /** Lists every page (the API server caps a page at `limit`), returning the list's resourceVersion too. */
  private async listRaw(query: SnapshotQuery): Promise<{ items: VolumeSnapshot[]; resourceVersion: string }> {
    const items: VolumeSnapshot[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const common = { ...API, plural: 'volumesnapshots', labelSelector: query.labelSelector, limit: PAGE, _continue: cont };
      const page = await call('listing VolumeSnapshots', () =>
        query.namespace
          ? this.api.listNamespacedCustomObject({ ...common, namespace: query.namespace })
          : this.api.listClusterCustomObject(common),
      );
      items.push(...(page.items as VolumeSnapshot[]));
      cont = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (cont);
    return { items, resourceVersion };
  }

  async create(s: NewSnapshot): Promise<SnapshotInfo> {
    const body = volumeSnapshotManifest(s);
    const created = await call(`creating VolumeSnapshot ${s.namespace}/${s.name}`, () =>
      this.api.createNamespacedCustomObject({ ...API, namespace: s.namespace, plural: 'volumesnapshots', body }),
    );
    return toSnapshotInfo(created as VolumeSnapshot);
  }

  async annotate(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void> {
    await call(`annotating VolumeSnapshot ${namespace}/${name}`, () =>
      this.api.patchNamespacedCustomObject(
        { ...API, namespace, plural: 'volumesnapshots', name, body: { metadata: { annotations } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
  }

  async adopt(namespace: string, name: string, labels: Record<string, string>, annotations: Record<string, string>): Promise<void> {
    await call(`labelling VolumeSnapshot ${namespace}/${name}`, () =>
      this.api.patchNamespacedCustomObject(
        { ...API, namespace, plural: 'volumesnapshots', name, body: { metadata: { labels, annotations } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
  }

  async delete(namespace: string, name: string): Promise<void> {
    await call(`deleting VolumeSnapshot ${namespace}/${name}`, () =>
      this.api.deleteNamespacedCustomObject({ ...API, namespace, plural: 'volumesnapshots', name }),
    );
  }

  /**
   * List, then watch from the list's resourceVersion; re-list and re-watch whenever the watch ends
   * (API server restart, 410 Gone, timeout), so a long wait survives an API-server restart.
   */
  async watch(query: SnapshotQuery, onChange: (snapshots: SnapshotInfo[]) => boolean, signal: AbortSignal): Promise<void> {
    const path = query.namespace
      ? `/apis/${SnapshotStorage.apiVersion}/namespaces/${query.namespace}/volumesnapshots`
      : `/apis/${SnapshotStorage.apiVersion}/volumesnapshots`;
    const watcher = new Watch(this.kc);
    while (true) {
      signal.throwIfAborted();
      let listed: { items: VolumeSnapshot[]; resourceVersion: string };
      try {
        listed = await this.listRaw(query);
      } catch (e) {
        if ((e as { code?: string }).code !== 'Unavailable') throw e;
        await sleep(1000, signal); // API server unreachable: keep trying until the caller's deadline
        continue;
      }
      const current = new Map(listed.items.map((vs) => [vs.metadata.name, vs]));
      if (onChange([...current.values()].map(toSnapshotInfo))) return;
      const outcome = await new Promise<'done' | 'restart'>((resolve, reject) => {
        let request: AbortController | undefined;
        const stop = () => request?.abort();
        signal.addEventListener(
          'abort',
          () => {
            stop();
            reject(signal.reason);
          },
          { once: true },
        );
        watcher
          .watch(
            path,
            { labelSelector: query.labelSelector, resourceVersion: listed.resourceVersion, allowWatchBookmarks: true },
            (phase, obj: VolumeSnapshot) => {
              if (phase === 'BOOKMARK' || phase === 'ERROR') return;
              if (phase === 'DELETED') current.delete(obj.metadata.name);
              else current.set(obj.metadata.name, obj);
              try {
                if (onChange([...current.values()].map(toSnapshotInfo))) {
                  stop();
                  resolve('done');
                }
              } catch (e) {
                stop();
                reject(e);
              }
            },
            () => resolve('restart'),
          )
          .then(
            (controller) => {
              request = controller;
              if (signal.aborted) controller.abort();
            },
            () => resolve('restart'),
          );
      });
      if (outcome === 'done') return;
      await sleep(200, signal);
    }
  }

  async readContent(name: string): Promise<SnapshotContentInfo | undefined> {
    try {
      const c = await call(`getting VolumeSnapshotContent ${name}`, () =>
        this.api.getClusterCustomObject({ ...API, plural: 'volumesnapshotcontents', name }),
      );
      return toContentInfo(c as VolumeSnapshotContent);
    } catch (e) {
      if (isPgBackupError(e, 'NotFound')) return undefined;
      throw e;
    }
  }

  async listClasses(): Promise<SnapshotClassInfo[]> {
    const list = await call('listing VolumeSnapshotClasses', () =>
      this.api.listClusterCustomObject({ ...API, plural: 'volumesnapshotclasses' }),
    );
    return (list.items as SnapshotClass[]).map((c) => toSnapshotClassInfo(c, SnapshotStorage.isDefaultClass));
  }
}

/** The parts of a VolumeSnapshotClass or VolumeGroupSnapshotClass that pgbackup reads. */
export interface SnapshotClass {
  metadata: { name: string; annotations?: Record<string, string> };
  driver: string;
  deletionPolicy: string;
}

/** A (group) snapshot class as the domain sees it; `defaultAnnotation` is its API's is-default-class key. */
export function toSnapshotClassInfo(c: SnapshotClass, defaultAnnotation: string): SnapshotClassInfo {
  return {
    name: c.metadata.name,
    driver: c.driver,
    deletionPolicy: c.deletionPolicy,
    isDefault: c.metadata.annotations?.[defaultAnnotation] === 'true',
  };
}

/** VolumeSnapshotContents, cluster-wide (read by doctor to find orphans). */
export class KubernetesSnapshotContentReader implements SnapshotContentReader {
  private readonly api: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  async listContents(): Promise<SnapshotContentInfo[]> {
    const items: SnapshotContentInfo[] = [];
    let cont: string | undefined;
    do {
      const page = await call('listing VolumeSnapshotContents', () =>
        this.api.listClusterCustomObject({ ...API, plural: 'volumesnapshotcontents', limit: PAGE, _continue: cont }),
      );
      for (const c of page.items as VolumeSnapshotContent[]) items.push(toContentInfo(c));
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return items;
  }
}
