import { Annotations } from '@pgbackup/core';
import { type FakeDeps, TEST_NAMESPACE, aBackupSnapshot, aSnapshotClass, aStatefulSet, fakeDeps } from '@pgbackup/core/testing';
import type { Logger } from '../logger.js';

/** One StatefulSet `db/pg` (pod pg-0, volume data-pg-0) on fake ports; the storage cuts only when told. */
export function world(options: { storage?: 'never' | 'cut' | 'ready' } = {}): FakeDeps {
  const deps = fakeDeps({
    now: '2026-06-01T12:00:00Z',
    statefulSets: [aStatefulSet()],
    classes: [aSnapshotClass({ name: 'fast-snap', isDefault: true })],
    storage: options.storage ?? 'never',
  });
  deps.database.primary(TEST_NAMESPACE, 'pg-0');
  return deps;
}

/** Completed backups `pg-202605DD020000-aaaa`, one per day from May 1st, oldest first. */
export function seedBackups(deps: FakeDeps, days: number): string[] {
  const ids: string[] = [];
  for (let d = 1; d <= days; d++) {
    const id = `pg-202605${String(d).padStart(2, '0')}020000-aaaa`;
    const startedAt = new Date(Date.UTC(2026, 4, d, 2)).toISOString();
    deps.snapshots.put(aBackupSnapshot({ id, startedAt }));
    ids.push(id);
  }
  return ids;
}

export interface CapturedLogger extends Logger {
  lines: { level: string; message: string; meta?: unknown }[];
}

export function captureLogger(): CapturedLogger {
  const lines: CapturedLogger['lines'] = [];
  const at = (level: string) => (message: string, meta?: unknown) => {
    lines.push({ level, message, meta });
  };
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

/** The StatefulSet db/pg names `entityRef` back (annotation pgbackup.io/backstage-entity), as its owner would set it. */
export async function linkEntity(deps: FakeDeps, entityRef: string): Promise<void> {
  const sts = await deps.workloads.getStatefulSet(TEST_NAMESPACE, 'pg');
  deps.workloads.set({
    ...sts,
    manifest: {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'pg', namespace: TEST_NAMESPACE, annotations: { [Annotations.backstageEntity]: entityRef } },
    },
  });
}
