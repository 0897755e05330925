import { createApiRef } from '@backstage/core-plugin-api';
import type { BackupResource, Problem, StatefulSetStatusResource } from '@pgbackup/core/isomorphic';

/** A catalog entity, as the API addresses it: `/entity/:kind/:namespace/:name`. */
export interface EntityKey {
  kind: string;
  namespace: string;
  name: string;
}

/** The StatefulSet an entity's annotations point at. */
export interface StatefulSetRef {
  name: string;
  namespace: string;
  cluster?: string;
}

/** What the API could not read, while the rest still shows (say, the StatefulSet was deleted). */
export interface PartError {
  part: 'statefulset' | 'backups' | (string & {});
  status: number;
  detail: string;
}

/** Everything the tab and the card show for one entity, in one answer. */
export interface EntityBackups {
  namespace: string;
  statefulSet: string;
  cluster?: string;
  status?: StatefulSetStatusResource;
  /** Newest first. */
  backups: BackupResource[];
  errors: PartError[];
}

export interface PgBackupApi {
  /** The StatefulSet status and the backups of the StatefulSet the entity's annotations name. */
  getEntityBackups(entity: EntityKey, target: StatefulSetRef): Promise<EntityBackups>;
  /** One backup with its snapshots. */
  getBackup(id: string, target: StatefulSetRef): Promise<BackupResource>;
  /** Starts a manual backup of the entity's StatefulSet; resolves once it is accepted (202, in progress). */
  createBackup(entity: EntityKey, target: StatefulSetRef): Promise<BackupResource>;
}

export const pgBackupApiRef = createApiRef<PgBackupApi>({ id: 'plugin.pgbackup.client' });

/** An error answer of the API, with its problem details (RFC 9457) when the body had them. */
export class PgBackupApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'PgBackupApiError';
  }

  /**
   * What to do next, when the server said, in the portal's words: the server's hint text, else the
   * request fields it names (the portal has no flags; its one write is "Back up now").
   */
  get hint(): string | undefined {
    const p = this.problem;
    if (p?.hint) return p.hint;
    const fields = p?.options?.map((o) =>
      o.omit ? `without ${o.option}` : `with ${o.option}${typeof o.value === 'string' ? ` "${o.value}"` : ''}`,
    );
    return fields?.length ? `retry ${fields.join(' or ')}` : undefined;
  }
}
