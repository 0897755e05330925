/** What a restore is asked and answers, and the writing and deleting of its objects (shared by both kinds of restore and verify). */
import type { Backup } from '../domain/backup.js';
import type { ObjectRef } from '../domain/readModels.js';
import { type RestorePlan, planRefs } from '../domain/restore.js';
import type { Deps } from './deps.js';

export interface RestoreOptions {
  /** Namespace of the backup; undefined = whichever namespace holds it. */
  namespace?: string;
  id: string;
  /** Name of the new StatefulSet (not with `inPlace`). */
  to?: string;
  /** Restore into the backed-up StatefulSet itself, after a pre-restore backup (see restoreInPlace). */
  inPlace?: boolean;
  /** Namespace of the new StatefulSet (default: the backup's). */
  targetNamespace?: string;
  /** Only plan: check and return what would be created and deleted. */
  dryRun?: boolean;
  /**
   * Run the pod template recorded on the backup even where it grants more than the live StatefulSet's
   * (or, with none, than the defaults). Only for callers whose own credentials create the StatefulSet.
   */
  trustRecordedPodTemplate?: boolean;
  /** Delete target objects that already exist (their data is lost) instead of refusing. */
  replace?: boolean;
  /** Wait until PostgreSQL of the restored StatefulSet is ready. */
  wait?: boolean;
  /** With `wait`: seconds to wait for readiness (default 600). */
  timeoutSeconds?: number;
  /** Extra labels on every created object. */
  labels?: Record<string, string>;
  signal?: AbortSignal;
  onProgress?: (event: RestoreProgress) => void;
}

export type RestoreProgress =
  | { stage: 'planned'; plan: RestorePlan }
  | { stage: 'pre-restore-backup'; id: string }
  | { stage: 'scaled'; replicas: number }
  | { stage: 'deleted'; ref: ObjectRef }
  | { stage: 'created'; ref: ObjectRef }
  | { stage: 'ready'; seconds: number }
  /** An in-place restore failed and put the old volumes back (failures: what could not be put back). */
  | { stage: 'put-back'; failures: string[] };

export interface RestoreResult {
  backup: Backup;
  plan: RestorePlan;
  dryRun: boolean;
  /** PostgreSQL answered in the restored pod (only with `wait`). */
  ready: boolean;
  /** From the first object created until PostgreSQL answered (only with `wait`). */
  restoreSeconds?: number;
  /** The restored pod, once ready. */
  pod?: string;
  /** In place: the backup of the data before the restore (restoring it in place undoes the restore). */
  preRestoreBackup?: string;
}

/** Creates the objects one after the other, recording each in `created` (so a failure can delete them again). */
export async function createInOrder(
  writer: Deps['workloadWriter'],
  objects: RestorePlan['create'],
  created: ObjectRef[],
  options: Pick<RestoreOptions, 'signal' | 'onProgress'>,
): Promise<void> {
  for (const object of objects) {
    options.signal?.throwIfAborted();
    await writer.create(object);
    const ref = planRefs({ create: [object] })[0]!;
    created.push(ref);
    options.onProgress?.({ stage: 'created', ref });
  }
}

/** Deletes restored objects (StatefulSet first), waiting until they are gone; best effort, returns what failed. */
export async function deleteRestored(deps: Pick<Deps, 'workloadWriter'>, refs: ObjectRef[], signal?: AbortSignal): Promise<string[]> {
  // The StatefulSet first (its pod releases the claims), then the rest newest first (claims before the snapshots they came from).
  const ordered = [...refs.filter((r) => r.kind === 'StatefulSet'), ...refs.filter((r) => r.kind !== 'StatefulSet').reverse()];
  const failed: string[] = [];
  for (const ref of ordered)
    await deps.workloadWriter
      .delete(ref, { wait: true, signal })
      .catch((e: unknown) => failed.push(`${refText(ref)}: ${(e as Error).message}`));
  return failed;
}

export const refText = (r: ObjectRef) => `${r.kind.toLowerCase()}/${r.name}`;
