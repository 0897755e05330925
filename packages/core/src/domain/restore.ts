import { Annotations, KubernetesKeys, Labels, PGBACKUP_KEY_PREFIX, SnapshotStorage } from '../contract.js';
import { invalid } from '../errors.js';
import { parseQuantity } from './quantity.js';
import type { ClaimBinding, KubernetesObject, ObjectRef, SnapshotContentInfo } from './readModels.js';
import type { Backup } from './backup.js';
import { redactLiteralEnv, restoreLiteralEnv } from './literalEnv.js';
import type { ReplacedClaim } from './inPlaceRestoreRecord.js';

export interface RestorePlan {
  backupId: string;
  source: { namespace: string; statefulSet: string };
  target: { namespace: string; statefulSet: string };
  /** Objects to delete before creating (only when told to replace existing ones). */
  delete: ObjectRef[];
  /** Objects to create, in order: snapshot copies (another namespace), PersistentVolumeClaims from the snapshots, the headless Service, the StatefulSet. */
  create: KubernetesObject[];
  /** What the user should know (selector rewritten, replicas reduced, …). */
  notes: string[];
}

type Json = Record<string, unknown>;
type LabelSelectorSpec = { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
interface ClaimTemplate {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { accessModes?: string[]; storageClassName?: string; volumeMode?: string; resources?: { requests?: Record<string, string> } };
}
interface StatefulSetObject {
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Json & {
    replicas?: number;
    serviceName?: string;
    selector?: LabelSelectorSpec;
    template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Json };
    volumeClaimTemplates?: ClaimTemplate[];
  };
}

export interface RestorePlanInput {
  backup: Backup;
  /** The source StatefulSet as stored in the API server. */
  source: KubernetesObject;
  targetNamespace: string;
  targetStatefulSet: string;
  /** Extra labels on every created object (e.g. the scratch label of a verification). */
  labels?: Record<string, string>;
  /** Into another namespace: the VolumeSnapshotContent of each snapshot, by snapshot name (its handle is copied). */
  contents?: Record<string, SnapshotContentInfo>;
}

/** The PVC name the StatefulSet controller looks for: `<template>-<statefulset>-<ordinal>`. */
export const claimName = (template: string, statefulSet: string, ordinal: number) => `${template}-${statefulSet}-${ordinal}`;

/** Which volumeClaimTemplate a snapshot's PVC came from (recorded at backup time, else from the PVC name). */
export function snapshotTemplate(backup: Backup, snapshot: Backup['snapshots'][number]): string | undefined {
  const recorded = snapshot.annotations[Annotations.claimTemplate];
  if (recorded) return recorded;
  const ordinal = snapshot.annotations[Annotations.ordinal];
  const suffix = `-${backup.statefulSet}-${ordinal ?? ''}`;
  if (ordinal !== undefined && snapshot.pvc.endsWith(suffix)) return snapshot.pvc.slice(0, -suffix.length);
  const m = new RegExp(`^(.+)-${escapeRegExp(backup.statefulSet)}-\\d+$`).exec(snapshot.pvc);
  return m?.[1];
}

/**
 * Decides what a restore creates: one PVC per snapshot, named so that ordinal 0 of the new
 * StatefulSet adopts it and sized to at least the snapshot's restoreSize, with the snapshot as
 * dataSource; then the StatefulSet cloned from the source (server fields stripped, renamed, one
 * replica, selector and pod labels moved off the source's so its Services and selector do not pick
 * the restored pod). Pure: no I/O.
 */
export function planRestoreToNewStatefulSet(input: RestorePlanInput): RestorePlan {
  const { backup, targetNamespace: ns, targetStatefulSet: target } = input;
  const source = structuredClone(input.source) as unknown as StatefulSetObject;
  const sourceName = source.metadata.name;
  const notes: string[] = [];
  const templates = new Map((source.spec?.volumeClaimTemplates ?? []).map((t) => [t.metadata?.name ?? '', t]));
  const extraLabels = { [Labels.restoredFrom]: backup.id, ...(input.labels ?? {}) };

  const sts = cloneStatefulSet(source, sourceName, target, ns, extraLabels, backup.id, notes);
  const podLabels = (sts.spec as { selector: LabelSelectorSpec }).selector.matchLabels ?? {};
  const service = headlessService(sts, podLabels);
  const copies = ns === backup.namespace ? [] : snapshotCopies(backup, ns, target, extraLabels, input.contents ?? {});
  const sources = new Map(
    copies
      .filter((c) => c.kind === 'VolumeSnapshot')
      .map((c) => [(c.metadata.annotations as Record<string, string>)[Annotations.copyOf]!, c.metadata.name]),
  );
  const pvcs = claimsFromSnapshots(backup, source, target, ns, { ...podLabels, ...extraLabels }, sources);
  if (copies.length > 0) notes.push(...foreignReferences(source, ns));
  const restoredTemplates = new Set(backup.snapshots.map((s) => snapshotTemplate(backup, s)));
  const missing = [...templates.keys()].filter((t) => !restoredTemplates.has(t));
  if (missing.length > 0)
    notes.push(`volumeClaimTemplate(s) ${missing.join(', ')} are not in the backup: the StatefulSet controller will create them empty`);

  return {
    backupId: backup.id,
    source: { namespace: backup.namespace, statefulSet: backup.statefulSet },
    target: { namespace: ns, statefulSet: target },
    delete: [],
    create: [...copies, ...pvcs, service, sts],
    notes,
  };
}

/**
 * One PVC per snapshot, named so that ordinal 0 of `target` adopts it and sized to at least the
 * snapshot's restoreSize, with the snapshot as dataSource.
 */
function claimsFromSnapshots(
  backup: Backup,
  source: StatefulSetObject,
  target: string,
  ns: string,
  labels: Record<string, string>,
  /** The VolumeSnapshot to restore each snapshot (`namespace/name`) from, when not itself (a copy in another namespace). */
  sources = new Map<string, string>(),
): KubernetesObject[] {
  const templates = new Map((source.spec?.volumeClaimTemplates ?? []).map((t) => [t.metadata?.name ?? '', t]));
  return backup.snapshots.map((snapshot) => {
    const templateName = snapshotTemplate(backup, snapshot);
    if (!templateName)
      throw invalid(
        `cannot tell which volumeClaimTemplate PVC ${snapshot.pvc} of backup ${backup.id} came from`,
        'only volumes of volumeClaimTemplates can be restored',
      );
    const template = templates.get(templateName);
    if (!template)
      throw invalid(
        `StatefulSet ${source.metadata.name} has no volumeClaimTemplate "${templateName}" (the backup has a snapshot of ${snapshot.pvc})`,
        'the StatefulSet changed since the backup: restore with a StatefulSet that has that template',
      );
    const requested = template.spec?.resources?.requests?.storage;
    const requestedBytes = requested ? parseQuantity(String(requested)) : 0;
    const size =
      snapshot.restoreSize !== undefined && snapshot.restoreSize > requestedBytes
        ? String(snapshot.restoreSize)
        : (requested ?? String(snapshot.restoreSize ?? ''));
    if (!size) throw invalid(`snapshot ${snapshot.name} has no restoreSize and template ${templateName} no storage request`);
    return {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: claimName(templateName, target, 0),
        namespace: ns,
        labels: { ...(template.metadata?.labels ?? {}), ...labels },
        annotations: { [Annotations.snapshot]: `${backup.namespace}/${snapshot.name}` },
      },
      spec: {
        accessModes: template.spec?.accessModes ?? ['ReadWriteOnce'],
        ...(template.spec?.storageClassName !== undefined ? { storageClassName: template.spec.storageClassName } : {}),
        ...(template.spec?.volumeMode ? { volumeMode: template.spec.volumeMode } : {}),
        resources: { requests: { storage: size } },
        dataSource: {
          apiGroup: SnapshotStorage.group,
          kind: 'VolumeSnapshot',
          name: sources.get(`${backup.namespace}/${snapshot.name}`) ?? snapshot.name,
        },
      },
    };
  });
}

/**
 * A VolumeSnapshot can only be restored in its own namespace. Into another one, each snapshot is
 * re-bound there the way Velero does it: a pre-provisioned VolumeSnapshotContent naming the same
 * storage snapshot (snapshotHandle) with deletionPolicy Retain, so deleting the copy never deletes
 * the backup's data, and a VolumeSnapshot bound to it.
 */
function snapshotCopies(
  backup: Backup,
  ns: string,
  target: string,
  labels: Record<string, string>,
  contents: Record<string, SnapshotContentInfo>,
): KubernetesObject[] {
  return backup.snapshots.flatMap((snapshot) => {
    const content = contents[snapshot.name];
    if (!content?.snapshotHandle || !content.driver)
      throw invalid(
        `snapshot ${backup.namespace}/${snapshot.name} has no bound VolumeSnapshotContent with a snapshotHandle, so it cannot be copied to namespace ${ns}`,
        `kubectl get volumesnapshotcontent ${snapshot.contentName ?? ''} -o yaml`.trim(),
      );
    const name = `${target}-${snapshot.name}`.slice(0, 253).replace(/[-.]+$/, '');
    const contentName = `${ns}-${name}`.slice(0, 253).replace(/[-.]+$/, '');
    const className = content.className ?? snapshot.className;
    const annotations = { [Annotations.copyOf]: `${backup.namespace}/${snapshot.name}` };
    return [
      {
        apiVersion: SnapshotStorage.apiVersion,
        kind: 'VolumeSnapshotContent',
        metadata: { name: contentName, labels, annotations },
        spec: {
          deletionPolicy: 'Retain',
          driver: content.driver,
          source: { snapshotHandle: content.snapshotHandle },
          ...(content.sourceVolumeMode ? { sourceVolumeMode: content.sourceVolumeMode } : {}),
          ...(className ? { volumeSnapshotClassName: className } : {}),
          volumeSnapshotRef: { namespace: ns, name },
        },
      },
      {
        apiVersion: SnapshotStorage.apiVersion,
        kind: 'VolumeSnapshot',
        metadata: { name, namespace: ns, labels, annotations: { ...annotations } },
        spec: { source: { volumeSnapshotContentName: contentName }, ...(className ? { volumeSnapshotClassName: className } : {}) },
      },
    ];
  });
}

/** Secrets, ConfigMaps and the ServiceAccount the pod template names: they must exist in the other namespace too. */
function foreignReferences(source: StatefulSetObject, ns: string): string[] {
  const found = new Set<string>();
  const visit = (node: unknown, key = ''): void => {
    if (Array.isArray(node)) return node.forEach((n) => visit(n, key));
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if ((key === 'secretKeyRef' || key === 'secretRef') && typeof o.name === 'string') found.add(`secret/${o.name}`);
    if (key === 'secret' && typeof o.secretName === 'string') found.add(`secret/${o.secretName}`);
    if ((key === 'configMapKeyRef' || key === 'configMapRef' || key === 'configMap') && typeof o.name === 'string')
      found.add(`configmap/${o.name}`);
    if (key === 'imagePullSecrets' && typeof o.name === 'string') found.add(`secret/${o.name}`);
    for (const [k, v] of Object.entries(o)) visit(v, k);
  };
  const podSpec = source.spec?.template?.spec as Record<string, unknown> | undefined;
  visit(podSpec);
  const account = podSpec?.serviceAccountName;
  if (typeof account === 'string' && account !== 'default') found.add(`serviceaccount/${account}`);
  return found.size === 0 ? [] : [`the pod template refers to ${[...found].sort().join(', ')}: they must exist in namespace ${ns} too`];
}

/** What an in-place restore does beyond creating claims: it runs between two scalings of the source. */
export interface InPlaceSteps {
  /** Replicas of the StatefulSet now, and after the restore. */
  replicas: number;
  restoreReplicas: number;
  /** Claims replaced: their volumes are kept (reclaim policy Retain) until the restored database is ready. */
  replaced: ReplacedClaim[];
}

export interface InPlaceRestorePlan extends RestorePlan {
  inPlace: InPlaceSteps;
}

export interface InPlacePlanInput {
  backup: Backup;
  source: KubernetesObject;
  /** The claims the restored ones replace, as they are now (absent ones are simply created). */
  current: ClaimBinding[];
}

/**
 * Decides an in-place restore: the source StatefulSet keeps its name and spec; each claim of ordinal 0
 * that the backup has a snapshot of is replaced by a claim from that snapshot with the same name. The
 * old volumes are kept (Retain) until the restored database answers, so a failure can put them back.
 * Pure: no I/O.
 */
export function planRestoreInPlace(input: InPlacePlanInput): InPlaceRestorePlan {
  const { backup } = input;
  const source = structuredClone(input.source) as unknown as StatefulSetObject;
  const name = source.metadata.name;
  const podLabels = source.spec?.selector?.matchLabels ?? {};
  const claims = claimsFromSnapshots(backup, source, name, backup.namespace, { ...podLabels, [Labels.restoredFrom]: backup.id });
  const current = new Map(input.current.map((c) => [c.claim.metadata.name, c]));
  const replicas = source.spec?.replicas ?? 1;
  const notes = [`a pre-restore backup of ${name} is taken first: restoring it in place undoes this restore`];
  if (replicas > 1)
    notes.push(
      `${name} has ${replicas} replicas; it comes back with 1 (the restored primary): re-create the standbys' volumes from it, then scale up`,
    );
  const delete_: ObjectRef[] = [];
  const replaced: InPlaceSteps['replaced'] = [];
  for (const claim of claims) {
    const now = current.get(claim.metadata.name);
    if (!now) continue;
    delete_.push({ kind: 'PersistentVolumeClaim', namespace: backup.namespace, name: claim.metadata.name });
    replaced.push({
      claim: claim.metadata.name,
      volume: now.volume,
      reclaimPolicy: now.reclaimPolicy,
      ...(now.volume ? { rebind: rebindClaim(now.claim, now.volume) } : {}),
    });
  }
  return {
    backupId: backup.id,
    source: { namespace: backup.namespace, statefulSet: name },
    target: { namespace: backup.namespace, statefulSet: name },
    delete: delete_,
    create: claims,
    notes,
    inPlace: { replicas, restoreReplicas: 1, replaced },
  };
}

/** A claim that binds `volume` again: the old claim's name, labels and spec, without what binding wrote. */
export function rebindClaim(claim: KubernetesObject, volume: string): KubernetesObject {
  const { metadata, spec } = claim as unknown as { metadata: ClaimTemplate['metadata'] & { namespace?: string }; spec: Json };
  const annotations = Object.fromEntries(
    Object.entries(metadata?.annotations ?? {}).filter(([k]) => !KubernetesKeys.claimBindingPrefixes.some((p) => k.startsWith(p))),
  );
  const { dataSource: _ds, dataSourceRef: _dsr, ...rest } = spec as Json & { dataSource?: unknown; dataSourceRef?: unknown };
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: metadata?.name ?? '', namespace: metadata?.namespace, labels: metadata?.labels ?? {}, annotations },
    spec: { ...rest, volumeName: volume },
  };
}

/** Larger StatefulSets are not recorded (annotations share 256 KiB per object); a restore then clones the live one. */
const MAX_RECORDED_SPEC = 64 * 1024;

/**
 * The StatefulSet as a backup records it: the spec and identity, no status or server fields, no literal
 * env values (`redactedEnv` names them). Undefined when too large.
 */
export function recordSource(manifest: KubernetesObject): { spec: string; redactedEnv: string[] } | undefined {
  const sts = manifest as unknown as StatefulSetObject;
  const annotations = Object.fromEntries(
    Object.entries(sts.metadata.annotations ?? {}).filter(
      ([k]) => k !== KubernetesKeys.lastAppliedConfiguration && !k.startsWith(PGBACKUP_KEY_PREFIX),
    ),
  );
  const { redacted, names } = redactLiteralEnv({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: sts.metadata.name, namespace: sts.metadata.namespace, labels: sts.metadata.labels ?? {}, annotations },
    spec: sts.spec ?? {},
  });
  const recorded = JSON.stringify(redacted);
  return recorded.length <= MAX_RECORDED_SPEC ? { spec: recorded, redactedEnv: names } : undefined;
}

/**
 * The StatefulSet recorded on the backup at backup time, if any, with the literal env values it left out
 * taken from `live` (the StatefulSet as it is now). @throws Invalid when `live` cannot give them.
 */
export function recordedSource(backup: Backup, live: KubernetesObject | undefined): KubernetesObject | undefined {
  const annotated = backup.snapshots.find((s) => s.annotations[Annotations.statefulSetSpec]);
  if (!annotated) return undefined;
  let parsed: KubernetesObject;
  try {
    parsed = JSON.parse(annotated.annotations[Annotations.statefulSetSpec]!) as KubernetesObject;
  } catch {
    return undefined;
  }
  if (parsed.kind !== 'StatefulSet' || typeof parsed.metadata?.name !== 'string') return undefined;
  return restoreLiteralEnv(parsed, redactedNames(annotated.annotations[Annotations.redactedEnv]), live as never, backup.id);
}

function redactedNames(raw: string | undefined): string[] {
  if (!raw) return [];
  try {
    const names: unknown = JSON.parse(raw);
    return Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [];
  } catch {
    return [];
  }
}

/** The objects a plan creates, as references. */
export const planRefs = (plan: Pick<RestorePlan, 'create'>): ObjectRef[] =>
  plan.create.map((o) => ({ kind: o.kind as ObjectRef['kind'], namespace: o.metadata.namespace ?? '', name: o.metadata.name }));

function cloneStatefulSet(
  source: StatefulSetObject,
  sourceName: string,
  target: string,
  namespace: string,
  extraLabels: Record<string, string>,
  backupId: string,
  notes: string[],
): KubernetesObject {
  const spec = structuredClone(source.spec ?? {});
  delete spec.status;
  if ((spec.replicas ?? 1) !== 1)
    notes.push(`the source has ${spec.replicas} replicas; the restore runs 1 (the backed-up primary): scale it up once it is checked`);
  spec.replicas = 1;
  // Labels that name the source move to the target, so the source's selector and Services leave the restored pod alone.
  const rename = (labels: Record<string, string> | undefined) =>
    Object.fromEntries(Object.entries(labels ?? {}).map(([k, v]) => [k, v === sourceName ? target : v]));
  const matchLabels = spec.selector?.matchLabels ?? {};
  const renamed = rename(matchLabels);
  const changed = Object.keys(matchLabels).some((k) => matchLabels[k] !== renamed[k]);
  const selectorLabels = changed ? renamed : { ...matchLabels, [Labels.restoreOf]: target };
  if (!changed)
    notes.push(
      `no selector label of ${sourceName} carries its name; pods of ${target} still match selector ${JSON.stringify(matchLabels)}, ` +
        'so Services selecting it may route to them',
    );
  spec.selector = { ...(spec.selector ?? {}), matchLabels: selectorLabels };
  const podMeta = spec.template?.metadata ?? {};
  spec.template = {
    ...(spec.template ?? {}),
    metadata: { ...podMeta, labels: { ...rename(podMeta.labels), ...selectorLabels } },
  };
  // The restored pods get DNS names of their own (<target>-0.<target>) from a headless Service of the plan.
  spec.serviceName = target;
  spec.volumeClaimTemplates = (spec.volumeClaimTemplates ?? []).map((t) => {
    const { metadata, spec: claimSpec } = t as ClaimTemplate & { status?: unknown };
    return {
      metadata: {
        name: metadata?.name,
        ...(metadata?.labels ? { labels: metadata.labels } : {}),
        ...(metadata?.annotations ? { annotations: metadata.annotations } : {}),
      },
      spec: claimSpec,
    };
  });
  const annotations = Object.fromEntries(
    Object.entries(source.metadata.annotations ?? {}).filter(
      ([k]) => k !== KubernetesKeys.lastAppliedConfiguration && !k.startsWith(KubernetesKeys.deploymentPrefix),
    ),
  );
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: {
      name: target,
      namespace,
      labels: { ...rename(source.metadata.labels), ...extraLabels },
      annotations: { ...annotations, [Annotations.restoredFrom]: backupId, [Annotations.restoredFromStatefulSet]: sourceName },
    },
    spec,
  };
}

/** The governing Service of the restored StatefulSet: headless, selecting its pods, with their container ports (5432 when none is declared). */
function headlessService(sts: KubernetesObject, podLabels: Record<string, string>): KubernetesObject {
  const containers = ((sts.spec as StatefulSetObject['spec'])?.template?.spec?.containers ?? []) as {
    ports?: { name?: string; containerPort: number; protocol?: string }[];
  }[];
  const declared = containers
    .flatMap((c) => c.ports ?? [])
    .map((p) => ({
      ...(p.name ? { name: p.name } : {}),
      port: p.containerPort,
      targetPort: p.containerPort,
      protocol: p.protocol ?? 'TCP',
    }));
  const labels = (sts.metadata as { labels?: Record<string, string> }).labels ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: sts.metadata.name, namespace: sts.metadata.namespace, labels },
    spec: {
      clusterIP: 'None',
      selector: podLabels,
      ports: declared.length > 0 ? declared : [{ name: 'postgres', port: 5432, targetPort: 5432, protocol: 'TCP' }],
    },
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
