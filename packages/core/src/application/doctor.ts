import { PERMISSIONS, permissionName } from '../domain/kubernetesPermissions.js';
import { assertName } from '../domain/names.js';
import { selectSnapshotClass } from '../domain/snapshotClass.js';
import { isPgBackupError } from '../errors.js';
import { Annotations, Labels, MANAGED_BY, SnapshotStorage } from '../contract.js';
import { parseInPlaceRestoreRecord } from '../domain/inPlaceRestoreRecord.js';
import type { SnapshotContentInfo, StatefulSetInfo } from '../domain/readModels.js';
import type { AccessReviewer, SnapshotContentReader } from '../ports.js';
import type { Deps } from './deps.js';
import { selectPrimary } from './selectPrimary.js';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do when the check fails. */
  fix?: string;
}

export interface DoctorReport {
  namespace: string;
  statefulSet?: string;
  ok: boolean;
  checks: DoctorCheck[];
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
/** A failed check's fix: the error's hint in words (doctor's report is prose). */
const hint = (e: unknown) => (isPgBackupError(e) ? e.hint?.text : undefined);

/**
 * Preflight: snapshot API served, the caller's RBAC, orphaned snapshots, what interrupted work left,
 * and for a StatefulSet its volumes, their VolumeSnapshotClasses and a reachable primary. Never throws
 * for a failed check: it reports it.
 */
export async function doctor(
  deps: Pick<Deps, 'discovery' | 'snapshots' | 'groups' | 'workloads' | 'workloadWriter' | 'database'> & {
    access: AccessReviewer;
    contents?: SnapshotContentReader;
  },
  options: { namespace: string; statefulSet?: string },
): Promise<DoctorReport> {
  assertName('namespace', options.namespace);
  if (options.statefulSet) assertName('StatefulSet', options.statefulSet);
  const checks: DoctorCheck[] = [];
  const report = () => ({ namespace: options.namespace, statefulSet: options.statefulSet, ok: checks.every((c) => c.ok), checks });

  let groupVersions: string[] = [];
  try {
    const support = await deps.discovery.apiSupport();
    groupVersions = support.groupSnapshotVersions;
    checks.push(
      support.snapshotVersions.includes('v1')
        ? { name: 'VolumeSnapshot API', ok: true, detail: `snapshot.storage.k8s.io served: ${support.snapshotVersions.join(', ')}` }
        : {
            name: 'VolumeSnapshot API',
            ok: false,
            detail: support.snapshotVersions.length
              ? `snapshot.storage.k8s.io/v1 not served (only ${support.snapshotVersions.join(', ')})`
              : 'snapshot.storage.k8s.io is not served',
            fix: 'install the external-snapshotter CRDs and snapshot-controller (github.com/kubernetes-csi/external-snapshotter)',
          },
    );
    checks.push({
      name: 'VolumeGroupSnapshot API',
      ok: true,
      detail: support.groupSnapshotVersions.length
        ? `groupsnapshot.storage.k8s.io served: ${support.groupSnapshotVersions.join(', ')}`
        : 'not served: only PostgreSQL on a single volume can be backed up consistently (several volumes need a VolumeGroupSnapshot)',
    });
  } catch (e) {
    checks.push({
      name: 'API server',
      ok: false,
      detail: message(e),
      fix: hint(e) ?? 'check the kubeconfig and that the cluster is reachable',
    });
    return report();
  }

  try {
    const wanted = PERMISSIONS.flatMap((p) =>
      p.verbs.map((verb) => ({
        namespace: p.clusterScoped ? undefined : options.namespace,
        verb,
        group: p.group,
        resource: p.resource,
        subresource: p.subresource,
        // A Role written for one StatefulSet grants these only for its objects: ask for the first of them.
        ...(p.resourceNames && options.statefulSet ? { name: p.resourceNames(options.statefulSet)[0] } : {}),
      })),
    );
    const denied = (await deps.access.review(wanted)).filter((r) => !r.allowed);
    checks.push(
      denied.length === 0
        ? { name: 'RBAC', ok: true, detail: `all ${wanted.length} permissions granted in namespace ${options.namespace}` }
        : {
            name: 'RBAC',
            ok: false,
            detail: `missing: ${denied.map((d) => `${d.check.verb} ${permissionName(d.check)}`).join(', ')}`,
            fix: 'ask a cluster admin for a Role with these verbs (kubectl pgbackup schedule set --dry-run -o yaml prints one)',
          },
    );
  } catch (e) {
    checks.push({ name: 'RBAC', ok: false, detail: message(e), fix: hint(e) });
  }

  checks.push(await orphans(deps, options));
  checks.push(await leftovers(deps, options.namespace));

  if (!options.statefulSet) return report();
  let sts: StatefulSetInfo;
  try {
    sts = await deps.workloads.getStatefulSet(options.namespace, options.statefulSet);
    checks.push({ name: 'StatefulSet', ok: true, detail: `${sts.name}: ${sts.readyReplicas}/${sts.replicas} ready` });
  } catch (e) {
    checks.push({ name: 'StatefulSet', ok: false, detail: message(e), fix: hint(e) });
    return report();
  }

  const pvcs = sts.pods.flatMap((p) => p.pvcs);
  const unbound = pvcs.filter((p) => p.phase !== 'Bound');
  checks.push(
    pvcs.length === 0
      ? {
          name: 'PersistentVolumeClaims',
          ok: false,
          detail: 'the pods have no PersistentVolumeClaims',
          fix: 'keep PostgreSQL data on a volumeClaimTemplate',
        }
      : unbound.length
        ? {
            name: 'PersistentVolumeClaims',
            ok: false,
            detail: `not Bound: ${unbound.map((p) => `${p.name} (${p.phase})`).join(', ')}`,
            fix: `kubectl describe pvc -n ${options.namespace} ${unbound[0]!.name}`,
          }
        : { name: 'PersistentVolumeClaims', ok: true, detail: `${pvcs.length} Bound: ${pvcs.map((p) => p.name).join(', ')}` },
  );

  const volumesPerPod = Math.max(0, ...sts.pods.map((p) => p.pvcs.length));
  checks.push(
    volumesPerPod <= 1
      ? { name: 'Consistency', ok: true, detail: 'one volume per pod: a CHECKPOINT plus one atomic snapshot is consistent' }
      : await groupConsistency(deps, volumesPerPod, pvcs, groupVersions),
  );

  try {
    const classes = await deps.snapshots.listClasses();
    const drivers = [...new Set(pvcs.map((p) => p.driver))];
    const problems: string[] = [];
    const chosen: string[] = [];
    for (const driver of drivers) {
      if (!driver) {
        problems.push(
          `volumes ${pvcs
            .filter((p) => !p.driver)
            .map((p) => p.name)
            .join(', ')} are not CSI volumes`,
        );
        continue;
      }
      try {
        chosen.push(`${driver} → ${selectSnapshotClass(classes, driver).name}`);
      } catch (e) {
        problems.push(message(e));
      }
    }
    checks.push(
      problems.length
        ? {
            name: 'VolumeSnapshotClass',
            ok: false,
            detail: problems.join('; '),
            fix: `create a VolumeSnapshotClass for the driver and mark it default (${SnapshotStorage.isDefaultClass}=true)`,
          }
        : { name: 'VolumeSnapshotClass', ok: true, detail: chosen.join(', ') || 'no volumes' },
    );
  } catch (e) {
    checks.push({ name: 'VolumeSnapshotClass', ok: false, detail: message(e), fix: hint(e) });
  }

  try {
    const primary = await selectPrimary(deps.database, sts);
    checks.push({ name: 'PostgreSQL', ok: true, detail: `primary ${primary.name} answers and is not in recovery` });
  } catch (e) {
    checks.push({ name: 'PostgreSQL', ok: false, detail: message(e), fix: hint(e) });
  }
  return report();
}

/** Several volumes per pod are consistent only through a VolumeGroupSnapshot of a class serving their driver. */
async function groupConsistency(
  deps: Pick<Deps, 'groups'>,
  volumes: number,
  pvcs: StatefulSetInfo['pods'][number]['pvcs'],
  groupVersions: string[],
): Promise<DoctorCheck> {
  const name = 'Consistency';
  const fix = 'serve groupsnapshot.storage.k8s.io with a VolumeGroupSnapshotClass for the driver, or keep data and WAL on one volume';
  if (groupVersions.length === 0)
    return {
      name,
      ok: false,
      detail: `${volumes} volumes per pod cannot be cut at one instant by separate snapshots, and VolumeGroupSnapshots are not served`,
      fix,
    };
  const drivers = [...new Set(pvcs.map((p) => p.driver).filter((d): d is string => !!d))];
  try {
    if (drivers.length !== 1)
      return {
        name,
        ok: false,
        detail: `${volumes} volumes per pod on ${drivers.length} CSI drivers: no group snapshot cuts them together`,
        fix,
      };
    const chosen = selectSnapshotClass(await deps.groups.listClasses(), drivers[0]!, undefined, 'VolumeGroupSnapshotClass');
    return {
      name,
      ok: true,
      detail: `${volumes} volumes per pod: a CHECKPOINT plus one VolumeGroupSnapshot (${chosen.name}) cuts them at one instant`,
    };
  } catch (e) {
    return { name, ok: false, detail: message(e), fix: hint(e) ?? fix };
  }
}

/**
 * Orphans: a backup's VolumeSnapshot whose VolumeSnapshotContent is gone (the backup cannot be
 * restored), and a VolumeSnapshotContent bound to a VolumeSnapshot of this namespace that is gone
 * (storage nobody sees). Without read access to the cluster-scoped contents, only what the
 * snapshots themselves say (snapshot-controller's "missing" error) is used.
 */
async function orphans(
  deps: Pick<Deps, 'snapshots'> & { contents?: SnapshotContentReader },
  options: { namespace: string; statefulSet?: string },
): Promise<DoctorCheck> {
  const name = 'Orphans';
  try {
    const all = await deps.snapshots.list({ namespace: options.namespace, labelSelector: '' });
    const ours = all.filter(
      (s) =>
        s.labels[Labels.managedBy] === MANAGED_BY &&
        s.labels[Labels.backup] &&
        (!options.statefulSet || s.labels[Labels.statefulSet] === options.statefulSet),
    );
    let contents: SnapshotContentInfo[] | undefined;
    let contentsProblem = '';
    if (deps.contents) {
      try {
        contents = await deps.contents.listContents();
      } catch (e) {
        contentsProblem = ` (VolumeSnapshotContents not checked: ${message(e)})`;
      }
    }
    const byName = contents && new Map(contents.map((c) => [c.name, c]));
    const found: string[] = [];
    const broken = new Set<string>();
    for (const s of ours) {
      const id = s.labels[Labels.backup]!;
      const missing = s.contentName ? (byName ? !byName.has(s.contentName) : /missing/i.test(s.error ?? '')) : false;
      if (missing) {
        found.push(`backup ${id}: VolumeSnapshot ${s.name} is bound to VolumeSnapshotContent ${s.contentName}, which no longer exists`);
        broken.add(id);
      }
    }
    const names = new Set(all.map((s) => s.name));
    for (const c of contents ?? []) {
      if (c.deleting || c.snapshotNamespace !== options.namespace || !c.snapshotName || names.has(c.snapshotName)) continue;
      const snapshot = `${c.snapshotNamespace}/${c.snapshotName}`;
      found.push(
        `VolumeSnapshotContent ${c.name} (deletionPolicy ${c.deletionPolicy ?? '?'}) belongs to VolumeSnapshot ${snapshot}, which no longer exists`,
      );
    }
    if (found.length === 0)
      return { name, ok: true, detail: `none: ${ours.length} VolumeSnapshot(s) of backups checked${contentsProblem}` };
    const fixes = [
      ...[...broken].map((id) => `kubectl pgbackup delete ${id} -n ${options.namespace} --force`),
      ...(found.length > broken.size ? ['delete VolumeSnapshotContents nobody needs: kubectl delete volumesnapshotcontent <name>'] : []),
    ];
    return { name, ok: false, detail: `${found.length} found: ${found.join('; ')}${contentsProblem}`, fix: fixes.join('; ') };
  } catch (e) {
    return { name, ok: false, detail: message(e), fix: hint(e) };
  }
}

/**
 * What interrupted long work left in the namespace, each with the command that cleans it: unfinished
 * in-place restores (a StatefulSet maybe at 0 replicas, volumes kept), volumes still kept by a restore
 * that is over, and the scratch objects of verifications.
 */
async function leftovers(deps: Pick<Deps, 'workloadWriter'>, namespace: string): Promise<DoctorCheck> {
  const name = 'Leftovers';
  try {
    const found = await deps.workloadWriter.leftovers(namespace);
    const items: string[] = [];
    const fixes: string[] = [];
    const recorded = new Set<string>();
    for (const r of found.inPlaceRestores) {
      const record = parseInPlaceRestoreRecord(r.record)!;
      const kept = record.claims.flatMap((c) => (c.volume ? [c.volume] : []));
      kept.forEach((v) => recorded.add(v));
      items.push(
        `the in-place restore of backup ${record.backup || '?'} into statefulset/${r.statefulSet} did not finish: it stopped at step ${record.step}, ` +
          `the StatefulSet has ${r.replicas} replica(s) (${record.replicas} before)${kept.length ? `, volume(s) ${kept.join(', ')} kept for it` : ''}`,
      );
      fixes.push(`kubectl pgbackup recover ${r.statefulSet} -n ${namespace}`);
    }
    for (const v of found.keptVolumes ?? []) {
      if (recorded.has(v.name)) continue;
      items.push(
        `PersistentVolume ${v.name} (${v.phase ?? 'phase unknown'}) is still kept with reclaim policy ${v.reclaimPolicy ?? '?'} for claim ${v.claim} by an in-place restore that is over`,
      );
      const patch = {
        metadata: { annotations: { [Annotations.keptForClaim]: null, [Annotations.keptReclaimPolicy]: null } },
        spec: { persistentVolumeReclaimPolicy: v.keptReclaimPolicy ?? 'Delete' },
      };
      fixes.push(`kubectl patch pv ${v.name} --type merge -p '${JSON.stringify(patch)}'`);
    }
    if (found.scratch.length > 0) {
      const listed = found.scratch.map((o) => `${o.kind.toLowerCase()}/${o.name}${o.createdAt ? ` (created ${o.createdAt})` : ''}`);
      items.push(
        `${found.scratch.length} scratch object(s) of verifications (label ${Labels.scratch}; a running verification deletes its own when it ends): ${listed.join(', ')}`,
      );
      fixes.push(`kubectl delete ${found.scratch.map((o) => `${o.kind.toLowerCase()}/${o.name}`).join(' ')} -n ${namespace}`);
    }
    const unchecked = found.keptVolumesProblem ? ` (kept PersistentVolumes not checked: ${found.keptVolumesProblem})` : '';
    if (items.length === 0)
      return { name, ok: true, detail: `none: no unfinished in-place restore, kept volume or scratch object${unchecked}` };
    return { name, ok: false, detail: `${items.length} found: ${items.join('; ')}${unchecked}`, fix: fixes.join('; ') };
  } catch (e) {
    return { name, ok: false, detail: message(e), fix: hint(e) };
  }
}
