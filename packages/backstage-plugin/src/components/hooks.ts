import { useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import { usePermission } from '@backstage/plugin-permission-react';
import type { BackupResource } from '@pgbackup/core/isomorphic';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { entityKeyOf, entityRefOf, isPgBackupAvailable, statefulSetOf } from '../annotations.js';
import { PgBackupApiError, pgBackupApiRef, type EntityBackups, type EntityKey, type StatefulSetRef } from '../api/types.js';
import { pgbackupCreatePermission } from '@pgbackup/core/permissions';

export interface AsyncState<T> {
  loading: boolean;
  error?: Error;
  value?: T;
  retry: () => void;
}

/** Loads once per `deps` change; `retry` reloads, keeping the old value visible meanwhile. */
export function useLoad<T>(load: (() => Promise<T>) | undefined, deps: unknown[]): AsyncState<T> {
  const [state, setState] = useState<Omit<AsyncState<T>, 'retry'>>({ loading: load !== undefined });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (!load) return undefined;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (value) => live && setState({ loading: false, value }),
      (error: Error) => live && setState((s) => ({ loading: false, error, value: s.value })),
    );
    return () => {
      live = false;
    };
  }, [...deps, attempt]);
  const retry = useCallback(() => setAttempt((a) => a + 1), []);
  return { ...state, retry };
}

export interface PgBackupEntity {
  available: boolean;
  key: EntityKey;
  entityRef: string;
  target?: StatefulSetRef;
}

export function usePgBackupEntity(): PgBackupEntity & { entity: ReturnType<typeof useEntity>['entity'] } {
  const { entity } = useEntity();
  return useMemo(
    () => ({
      entity,
      available: isPgBackupAvailable(entity),
      key: entityKeyOf(entity),
      entityRef: entityRefOf(entity),
      target: statefulSetOf(entity),
    }),
    [entity],
  );
}

export function useEntityBackups(key: EntityKey, target: StatefulSetRef | undefined) {
  const api = useApi(pgBackupApiRef);
  return useLoad(target ? () => api.getEntityBackups(key, target) : undefined, [
    api,
    key.kind,
    key.namespace,
    key.name,
    target?.name,
    target?.namespace,
    target?.cluster,
  ]);
}

/** A part the API could not read, as an error the panels render. */
export function partError(data: EntityBackups | undefined, part: string): PgBackupApiError | undefined {
  const e = data?.errors.find((x) => x.part === part);
  return e ? new PgBackupApiError(e.status, undefined, e.detail) : undefined;
}

export function useCanCreateBackup(entityRef: string) {
  return usePermission({ permission: pgbackupCreatePermission, resourceRef: entityRef });
}

export type BackupNowState =
  | { phase: 'idle' }
  | { phase: 'starting' }
  | { phase: 'running'; backup: BackupResource }
  | { phase: 'done'; backup: BackupResource }
  | { phase: 'error'; error: Error; backup?: BackupResource };

/** "Back up now": start a backup, then follow it until it completes or fails. */
export function useBackupNow(
  key: EntityKey,
  target: StatefulSetRef | undefined,
  options: { pollIntervalMs: number; onSettled: () => void },
) {
  const api = useApi(pgBackupApiRef);
  const [state, setState] = useState<BackupNowState>({ phase: 'idle' });
  const live = useRef(true);
  const onSettled = useRef(options.onSettled);
  onSettled.current = options.onSettled;
  useEffect(() => {
    live.current = true;
    return () => {
      live.current = false;
    };
  }, []);

  const start = useCallback(async () => {
    if (!target) return;
    setState({ phase: 'starting' });
    let backup: BackupResource;
    try {
      backup = await api.createBackup(key, target);
    } catch (error) {
      if (live.current) setState({ phase: 'error', error: error as Error });
      return;
    }
    onSettled.current(); // the new backup shows up in the table at once
    while (live.current && backup.status === 'in_progress') {
      if (live.current) setState({ phase: 'running', backup });
      await new Promise((r) => setTimeout(r, options.pollIntervalMs));
      if (!live.current) return;
      try {
        backup = await api.getBackup(backup.id, { ...target, namespace: backup.namespace });
      } catch (error) {
        if (live.current) setState({ phase: 'error', error: error as Error, backup });
        return;
      }
    }
    if (!live.current) return;
    setState({ phase: 'done', backup });
    onSettled.current();
  }, [api, key, target, options.pollIntervalMs]);

  return { state, start };
}
