import type { KubernetesObject } from './readModels.js';

/**
 * The steps of an in-place restore, in order. Each is recorded on the StatefulSet before it starts, so a
 * restore that was killed is found and taken on from where it stopped:
 * - `stopping`: the pre-restore backup is taken, the StatefulSet scaled to 0 during it;
 * - `swapping`: the old volumes are kept (Retain), their claims replaced by claims from the snapshots;
 * - `starting`: every restored claim exists; the StatefulSet is scaled up and PostgreSQL awaited;
 * - `finishing`: the restored database answered; the old volumes go back to their reclaim policy.
 */
export const IN_PLACE_STEPS = ['stopping', 'swapping', 'starting', 'finishing'] as const;
export type InPlaceStep = (typeof IN_PLACE_STEPS)[number];

/** A claim an in-place restore replaces, and what it takes to bind it to its old volume again. */
export interface ReplacedClaim {
  claim: string;
  /** The old volume (kept with reclaim policy Retain until the restored database answers). */
  volume?: string;
  /** Its reclaim policy before the restore. */
  reclaimPolicy?: string;
  /** The claim that binds the old volume again (the old claim's labels and spec, `spec.volumeName` set). */
  rebind?: KubernetesObject;
}

/** The record of an in-place restore on its StatefulSet (annotation `pgbackup.io/in-place-restore`). */
export interface InPlaceRestoreRecord {
  backup: string;
  step: InPlaceStep;
  /** Replicas before the restore (a rollback scales back to them), and after it. */
  replicas: number;
  restoreReplicas: number;
  /** Set from `swapping` on: the backup of the data before the restore. */
  preRestoreBackup?: string;
  claims: ReplacedClaim[];
  startedAt?: string;
}

export function formatInPlaceRestoreRecord(record: InPlaceRestoreRecord): string {
  return JSON.stringify(record);
}

/**
 * Reads the record; undefined when there is none. A record that cannot be read is still an
 * unfinished restore: it comes back as `stopping` with no claims, which only scales back.
 */
export function parseInPlaceRestoreRecord(text: string | undefined): InPlaceRestoreRecord | undefined {
  if (!text) return undefined;
  let raw: Partial<InPlaceRestoreRecord> & { claims?: unknown };
  try {
    raw = JSON.parse(text) as typeof raw;
  } catch {
    raw = {};
  }
  const claims = Array.isArray(raw.claims)
    ? (raw.claims as ReplacedClaim[]).filter((c) => c && typeof c === 'object' && typeof c.claim === 'string')
    : [];
  const replicas = typeof raw.replicas === 'number' && raw.replicas >= 0 ? raw.replicas : 1;
  return {
    backup: typeof raw.backup === 'string' ? raw.backup : '',
    step: IN_PLACE_STEPS.includes(raw.step as InPlaceStep) ? (raw.step as InPlaceStep) : 'stopping',
    replicas,
    restoreReplicas: typeof raw.restoreReplicas === 'number' ? raw.restoreReplicas : 1,
    ...(typeof raw.preRestoreBackup === 'string' ? { preRestoreBackup: raw.preRestoreBackup } : {}),
    claims,
    ...(typeof raw.startedAt === 'string' ? { startedAt: raw.startedAt } : {}),
  };
}
