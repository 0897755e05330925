import { AppsV1Api, CoreV1Api, type KubeConfig, type V1PersistentVolumeClaim, type V1Pod } from '@kubernetes/client-node';
import type { KubernetesObject, PodInfo, PvcInfo, StatefulSetInfo } from '../domain/readModels.js';
import type { WorkloadReader } from '../ports.js';
import { call } from './apiErrors.js';
import { parseQuantity } from '../domain/quantity.js';
import { isPgBackupError, notFound } from '../errors.js';

export class KubernetesWorkloadReader implements WorkloadReader {
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;

  constructor(kc: KubeConfig) {
    this.apps = kc.makeApiClient(AppsV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async getStatefulSet(namespace: string, name: string): Promise<StatefulSetInfo> {
    const sts = await call(`getting StatefulSet ${namespace}/${name}`, () =>
      this.apps.readNamespacedStatefulSet({ namespace, name }),
    ).catch((e) => {
      if (isPgBackupError(e, 'NotFound'))
        throw notFound(
          `StatefulSet "${name}" not found in namespace "${namespace}"`,
          `list them with: kubectl get statefulsets -n ${namespace}`,
        );
      throw e;
    });
    const templates = (sts.spec?.volumeClaimTemplates ?? []).map((t) => t.metadata?.name ?? '').filter(Boolean);
    const replicas = sts.spec?.replicas ?? 1;
    const [pods, pvcs] = await Promise.all([
      call(`listing pods of ${name}`, () => this.core.listNamespacedPod({ namespace })),
      call(`listing PersistentVolumeClaims in ${namespace}`, () => this.core.listNamespacedPersistentVolumeClaim({ namespace })),
    ]);
    const pvcByName = new Map(pvcs.items.map((p) => [p.metadata?.name ?? '', p]));
    const podByName = new Map(pods.items.map((p) => [p.metadata?.name ?? '', p]));
    const podInfos: PodInfo[] = [];
    for (let ordinal = 0; ordinal < replicas; ordinal++) {
      const podName = `${name}-${ordinal}`;
      const pod = podByName.get(podName);
      const claimNames = pod ? claimsOfPod(pod) : templates.map((t) => ({ claim: `${t}-${name}-${ordinal}`, template: t }));
      const infos = await Promise.all(claimNames.map(({ claim, template }) => this.pvcInfo(pvcByName.get(claim), claim, template)));
      podInfos.push({
        name: podName,
        ordinal,
        phase: pod?.status?.phase ?? 'Missing',
        ready: pod?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
        container: pod ? postgresContainer(pod) : undefined,
        pvcs: infos,
      });
    }
    return {
      name,
      namespace,
      replicas,
      readyReplicas: sts.status?.readyReplicas ?? 0,
      currentReplicas: sts.status?.currentReplicas ?? 0,
      updatedReplicas: sts.status?.updatedReplicas ?? 0,
      volumeClaimTemplates: templates,
      pods: podInfos,
      manifest: JSON.parse(JSON.stringify({ ...sts, apiVersion: 'apps/v1', kind: 'StatefulSet' })) as KubernetesObject,
    };
  }

  async listStatefulSetNames(namespace: string): Promise<string[]> {
    const list = await call(`listing StatefulSets in ${namespace}`, () => this.apps.listNamespacedStatefulSet({ namespace }));
    return list.items
      .map((s) => s.metadata?.name ?? '')
      .filter(Boolean)
      .sort();
  }

  private async pvcInfo(pvc: V1PersistentVolumeClaim | undefined, name: string, template?: string): Promise<PvcInfo> {
    if (!pvc) return { name, template, phase: 'Missing' };
    const volumeName = pvc.spec?.volumeName;
    let driver: string | undefined;
    if (volumeName) {
      const pv = await call(`getting PersistentVolume ${volumeName}`, () => this.core.readPersistentVolume({ name: volumeName })).catch(
        (e) => {
          // A PV deleted under a Bound claim reads as "no CSI driver"; anything else (e.g. Forbidden) is the real answer.
          if (isPgBackupError(e, 'NotFound')) return undefined;
          throw e;
        },
      );
      driver = pv?.spec?.csi?.driver;
    }
    const capacity = pvc.status?.capacity?.storage ?? pvc.spec?.resources?.requests?.storage;
    return {
      name,
      template,
      phase: pvc.status?.phase ?? 'Pending',
      storageClassName: pvc.spec?.storageClassName,
      driver,
      volumeName,
      capacityBytes: capacity ? parseQuantity(String(capacity)) : undefined,
    };
  }
}

/** PVCs a pod mounts, with the volumeClaimTemplate they come from (`<template>-<sts>-<ordinal>`). */
function claimsOfPod(pod: V1Pod): { claim: string; template?: string }[] {
  const podName = pod.metadata?.name ?? '';
  return (pod.spec?.volumes ?? [])
    .filter((v) => v.persistentVolumeClaim?.claimName)
    .map((v) => {
      const claim = v.persistentVolumeClaim!.claimName;
      return { claim, template: claim.endsWith(`-${podName}`) ? claim.slice(0, -podName.length - 1) : undefined };
    });
}

function postgresContainer(pod: V1Pod): string | undefined {
  const containers = pod.spec?.containers ?? [];
  return (containers.find((c) => /postgres/i.test(c.image ?? '') || c.name === 'postgres') ?? containers[0])?.name;
}
