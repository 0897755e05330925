import { ApisApi, type KubeConfig } from '@kubernetes/client-node';
import { GroupSnapshotStorage, SnapshotStorage } from '../contract.js';
import type { ApiSupport } from '../domain/readModels.js';
import type { Discovery } from '../ports.js';
import { call } from './apiErrors.js';

export class KubernetesDiscovery implements Discovery {
  constructor(private readonly kc: KubeConfig) {}

  /** Which versions of the snapshot and group-snapshot APIs the API server serves. */
  async apiSupport(): Promise<ApiSupport> {
    const groups = await call('discovering API groups', () => this.kc.makeApiClient(ApisApi).getAPIVersions());
    const versions = (name: string) => groups.groups.find((g) => g.name === name)?.versions.map((v) => v.version) ?? [];
    return { snapshotVersions: versions(SnapshotStorage.group), groupSnapshotVersions: versions(GroupSnapshotStorage.group) };
  }
}
