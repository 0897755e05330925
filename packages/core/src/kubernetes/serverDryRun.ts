import { KubernetesObjectApi, type KubeConfig, PatchStrategy } from '@kubernetes/client-node';
import type { KubernetesObject } from '../domain/readModels.js';
import type { ServerDryRun } from '../ports.js';
import { call } from './apiErrors.js';
import { FIELD_MANAGER } from './scheduleWriter.js';

const ALL = 'All';
/** client-node turns metav1.Time into Date; the API server stores whole seconds (RFC 3339), as kubectl prints them. */
const asStored = (o: unknown): KubernetesObject =>
  JSON.parse(
    JSON.stringify(o, (_key, v: unknown) =>
      typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/.test(v) ? v.replace('.000Z', 'Z') : v,
    ),
  ) as KubernetesObject;
const what = (o: KubernetesObject) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

/** Every write with dryRun=All, through the generic object API (any kind the API server serves). */
export class KubernetesServerDryRun implements ServerDryRun {
  private readonly api: KubernetesObjectApi;

  constructor(kc: KubeConfig) {
    this.api = KubernetesObjectApi.makeApiClient(kc);
  }

  async create(object: KubernetesObject): Promise<KubernetesObject> {
    const created = await call(`creating ${what(object)} (server dry run)`, () => this.api.create(object as never, undefined, ALL));
    return asStored(created);
  }

  async apply(object: KubernetesObject): Promise<KubernetesObject> {
    const applied = await call(`applying ${what(object)} (server dry run)`, () =>
      this.api.patch(object as never, undefined, ALL, FIELD_MANAGER, true, PatchStrategy.ServerSideApply),
    );
    return asStored(applied);
  }

  async delete(object: KubernetesObject): Promise<void> {
    await call(`deleting ${what(object)} (server dry run)`, () => this.api.delete(object as never, undefined, ALL));
  }
}
