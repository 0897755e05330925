/** Sample entities, backups and statuses for tests and the dev page's fixture pages. */
import type { Entity } from '@backstage/catalog-model';
import {
  type Backup,
  type BackupResource,
  EntityAnnotations,
  type Problem,
  type StatefulSetStatusResource,
  toBackupResource,
} from '@pgbackup/core/isomorphic';
import {
  PgBackupApiError,
  type EntityBackups,
  type EntityKey,
  type PartError,
  type PgBackupApi,
  type StatefulSetRef,
} from '../api/types.js';

const HOUR = 3600_000;
export const iso = (msAgo: number, now = Date.now()) => new Date(now - msAgo).toISOString();

export const entity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'orders',
    namespace: 'default',
    annotations: {
      [EntityAnnotations.kubernetesNamespace]: 'shop',
      [EntityAnnotations.statefulSet]: 'orders-db',
    },
  },
  spec: { type: 'service', lifecycle: 'production', owner: 'team-orders' },
};

export const entityWithoutAnnotations: Entity = {
  ...entity,
  metadata: { name: 'billing', namespace: 'default', annotations: { [EntityAnnotations.kubernetesNamespace]: 'billing' } },
};

/** A backup as the API returns it: built as core's domain Backup, then mapped by core's own toBackupResource. */
export function backup(overrides: Partial<Backup> & { id: string }, now = Date.now()): BackupResource {
  const startedAt = overrides.startedAt ?? iso(2 * HOUR, now);
  const status = overrides.status ?? 'completed';
  const base: Backup = {
    namespace: 'shop',
    statefulSet: 'orders-db',
    type: 'scheduled',
    method: 'checkpoint-snapshot',
    status,
    phase: status === 'failed' ? 'failed' : 'cut',
    volumes: 1,
    snapshots: [
      {
        name: `${overrides.id}-data-orders-db-0`,
        namespace: 'shop',
        pvc: 'data-orders-db-0',
        labels: {},
        annotations: {},
        createdAt: startedAt,
        readyToUse: status === 'completed',
        cutAt: startedAt,
        restoreSize: 1_610_612_736,
        className: 'pgbackup-csi',
      },
    ],
    startedAt,
    cutAt: startedAt,
    size: 1_610_612_736,
    pod: 'orders-db-0',
    lsn: '0/3000028',
    pgVersion: '15.8',
    pinned: false,
    ...overrides,
  };
  return toBackupResource(base);
}

export const healthyBackups = (now = Date.now()): BackupResource[] => [
  backup(
    {
      id: 'orders-db-20261125t020000z',
      startedAt: iso(2 * HOUR, now),
      verification: { result: 'passed', at: iso(1 * HOUR, now), restoreSeconds: 42 },
    },
    now,
  ),
  backup({ id: 'orders-db-20261124t020000z', startedAt: iso(26 * HOUR, now), pinned: true }, now),
  backup({ id: 'orders-db-20261123t091500z', type: 'manual', startedAt: iso(43 * HOUR, now), size: 524_288_000 }, now),
];

export const failedBackup = (now = Date.now()) =>
  backup(
    {
      id: 'orders-db-20261125t030000z',
      type: 'manual',
      status: 'failed',
      startedAt: iso(HOUR / 2, now),
      error: 'VolumeSnapshot orders-db-20261125t030000z-data-orders-db-0: Failed to check and update snapshot content: storage is full',
      size: undefined,
      snapshots: [
        {
          name: 'orders-db-20261125t030000z-data-orders-db-0',
          namespace: 'shop',
          pvc: 'data-orders-db-0',
          labels: {},
          annotations: {},
          createdAt: iso(HOUR / 2, now),
          readyToUse: false,
          error: 'Failed to check and update snapshot content: storage is full',
        },
      ],
    },
    now,
  );

export function status(overrides: Partial<StatefulSetStatusResource> = {}, now = Date.now()): StatefulSetStatusResource {
  const newest = healthyBackups(now)[0];
  return {
    name: 'orders-db',
    namespace: 'shop',
    replicas: 1,
    readyReplicas: 1,
    currentReplicas: 1,
    updatedReplicas: 1,
    pods: [
      {
        name: 'orders-db-0',
        ordinal: 0,
        phase: 'Running',
        ready: true,
        pvcs: [{ name: 'data-orders-db-0', phase: 'Bound', capacityBytes: 10_737_418_240 }],
      },
    ],
    newestBackup: newest,
    newestCompletedBackup: newest,
    schedule: { cron: '0 2 * * *', timeZone: 'UTC' },
    freshness: { state: 'ok', newestCompletedAt: newest!.cutAt, rpoSeconds: 86400, nextRunAt: new Date(now + 22 * HOUR).toISOString() },
    ...overrides,
  };
}

export const lateStatus = (now = Date.now()) =>
  status(
    {
      newestBackup: healthyBackups(now)[1],
      newestCompletedBackup: healthyBackups(now)[1],
      freshness: {
        state: 'late',
        newestCompletedAt: iso(26 * HOUR, now),
        expectedSince: iso(2 * HOUR, now),
        rpoSeconds: 86400,
        lateBySeconds: 7200,
        nextRunAt: new Date(now + 22 * HOUR).toISOString(),
      },
    },
    now,
  );

export const missingStatus = (now = Date.now()) =>
  status(
    {
      newestBackup: undefined,
      newestCompletedBackup: undefined,
      freshness: { state: 'missing', nextRunAt: new Date(now + 22 * HOUR).toISOString() },
    },
    now,
  );

/** Manual backups only: no CronJob, so no freshness and no next run. */
export const unscheduledStatus = (now = Date.now()) => status({ schedule: undefined, freshness: undefined }, now);

export const problem = (status: number, title: string, detail: string, hint?: string): PgBackupApiError => {
  const p: Problem = { type: 'about:blank', title, status, detail, ...(hint ? { hint } : {}) };
  return new PgBackupApiError(status, p, detail);
};

/** An in-memory PgBackupApi; "Back up now" completes (or fails) after `completeAfterPolls` polls. */
export class FakePgBackupApi implements PgBackupApi {
  backups: BackupResource[];
  /** The StatefulSet part: a value, a part error, or never answering. */
  statusValue: StatefulSetStatusResource | Error | 'pending';
  /** The backups part fails alone. */
  listError?: Error;
  /** The whole request fails (e.g. 403 or the API unreachable). */
  error?: Error;
  createError?: Error;
  completeAfterPolls = 1;
  createdStatus: 'completed' | 'failed' = 'completed';
  calls: string[] = [];
  private polls = 0;

  constructor(
    options: {
      backups?: BackupResource[];
      status?: StatefulSetStatusResource | Error | 'pending';
      listError?: Error;
      error?: Error;
      createError?: Error;
    } = {},
  ) {
    this.backups = options.backups ?? healthyBackups();
    this.statusValue = options.status ?? status();
    this.listError = options.listError;
    this.error = options.error;
    this.createError = options.createError;
  }

  async getEntityBackups(e: EntityKey, t: StatefulSetRef): Promise<EntityBackups> {
    this.calls.push(`entity ${e.kind}:${e.namespace}/${e.name}`);
    if (this.error) throw this.error;
    if (this.statusValue === 'pending') return new Promise(() => {});
    const errors: PartError[] = [];
    const asPart = (part: string, err: Error) =>
      errors.push({ part, status: err instanceof PgBackupApiError ? err.status : 500, detail: err.message });
    if (this.statusValue instanceof Error) asPart('statefulset', this.statusValue);
    if (this.listError) asPart('backups', this.listError);
    const statusValue =
      this.statusValue instanceof Error
        ? undefined
        : { ...this.statusValue, newestBackup: this.backups[0] ?? this.statusValue.newestBackup };
    return {
      namespace: t.namespace,
      statefulSet: t.name,
      status: statusValue,
      backups: this.listError ? [] : [...this.backups],
      errors,
    };
  }

  async getBackup(id: string, _target: StatefulSetRef): Promise<BackupResource> {
    this.calls.push(`get ${id}`);
    const i = this.backups.findIndex((b) => b.id === id);
    if (i < 0) throw problem(404, 'Not Found', `backup ${id} not found in namespace shop`);
    const b = this.backups[i]!;
    if (b.status === 'in_progress' && ++this.polls >= this.completeAfterPolls) {
      const done: BackupResource =
        this.createdStatus === 'completed'
          ? {
              ...b,
              status: 'completed',
              phase: 'cut',
              size: 1_610_612_736,
              snapshots: b.snapshots.map((s) => ({ ...s, readyToUse: true })),
            }
          : { ...b, status: 'failed', phase: 'failed', error: 'VolumeSnapshot failed: storage is full' };
      this.backups[i] = done;
      return done;
    }
    return b;
  }

  async createBackup(_e: EntityKey, _t: StatefulSetRef): Promise<BackupResource> {
    this.calls.push('create');
    if (this.createError) throw this.createError;
    const now = Date.now();
    const id = `orders-db-${new Date(now)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'z')
      .toLowerCase()}`;
    const b = backup(
      { id, type: 'manual', status: 'in_progress', phase: 'cut', startedAt: new Date(now).toISOString(), size: undefined },
      now,
    );
    this.polls = 0;
    this.backups.unshift(b);
    return b;
  }
}

/** An entity of the fleet: its StatefulSet `<name>-db` in `namespace`. */
export const fleetEntity = (name: string, owner: string, namespace: string, cluster?: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name,
    namespace: 'default',
    annotations: {
      [EntityAnnotations.kubernetesNamespace]: namespace,
      [EntityAnnotations.statefulSet]: `${name}-db`,
      ...(cluster ? { [EntityAnnotations.cluster]: cluster } : {}),
    },
  },
  spec: { type: 'service', lifecycle: 'production', owner },
});

/** A PgBackupApi for many entities: each entity's answers come from its own FakePgBackupApi, by name. */
export class FakeFleetApi implements PgBackupApi {
  constructor(private readonly byName: Record<string, FakePgBackupApi>) {}

  getEntityBackups(e: EntityKey, t: StatefulSetRef): Promise<EntityBackups> {
    const api = this.byName[e.name];
    return api ? api.getEntityBackups(e, t) : Promise.reject(problem(404, 'Not Found', `no entity ${e.name}`));
  }

  getBackup(id: string): Promise<BackupResource> {
    return Promise.reject(problem(404, 'Not Found', `backup ${id} not found`));
  }

  createBackup(): Promise<BackupResource> {
    return Promise.reject(problem(405, 'Method Not Allowed', 'the fleet fixture takes no backup'));
  }
}

/** A fleet with one database in each state, and one the reader may not see. */
export function fleet() {
  const entities = [
    fleetEntity('orders', 'team-orders', 'shop'),
    fleetEntity('billing', 'team-billing', 'finance', 'eu'),
    fleetEntity('ledger', 'team-billing', 'finance', 'eu'),
    fleetEntity('audit', 'team-security', 'security'),
    fleetEntity('secret', 'team-security', 'security'),
  ];
  const api = new FakeFleetApi({
    orders: new FakePgBackupApi(),
    billing: new FakePgBackupApi({ status: lateStatus() }),
    ledger: new FakePgBackupApi({ backups: [failedBackup(), ...healthyBackups()] }),
    audit: new FakePgBackupApi({ error: problem(503, 'Service Unavailable', 'the Kubernetes API of cluster "default" did not answer') }),
    secret: new FakePgBackupApi({
      error: problem(403, 'Forbidden', 'user:default/guest may not read the backups of component:default/secret'),
    }),
  });
  return { entities, api };
}
