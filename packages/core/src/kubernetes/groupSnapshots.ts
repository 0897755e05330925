import { CoreV1Api, CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GROUP_CLAIM_LABEL } from '../contract.js';
import type { SnapshotInfo } from '../domain/backup.js';
import { inconsistent, isPgBackupError } from '../errors.js';
import type { Discovery, GroupSnapshotStore, NewGroupSnapshot, SnapshotClassInfo } from '../ports.js';
import { call } from './apiErrors.js';
import { sleep } from '../sleep.js';
import { type VolumeSnapshot, toSnapshotInfo } from './snapshots.js';

const GROUP = 'groupsnapshot.storage.k8s.io';
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
    apiVersion: `${GROUP}/${version}`,
    kind: 'VolumeGroupSnapshot',
    metadata: { name: group.name, namespace: group.namespace, labels: group.labels, annotations: group.annotations },
    spec: { volumeGroupSnapshotClassName: group.className, source: { selector: { matchLabels: { [GROUP_CLAIM_LABEL]: group.name } } } },
  };
}

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
    if (!version) throw inconsistent(`the API server does not serve ${GROUP} in a version pgbackup knows (${KNOWN_VERSIONS.join(', ')})`);
    return version;
  }

  async listClasses(): Promise<SnapshotClassInfo[]> {
    const version = await this.served();
    if (!version) return [];
    const list = await call('listing VolumeGroupSnapshotClasses', () => this.api.listClusterCustomObject({ group: GROUP, version, plural: 'volumegroupsnapshotclasses' }));
    return (list.items as { metadata: { name: string; annotations?: Record<string, string> }; driver: string; deletionPolicy: string }[]).map((c) => ({
      name: c.metadata.name,
      driver: c.driver,
      deletionPolicy: c.deletionPolicy,
      isDefault: c.metadata.annotations?.[`${GROUP}/is-default-class`] === 'true',
    }));
  }

  async create(group: NewGroupSnapshot): Promise<void> {
    const version = await this.required();
    for (const claim of group.claims)
      await call(`labelling PersistentVolumeClaim ${group.namespace}/${claim}`, () =>
        this.core.patchNamespacedPersistentVolumeClaim({ namespace: group.namespace, name: claim, body: { metadata: { labels: { [GROUP_CLAIM_LABEL]: group.name } } } }, mergePatch),
      );
    await call(`creating VolumeGroupSnapshot ${group.namespace}/${group.name}`, () =>
      this.api.createNamespacedCustomObject({ group: GROUP, version, namespace: group.namespace, plural: 'volumegroupsnapshots', body: volumeGroupSnapshotManifest(group, version) }),
    );
  }

  async waitMembers(namespace: string, name: string, count: number, signal: AbortSignal): Promise<SnapshotInfo[]> {
    const version = await this.required();
    while (true) {
      signal.throwIfAborted();
      const group = (await call(`getting VolumeGroupSnapshot ${namespace}/${name}`, () =>
        this.api.getNamespacedCustomObject({ group: GROUP, version, namespace, plural: 'volumegroupsnapshots', name }),
      )) as VolumeGroupSnapshot;
      if (group.status?.error?.message && !group.status.readyToUse) throw inconsistent(`VolumeGroupSnapshot ${name} failed: ${group.status.error.message}`);
      const snapshots = (await call(`listing VolumeSnapshots in ${namespace}`, () =>
        this.api.listNamespacedCustomObject({ group: 'snapshot.storage.k8s.io', version: 'v1', namespace, plural: 'volumesnapshots' }),
      )) as { items: (VolumeSnapshot & { metadata: { ownerReferences?: { uid: string }[] } })[] };
      const members = snapshots.items.filter((s) => s.metadata.ownerReferences?.some((o) => o.uid === group.metadata.uid));
      if (members.length >= count) return members.map(toSnapshotInfo);
      await sleep(POLL_MS, signal);
    }
  }

  async releaseClaims(namespace: string, claims: string[]): Promise<void> {
    for (const claim of claims)
      await call(`unlabelling PersistentVolumeClaim ${namespace}/${claim}`, () =>
        this.core.patchNamespacedPersistentVolumeClaim({ namespace, name: claim, body: { metadata: { labels: { [GROUP_CLAIM_LABEL]: null } } } }, mergePatch),
      ).catch((e: unknown) => {
        if (!isPgBackupError(e, 'NotFound')) throw e;
      });
  }

  async delete(namespace: string, name: string): Promise<void> {
    const version = await this.required();
    await call(`deleting VolumeGroupSnapshot ${namespace}/${name}`, () => this.api.deleteNamespacedCustomObject({ group: GROUP, version, namespace, plural: 'volumegroupsnapshots', name })).catch(
      (e: unknown) => {
        if (!isPgBackupError(e, 'NotFound')) throw e;
      },
    );
  }
}
