import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  type V1PersistentVolumeClaim,
  type V1Service,
  type V1StatefulSet,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { Annotations, Labels, SnapshotStorage } from '../contract.js';
import { isPgBackupError, timeout } from '../errors.js';
import type { ClaimBinding, ExistingObject, KubernetesObject, Leftovers, ObjectRef } from '../domain/readModels.js';
import type { WorkloadWriter } from '../ports.js';
import { call } from './apiErrors.js';
import { sleep } from '../sleep.js';

const POLL_MS = 500;
const SNAPSHOTS = { group: SnapshotStorage.group, version: SnapshotStorage.version, plural: 'volumesnapshots' };
const CONTENTS = { ...SNAPSHOTS, plural: 'volumesnapshotcontents' };
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
/** Plain JSON of a client-node model (its field names are the API's; Dates become strings). */
const plain = <T>(o: T): T => JSON.parse(JSON.stringify(o)) as T;

/** StatefulSets and PVCs for restores: create, delete (and wait until gone), wait for readiness. */
export class KubernetesWorkloadWriter implements WorkloadWriter {
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.apps = kc.makeApiClient(AppsV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  async readStatefulSet(namespace: string, name: string): Promise<KubernetesObject> {
    const sts = await call(`getting StatefulSet ${namespace}/${name}`, () => this.apps.readNamespacedStatefulSet({ namespace, name }));
    return plain({ ...sts, apiVersion: 'apps/v1', kind: 'StatefulSet' }) as unknown as KubernetesObject;
  }

  async existing(refs: ObjectRef[]): Promise<ExistingObject[]> {
    const found = await Promise.all(
      refs.map(async (ref): Promise<ExistingObject[]> => {
        const labels = await this.read(ref);
        return labels ? [{ ...ref, restoredFrom: labels[Labels.restoredFrom] }] : [];
      }),
    );
    return found.flat();
  }

  async create(object: KubernetesObject): Promise<void> {
    const namespace = object.metadata.namespace ?? 'default';
    const what = `creating ${object.kind} ${namespace}/${object.metadata.name}`;
    switch (object.kind) {
      case 'StatefulSet':
        await call(what, () => this.apps.createNamespacedStatefulSet({ namespace, body: object as unknown as V1StatefulSet }));
        return;
      case 'PersistentVolumeClaim':
        await call(what, () =>
          this.core.createNamespacedPersistentVolumeClaim({ namespace, body: object as unknown as V1PersistentVolumeClaim }),
        );
        return;
      case 'Service':
        await call(what, () => this.core.createNamespacedService({ namespace, body: object as unknown as V1Service }));
        return;
      case 'VolumeSnapshot':
        await call(what, () => this.custom.createNamespacedCustomObject({ ...SNAPSHOTS, namespace, body: object }));
        return;
      case 'VolumeSnapshotContent':
        await call(`creating VolumeSnapshotContent ${object.metadata.name}`, () =>
          this.custom.createClusterCustomObject({ ...CONTENTS, body: object }),
        );
        return;
      default:
        throw new Error(`cannot create ${object.kind}`);
    }
  }

  async delete(ref: ObjectRef, options: { wait?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    const { namespace, name } = ref;
    const what = `deleting ${ref.kind} ${namespace}/${name}`;
    try {
      if (ref.kind === 'StatefulSet')
        // Foreground: the StatefulSet stays until the garbage collector has deleted its pods.
        await call(what, () => this.apps.deleteNamespacedStatefulSet({ namespace, name, propagationPolicy: 'Foreground' }));
      else if (ref.kind === 'PersistentVolumeClaim')
        await call(what, () => this.core.deleteNamespacedPersistentVolumeClaim({ namespace, name }));
      else if (ref.kind === 'VolumeSnapshot')
        await call(what, () => this.custom.deleteNamespacedCustomObject({ ...SNAPSHOTS, namespace, name }));
      else if (ref.kind === 'VolumeSnapshotContent') await call(what, () => this.custom.deleteClusterCustomObject({ ...CONTENTS, name }));
      else await call(what, () => this.core.deleteNamespacedService({ namespace, name }));
    } catch (e) {
      if (isPgBackupError(e, 'NotFound')) return;
      throw e;
    }
    if (!options.wait) return;
    const deadline = Date.now() + 300_000;
    while (await this.read(ref)) {
      if (Date.now() > deadline)
        throw timeout(
          `${ref.kind} ${namespace}/${name} was not gone 300s after its deletion`,
          `check its finalizers: kubectl get ${ref.kind.toLowerCase()} ${name} -n ${namespace} -o yaml`,
        );
      await sleep(POLL_MS, options.signal);
    }
    // Foreground deletion may finish before pod-level finalization: wait for the pods too.
    if (ref.kind === 'StatefulSet') await this.waitPodsGone(namespace, name, deadline, options.signal);
  }

  async waitReady(
    namespace: string,
    statefulSet: string,
    replicas: number,
    options: { timeoutSeconds: number; signal?: AbortSignal },
  ): Promise<void> {
    const deadline = Date.now() + options.timeoutSeconds * 1000;
    while (true) {
      const pods = await call(`listing pods of ${statefulSet}`, () => this.core.listNamespacedPod({ namespace }));
      const ready = pods.items.filter(
        (p) =>
          isPodOf(p.metadata?.name ?? '', statefulSet) &&
          !p.metadata?.deletionTimestamp &&
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      if (ready.length >= replicas) return;
      if (Date.now() > deadline)
        throw timeout(
          `StatefulSet ${namespace}/${statefulSet} was not ready within ${options.timeoutSeconds}s: ${await this.explain(namespace, statefulSet)}`,
          `kubectl describe statefulset,pod,pvc -n ${namespace}`,
        );
      await sleep(POLL_MS, options.signal);
    }
  }

  async readClaim(namespace: string, name: string): Promise<ClaimBinding | undefined> {
    let claim: V1PersistentVolumeClaim;
    try {
      claim = await call(`getting PersistentVolumeClaim ${namespace}/${name}`, () =>
        this.core.readNamespacedPersistentVolumeClaim({ namespace, name }),
      );
    } catch (e) {
      if (isPgBackupError(e, 'NotFound')) return undefined;
      throw e;
    }
    const volume = claim.spec?.volumeName || undefined;
    const pv = volume
      ? await call(`getting PersistentVolume ${volume}`, () => this.core.readPersistentVolume({ name: volume }))
      : undefined;
    return {
      claim: plain({ ...claim, apiVersion: 'v1', kind: 'PersistentVolumeClaim' }) as unknown as KubernetesObject,
      volume,
      reclaimPolicy: pv?.spec?.persistentVolumeReclaimPolicy,
    };
  }

  async scale(namespace: string, statefulSet: string, replicas: number, options: { signal?: AbortSignal } = {}): Promise<number> {
    const what = `scaling StatefulSet ${namespace}/${statefulSet} to ${replicas}`;
    const before = await call(what, () => this.apps.readNamespacedStatefulSet({ namespace, name: statefulSet }));
    await call(what, () =>
      this.apps.patchNamespacedStatefulSet({ namespace, name: statefulSet, body: { spec: { replicas } } }, mergePatch),
    );
    if (replicas === 0) await this.waitPodsGone(namespace, statefulSet, Date.now() + 300_000, options.signal);
    return before.spec?.replicas ?? 1;
  }

  async annotateStatefulSet(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void> {
    await call(`annotating StatefulSet ${namespace}/${name}`, () =>
      this.apps.patchNamespacedStatefulSet({ namespace, name, body: { metadata: { annotations } } }, mergePatch),
    );
  }

  async setReclaimPolicy(volume: string, policy: string, annotations: Record<string, string | null> = {}): Promise<void> {
    await call(`setting the reclaim policy of PersistentVolume ${volume} to ${policy}`, () =>
      this.core.patchPersistentVolume(
        { name: volume, body: { metadata: { annotations }, spec: { persistentVolumeReclaimPolicy: policy } } },
        mergePatch,
      ),
    );
  }

  async releaseVolume(volume: string): Promise<void> {
    await call(`releasing PersistentVolume ${volume}`, () =>
      this.core.patchPersistentVolume({ name: volume, body: { spec: { claimRef: null } } }, mergePatch),
    );
  }

  async leftovers(namespace: string): Promise<Leftovers> {
    const scratch = { namespace, labelSelector: Labels.scratch };
    const [statefulSets, scratchSets, scratchClaims, scratchServices] = await Promise.all([
      call(`listing StatefulSets in ${namespace}`, () => this.apps.listNamespacedStatefulSet({ namespace })),
      call(`listing scratch StatefulSets in ${namespace}`, () => this.apps.listNamespacedStatefulSet(scratch)),
      call(`listing scratch PersistentVolumeClaims in ${namespace}`, () => this.core.listNamespacedPersistentVolumeClaim(scratch)),
      // The scratch Service holds no data: without list on services it is left out.
      this.core.listNamespacedService(scratch).catch(() => ({ items: [] })),
    ]);
    const ref = (
      kind: ObjectRef['kind'],
      o: { metadata?: { name?: string; creationTimestamp?: Date; labels?: Record<string, string> } },
    ) => ({
      kind,
      namespace,
      name: o.metadata?.name ?? '',
      ...(o.metadata?.creationTimestamp ? { createdAt: new Date(o.metadata.creationTimestamp).toISOString() } : {}),
      ...(o.metadata?.labels?.[Labels.restoredFrom] ? { restoredFrom: o.metadata.labels[Labels.restoredFrom] } : {}),
    });
    const found: Leftovers = {
      inPlaceRestores: statefulSets.items.flatMap((s) => {
        const record = s.metadata?.annotations?.[Annotations.inPlaceRestore];
        return record ? [{ statefulSet: s.metadata?.name ?? '', replicas: s.spec?.replicas ?? 1, record }] : [];
      }),
      scratch: [
        ...scratchSets.items.map((o) => ref('StatefulSet', o)),
        ...scratchClaims.items.map((o) => ref('PersistentVolumeClaim', o)),
        ...scratchServices.items.map((o) => ref('Service', o)),
      ],
    };
    try {
      const volumes = await call('listing PersistentVolumes', () => this.core.listPersistentVolume());
      found.keptVolumes = volumes.items.flatMap((pv) => {
        const claim = pv.metadata?.annotations?.[Annotations.keptForClaim];
        if (!claim?.startsWith(`${namespace}/`)) return [];
        return [
          {
            name: pv.metadata?.name ?? '',
            claim,
            reclaimPolicy: pv.spec?.persistentVolumeReclaimPolicy,
            keptReclaimPolicy: pv.metadata?.annotations?.[Annotations.keptReclaimPolicy],
            phase: pv.status?.phase,
          },
        ];
      });
    } catch (e) {
      found.keptVolumesProblem = (e as Error).message;
    }
    return found;
  }

  private async waitPodsGone(namespace: string, statefulSet: string, deadline: number, signal?: AbortSignal): Promise<void> {
    while (
      (await call(`listing pods of ${statefulSet}`, () => this.core.listNamespacedPod({ namespace }))).items.some((p) =>
        isPodOf(p.metadata?.name ?? '', statefulSet),
      )
    ) {
      if (Date.now() > deadline)
        throw timeout(`pods of StatefulSet ${namespace}/${statefulSet} were not gone within 300s`, `kubectl get pods -n ${namespace}`);
      await sleep(POLL_MS, signal);
    }
  }

  /** What keeps a StatefulSet from being ready: its pod's phase and its PVCs' phases with their last event. */
  private async explain(namespace: string, statefulSet: string): Promise<string> {
    const [pods, pvcs, events] = await Promise.all([
      this.core.listNamespacedPod({ namespace }).catch(() => ({ items: [] })),
      this.core.listNamespacedPersistentVolumeClaim({ namespace }).catch(() => ({ items: [] })),
      this.core.listNamespacedEvent({ namespace }).catch(() => ({ items: [] })),
    ]);
    const lastEvent = (kind: string, name: string) =>
      events.items
        .filter((e) => e.involvedObject?.kind === kind && e.involvedObject?.name === name)
        .sort((a, b) => String(a.lastTimestamp ?? '').localeCompare(String(b.lastTimestamp ?? '')))
        .at(-1)?.message;
    const parts = [
      ...pods.items
        .filter((p) => isPodOf(p.metadata?.name ?? '', statefulSet))
        .map((p) => `pod ${p.metadata?.name} ${p.status?.phase ?? 'Unknown'}, not ready`),
      ...pvcs.items
        .filter((c) => (c.metadata?.name ?? '').includes(`-${statefulSet}-`) && c.status?.phase !== 'Bound')
        .map((c) => {
          const event = lastEvent('PersistentVolumeClaim', c.metadata?.name ?? '');
          return `PVC ${c.metadata?.name} ${c.status?.phase ?? 'Pending'}${event ? ` (${event})` : ''}`;
        }),
    ];
    return parts.join('; ') || 'no pod yet';
  }

  /** The object's labels, or undefined when it does not exist. */
  private async read(ref: ObjectRef): Promise<Record<string, string> | undefined> {
    const { namespace, name } = ref;
    try {
      const doing = `getting ${ref.kind} ${namespace}/${name}`;
      const object: { metadata?: { labels?: Record<string, string> } } =
        ref.kind === 'StatefulSet'
          ? await call(doing, () => this.apps.readNamespacedStatefulSet({ namespace, name }))
          : ref.kind === 'PersistentVolumeClaim'
            ? await call(doing, () => this.core.readNamespacedPersistentVolumeClaim({ namespace, name }))
            : ref.kind === 'VolumeSnapshot'
              ? await call(doing, () => this.custom.getNamespacedCustomObject({ ...SNAPSHOTS, namespace, name }))
              : ref.kind === 'VolumeSnapshotContent'
                ? await call(doing, () => this.custom.getClusterCustomObject({ ...CONTENTS, name }))
                : await call(doing, () => this.core.readNamespacedService({ namespace, name }));
      return object.metadata?.labels ?? {};
    } catch (e) {
      if (isPgBackupError(e, 'NotFound')) return undefined;
      throw e;
    }
  }
}

const isPodOf = (pod: string, statefulSet: string) => new RegExp(`^${statefulSet.replace(/[.]/g, '\\.')}-\\d+$`).test(pod);
