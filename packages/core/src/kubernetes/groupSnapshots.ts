import { CoreV1Api, CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GroupSnapshotStorage, Labels, SnapshotStorage } from '../contract.js';
import type { SnapshotInfo } from '../domain/backup.js';
import { inconsistent, isPgBackupError } from '../errors.js';
import type { SnapshotClassInfo } from '../domain/readModels.js';
import type { Discovery, GroupSnapshotStore, NewGroupSnapshot } from '../ports.js';
import { call } from './apiErrors.js';
import { sleep } from '../sleep.js';
import { type SnapshotClass, type VolumeSnapshot, toSnapshotClassInfo, toSnapshotInfo } from './snapshots.js';

const API_GROUP = GroupSnapshotStorage.group;
/** Newest first: v1 and v1beta2 have the same shape for what pgbackup reads and writes. */
const KNOWN_VERSIONS = ['v1', 'v1beta2'];
const POLL_MS = 250;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

interface VolumeGroupSnapshot {
  metadata: { name: string; namespace: string; uid?: string };
  status?: { readyToUse?: boolean; error?: { message?: string }; boundVolumeGroupSnapshotContentName?: string };
}

/** The VolumeGroupSnapshot object written for a group backup (also what `create --dry-run` prints): it selects the claims by label. */
export function volumeGroupSnapshotManifest(group: NewGroupSnapshot, version = KNOWN_VERSIONS[0]!) {
  return {
    apiVersion: `${API_GROUP}/${version}`,
    kind: 'VolumeGroupSnapshot',
    metadata: { name: group.name, namespace: group.namespace, labels: group.labels, annotations: group.annotations },
    spec: {
      volumeGroupSnapshotClassName: group.className,
      source: { selector: { matchLabels: { [Labels.groupSnapshotClaim]: group.name } } },
    },
  };
}

/** A VolumeGroupSnapshotClass as the domain sees it (its default is marked with groupsnapshot.storage.kubernetes.io/is-default-class). */
export const toGroupSnapshotClassInfo = (c: SnapshotClass) => toSnapshotClassInfo(c, GroupSnapshotStorage.isDefaultClass);

/** VolumeGroupSnapshots in the version the API server serves (discovered once). */
export class KubernetesGroupSnapshotStore implements GroupSnapshotStore {
  private readonly api: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private version?: Promise<string | undefined>;

  constructor(
    kc: KubeConfig,
    private readonly discovery: Discovery,
  ) {
    this.api = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  private served(): Promise<string | undefined> {
    this.version ??= this.discovery.apiSupport().then((s) => KNOWN_VERSIONS.find((v) => s.groupSnapshotVersions.includes(v)));
    return this.version;
  }

  private async required(): Promise<string> {
    const version = await this.served();
    if (!version)
      throw inconsistent(`the API server does not serve ${API_GROUP} in a version pgbackup knows (${KNOWN_VERSIONS.join(', ')})`);
    return version;
  }

  async listClasses(): Promise<SnapshotClassInfo[]> {
    const version = await this.served();
    if (!version) return [];
    const list = await call('listing VolumeGroupSnapshotClasses', () =>
      this.api.listClusterCustomObject({ group: API_GROUP, version, plural: 'volumegroupsnapshotclasses' }),
    );
    return (list.items as SnapshotClass[]).map(toGroupSnapshotClassInfo);
  }

  async create(group: NewGroupSnapshot): Promise<void> {
    const version = await this.required();
    for (const claim of group.claims)
      await call(`labelling PersistentVolumeClaim ${group.namespace}/${claim}`, () =>
        this.core.patchNamespacedPersistentVolumeClaim(
          { namespace: group.namespace, name: claim, body: { metadata: { labels: { [Labels.groupSnapshotClaim]: group.name } } } },
          mergePatch,
        ),
      );
    await call(`creating VolumeGroupSnapshot ${group.namespace}/${group.name}`, () =>
      this.api.createNamespacedCustomObject({
        group: API_GROUP,
        version,
        namespace: group.namespace,
        plural: 'volumegroupsnapshots',
        body: volumeGroupSnapshotManifest(group, version),
      }),
    );
  }

  async waitMembers(namespace: string, name: string, count: number, signal: AbortSignal): Promise<SnapshotInfo[]> {
    const version = await this.required();
    while (true) {
      signal.throwIfAborted();
      const group = (await call(`getting VolumeGroupSnapshot ${namespace}/${name}`, () =>
        this.api.getNamespacedCustomObject({ group: API_GROUP, version, namespace, plural: 'volumegroupsnapshots', name }),
      )) as VolumeGroupSnapshot;
      if (group.status?.error?.message && !group.status.readyToUse)
        throw inconsistent(`VolumeGroupSnapshot ${name} failed: ${group.status.error.message}`);
      const snapshots = (await call(`listing VolumeSnapshots in ${namespace}`, () =>
        this.api.listNamespacedCustomObject({
          group: SnapshotStorage.group,
          version: SnapshotStorage.version,
          namespace,
          plural: 'volumesnapshots',
        }),
      )) as { items: (VolumeSnapshot & { metadata: { ownerReferences?: { uid: string }[] } })[] };
      const members = snapshots.items.filter((s) => s.metadata.ownerReferences?.some((o) => o.uid === group.metadata.uid));
      if (members.length >= count) return members.map(toSnapshotInfo);
      await sleep(POLL_MS, signal);
    }
  }

  async releaseClaims(namespace: string, claims: string[]): Promise<void> {
    for (const claim of claims)
      await call(`unlabelling PersistentVolumeClaim ${namespace}/${claim}`, () =>
        this.core.patchNamespacedPersistentVolumeClaim(
          { namespace, name: claim, body: { metadata: { labels: { [Labels.groupSnapshotClaim]: null } } } },
          mergePatch,
        ),
      ).catch((e: unknown) => {
        if (!isPgBackupError(e, 'NotFound')) throw e;
      });
  }

  async delete(namespace: string, name: string): Promise<void> {
    const version = await this.required();
    await call(`deleting VolumeGroupSnapshot ${namespace}/${name}`, () =>
      this.api.deleteNamespacedCustomObject({ group: API_GROUP, version, namespace, plural: 'volumegroupsnapshots', name }),
    ).catch((e: unknown) => {
      if (!isPgBackupError(e, 'NotFound')) throw e;
    });
  }
}
