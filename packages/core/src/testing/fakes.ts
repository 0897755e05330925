/**
 * In-memory fakes of core's ports, for unit tests of core and of the packages built on it.
 * No jest here: plain classes that record what was done to them, so any test runner can use them.
 */
import type { Deps } from '../application/deps.js';
import { Annotations, EVENT_REPORTING_CONTROLLER, Labels } from '../contract.js';
import type { SnapshotInfo } from '../domain/backup.js';
import { type BackupEvent, EVENT_REASONS, type RecordedEvent } from '../domain/events.js';
import { conflict, inconsistent, notFound, unavailable } from '../errors.js';
import { labelsMatch } from '../domain/labelSelector.js';
import type {
  ClaimBinding,
  ApiSupport,
  ScheduledBackup,
  SnapshotClassInfo,
  SnapshotContentInfo,
  KubernetesObject,
  ExistingObject,
  Leftovers,
  ObjectRef,
  StatefulSetInfo,
} from '../domain/readModels.js';
import type {
  GroupSnapshotStore,
  NewGroupSnapshot,
  BackupLock,
  HeldLock,
  QueryOptions,
  Clock,
  DatabaseConnector,
  DatabaseSession,
  Discovery,
  EventRecorder,
  NewSnapshot,
  ScheduleStore,
  ServerDryRun,
  SnapshotQuery,
  SnapshotStore,
  WorkloadReader,
  WorkloadWriter,
} from '../ports.js';

/** An ordered record of what the fakes were asked to do, shared to assert ordering across ports. */
export type Journal = string[];

const clone = <T>(value: T): T => structuredClone(value);

/** A clock that only moves when told to. */
export class FakeClock implements Clock {
  private current: number;

  constructor(now: Date | string = '2026-06-01T12:00:00Z') {
    this.current = new Date(now).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  set(now: Date | string): void {
    this.current = new Date(now).getTime();
  }

  advance(seconds: number): void {
    this.current += seconds * 1000;
  }
}

/** What the fake storage does with a new snapshot: nothing, cut it, or cut it and make it ready. */
export type FakeStorageBehaviour = 'never' | 'cut' | 'ready';

export interface FakeSnapshotStoreOptions {
  clock?: Clock;
  classes?: SnapshotClassInfo[];
  /** Default `ready`: right after create, the storage cuts the snapshot and it becomes readyToUse. */
  storage?: FakeStorageBehaviour;
  /** restoreSize given to snapshots the storage makes ready. */
  restoreSize?: number;
  journal?: Journal;
}

type StoreOperation = 'list' | 'create' | 'annotate' | 'delete' | 'watch' | 'listClasses';

/**
 * VolumeSnapshots in memory. `watch` calls `onChange` with the current matching snapshots, then
 * again after every mutation (put, update, create, annotate, delete), like a Kubernetes watch.
 */
export class FakeSnapshotStore implements SnapshotStore {
  readonly classes: SnapshotClassInfo[];
  readonly journal: Journal;
  storage: FakeStorageBehaviour;
  restoreSize: number;
  /** Make an operation reject with this error (until removed). */
  readonly failures: Partial<Record<StoreOperation, Error>> = {};
  private readonly items = new Map<string, SnapshotInfo>();
  private readonly watchers = new Set<() => void>();
  private readonly clock: Clock;

  constructor(options: FakeSnapshotStoreOptions = {}) {
    this.clock = options.clock ?? new FakeClock();
    this.classes = options.classes ?? [];
    this.storage = options.storage ?? 'ready';
    this.restoreSize = options.restoreSize ?? 1024 ** 3;
    this.journal = options.journal ?? [];
  }

  /** Adds or replaces snapshots (seeding a test, or playing the snapshot controller). */
  put(...snapshots: SnapshotInfo[]): void {
    for (const s of snapshots) this.items.set(key(s.namespace, s.name), clone(s));
    this.notify();
  }

  /** Changes fields of one snapshot as the snapshot controller would. */
  update(namespace: string, name: string, patch: Partial<SnapshotInfo>): void {
    const s = this.items.get(key(namespace, name));
    if (!s) throw new Error(`FakeSnapshotStore: no snapshot ${namespace}/${name}`);
    this.items.set(key(namespace, name), { ...s, ...clone(patch) });
    this.notify();
  }

  /** The storage cuts the snapshot (status.creationTime) and, with `ready`, makes it usable. */
  cut(namespace: string, name: string, options: { at?: string; ready?: boolean; restoreSize?: number } = {}): void {
    this.update(namespace, name, {
      cutAt: options.at ?? this.clock.now().toISOString(),
      contentName: `content-${name}`,
      ...(options.ready === false ? {} : { readyToUse: true, restoreSize: options.restoreSize ?? this.restoreSize }),
    });
  }

  get(namespace: string, name: string): SnapshotInfo | undefined {
    const s = this.items.get(key(namespace, name));
    return s && clone(s);
  }

  all(): SnapshotInfo[] {
    return [...this.items.values()].map(clone);
  }

  /** Number of watches still open (a finished use case leaves none). */
  get openWatches(): number {
    return this.watchers.size;
  }

  async list(query: SnapshotQuery): Promise<SnapshotInfo[]> {
    this.fail('list');
    return this.matching(query);
  }

  async create(snapshot: NewSnapshot): Promise<SnapshotInfo> {
    this.fail('create');
    if (this.items.has(key(snapshot.namespace, snapshot.name)))
      throw conflict(`VolumeSnapshot ${snapshot.namespace}/${snapshot.name} already exists`);
    const created: SnapshotInfo = {
      name: snapshot.name,
      namespace: snapshot.namespace,
      pvc: snapshot.pvc,
      createdAt: this.clock.now().toISOString(),
      readyToUse: false,
      className: snapshot.className,
      labels: clone(snapshot.labels),
      annotations: clone(snapshot.annotations),
    };
    this.journal.push(`snapshots.create ${snapshot.namespace}/${snapshot.name}`);
    this.items.set(key(created.namespace, created.name), created);
    this.notify();
    if (this.storage !== 'never')
      queueMicrotask(() => {
        if (this.items.has(key(created.namespace, created.name)))
          this.cut(created.namespace, created.name, { ready: this.storage === 'ready' });
      });
    return clone(created);
  }

  async annotate(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void> {
    this.fail('annotate');
    const s = this.items.get(key(namespace, name));
    if (!s) throw notFound(`VolumeSnapshot ${namespace}/${name} not found`);
    const next = { ...s.annotations };
    for (const [k, v] of Object.entries(annotations)) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
    this.journal.push(`snapshots.annotate ${namespace}/${name} ${JSON.stringify(annotations)}`);
    this.items.set(key(namespace, name), { ...s, annotations: next });
    this.notify();
  }

  async adopt(namespace: string, name: string, labels: Record<string, string>, annotations: Record<string, string>): Promise<void> {
    const s = this.items.get(key(namespace, name));
    if (!s) throw notFound(`VolumeSnapshot ${namespace}/${name} not found`);
    this.journal.push(`snapshots.adopt ${namespace}/${name}`);
    this.items.set(key(namespace, name), { ...s, labels: { ...s.labels, ...labels }, annotations: { ...s.annotations, ...annotations } });
    this.notify();
  }

  async delete(namespace: string, name: string): Promise<void> {
    this.fail('delete');
    if (!this.items.delete(key(namespace, name))) throw notFound(`VolumeSnapshot ${namespace}/${name} not found`);
    this.journal.push(`snapshots.delete ${namespace}/${name}`);
    this.notify();
  }

  watch(query: SnapshotQuery, onChange: (snapshots: SnapshotInfo[]) => boolean, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.fail('watch');
      if (signal.aborted) return reject(signal.reason);
      const stop = () => {
        this.watchers.delete(check);
        signal.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        stop();
        reject(signal.reason);
      };
      const check = () => {
        try {
          if (onChange(this.matching(query))) {
            stop();
            resolve();
          }
        } catch (e) {
          stop();
          reject(e);
        }
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.watchers.add(check);
      check();
    });
  }

  async listClasses(): Promise<SnapshotClassInfo[]> {
    this.fail('listClasses');
    return clone(this.classes);
  }

  /** Cut snapshots have a content (handle `handle-<snapshot>`, the class's driver). */
  async readContent(name: string): Promise<SnapshotContentInfo | undefined> {
    const s = [...this.items.values()].find((i) => i.cutAt && i.contentName === name);
    if (!s) return undefined;
    const driver = this.classes.find((c) => c.name === s.className)?.driver ?? 'pd.csi.example.com';
    return {
      name,
      snapshotNamespace: s.namespace,
      snapshotName: s.name,
      deletionPolicy: 'Delete',
      driver,
      snapshotHandle: `handle-${s.name}`,
      className: s.className,
    };
  }

  private matching(query: SnapshotQuery): SnapshotInfo[] {
    return [...this.items.values()]
      .filter((s) => query.namespace === undefined || s.namespace === query.namespace)
      .filter((s) => labelsMatch(s.labels, query.labelSelector))
      .map(clone);
  }

  private notify(): void {
    for (const check of [...this.watchers]) check();
  }

  private fail(operation: StoreOperation): void {
    const error = this.failures[operation];
    if (error) throw error;
  }
}

const key = (namespace: string, name: string) => `${namespace}/${name}`;

/**
 * VolumeGroupSnapshots over a FakeSnapshotStore: `waitMembers` makes one VolumeSnapshot per claim
 * there (cut as that store's storage behaviour says), as the snapshot controller would.
 */
export class FakeGroupSnapshotStore implements GroupSnapshotStore {
  readonly classes: SnapshotClassInfo[] = [];
  readonly groups = new Map<string, NewGroupSnapshot>();
  /** Claims carrying the selection label now (`ns/claim` → group). */
  readonly labelled = new Map<string, string>();
  /** The group fails (its status.error) with this message. */
  error?: string;

  constructor(
    private readonly snapshots: FakeSnapshotStore,
    private readonly journal: Journal = [],
  ) {}

  async listClasses(): Promise<SnapshotClassInfo[]> {
    return clone(this.classes);
  }

  async create(group: NewGroupSnapshot): Promise<void> {
    for (const claim of group.claims) this.labelled.set(key(group.namespace, claim), group.name);
    this.groups.set(key(group.namespace, group.name), clone(group));
    this.journal.push(`groups.create ${group.namespace}/${group.name} ${group.claims.join(',')}`);
  }

  async waitMembers(namespace: string, name: string): Promise<SnapshotInfo[]> {
    const group = this.groups.get(key(namespace, name));
    if (!group) throw notFound(`VolumeGroupSnapshot ${namespace}/${name} not found`);
    if (this.error) throw inconsistent(`VolumeGroupSnapshot ${name} failed: ${this.error}`);
    return Promise.all(
      group.claims.map((claim) =>
        this.snapshots.create({ namespace, name: `snapshot-${name}-${claim}`, pvc: claim, className: '', labels: {}, annotations: {} }),
      ),
    );
  }

  async releaseClaims(namespace: string, claims: string[]): Promise<void> {
    for (const claim of claims) this.labelled.delete(key(namespace, claim));
  }

  async delete(namespace: string, name: string): Promise<void> {
    if (!this.groups.delete(key(namespace, name))) return;
    this.journal.push(`groups.delete ${namespace}/${name}`);
    for (const s of this.snapshots.all().filter((i) => i.namespace === namespace && i.name.startsWith(`snapshot-${name}-`)))
      await this.snapshots.delete(namespace, s.name);
  }
}

/** StatefulSets (with their pods and PVCs) in memory. */
export class FakeWorkloadReader implements WorkloadReader {
  private readonly items = new Map<string, StatefulSetInfo>();

  constructor(...statefulSets: StatefulSetInfo[]) {
    for (const s of statefulSets) this.set(s);
  }

  set(sts: StatefulSetInfo): void {
    this.items.set(key(sts.namespace, sts.name), clone(sts));
  }

  async getStatefulSet(namespace: string, name: string): Promise<StatefulSetInfo> {
    const sts = this.items.get(key(namespace, name));
    if (!sts)
      throw notFound(
        `StatefulSet "${name}" not found in namespace "${namespace}"`,
        `list them with: kubectl get statefulsets -n ${namespace}`,
      );
    return clone(sts);
  }

  async listStatefulSetNames(namespace: string): Promise<string[]> {
    return [...this.items.values()]
      .filter((s) => s.namespace === namespace)
      .map((s) => s.name)
      .sort();
  }
}

/** How the PostgreSQL of one fake pod answers. */
export interface FakePostgres {
  inRecovery?: boolean;
  lsn?: string;
  version?: string;
  /** `open` rejects with this error (e.g. exec forbidden, pod unreachable). */
  openError?: Error;
  /** Answers a query instead of the built-in answers; return undefined to fall back to them. */
  answer?: (sql: string) => string[][] | undefined;
  /** Sees every query with its options. */
  observe?: (sql: string, options: QueryOptions | undefined) => unknown;
}

/** A session that records its queries and whether it was closed. */
export class FakeSession implements DatabaseSession {
  readonly queries: string[] = [];
  closed = false;

  constructor(
    readonly namespace: string,
    readonly pod: string,
    readonly container: string | undefined,
    private readonly postgres: FakePostgres,
    private readonly journal: Journal,
  ) {}

  async query(sql: string, options?: QueryOptions): Promise<string[][]> {
    if (this.closed) throw new Error(`FakeSession: query on a closed session to ${this.pod}`);
    this.queries.push(sql);
    this.postgres.observe?.(sql, options);
    this.journal.push(`db.query ${this.pod} ${sql}`);
    const custom = this.postgres.answer?.(sql);
    if (custom) return custom;
    const inRecovery = String(this.postgres.inRecovery ?? false);
    if (sql.includes('pg_current_wal_lsn'))
      return [[inRecovery, this.postgres.lsn ?? '0/3000060', this.postgres.version ?? '17.2', this.postgres.lsn ?? '0/3000028']];
    if (sql.includes('pg_is_in_recovery')) return [[inRecovery]];
    return [];
  }

  async close(): Promise<void> {
    this.closed = true;
    this.journal.push(`db.close ${this.pod}`);
  }
}

/** Fake PostgreSQL per pod; every session opened is kept in `sessions`. */
export class FakeDatabaseConnector implements DatabaseConnector {
  readonly sessions: FakeSession[] = [];
  readonly journal: Journal;
  private readonly servers = new Map<string, FakePostgres>();
  /** How pods not declared with `set` answer (undefined: unreachable). */
  fallback?: FakePostgres;

  constructor(journal: Journal = []) {
    this.journal = journal;
  }

  /** Declares how the PostgreSQL in `pod` behaves; pods not declared are unreachable. */
  set(namespace: string, pod: string, postgres: FakePostgres = {}): this {
    this.servers.set(key(namespace, pod), postgres);
    return this;
  }

  primary(namespace: string, pod: string, postgres: Omit<FakePostgres, 'inRecovery'> = {}): this {
    return this.set(namespace, pod, { ...postgres, inRecovery: false });
  }

  standby(namespace: string, pod: string): this {
    return this.set(namespace, pod, { inRecovery: true });
  }

  readonly databases: (string | undefined)[] = [];

  async open(namespace: string, pod: string, container?: string, options?: { database?: string }): Promise<DatabaseSession> {
    const postgres = this.servers.get(key(namespace, pod)) ?? this.fallback;
    this.databases.push(options?.database);
    if (!postgres) throw unavailable(`cannot reach PostgreSQL in pod ${namespace}/${pod}`);
    if (postgres.openError) throw postgres.openError;
    const session = new FakeSession(namespace, pod, container, postgres, this.journal);
    this.sessions.push(session);
    this.journal.push(`db.open ${pod}`);
    return session;
  }

  /** Sessions not closed yet: a finished use case leaves none. */
  get openSessions(): FakeSession[] {
    return this.sessions.filter((s) => !s.closed);
  }
}

export interface FakeLockGrant {
  namespace: string;
  statefulSet: string;
  holder: string;
  ttlSeconds: number;
  released: boolean;
}

/** A per-StatefulSet lock in memory; a second acquire while held is a Conflict naming the holder. */
export class FakeBackupLock implements BackupLock {
  readonly grants: FakeLockGrant[] = [];
  readonly journal: Journal;
  private readonly holders = new Map<string, string>();

  constructor(journal: Journal = []) {
    this.journal = journal;
  }

  /** Makes someone else hold the lock. */
  hold(namespace: string, statefulSet: string, holder: string): void {
    this.holders.set(key(namespace, statefulSet), holder);
  }

  /** Someone else's hold ends. */
  free(namespace: string, statefulSet: string): void {
    this.holders.delete(key(namespace, statefulSet));
  }

  isHeld(namespace: string, statefulSet: string): boolean {
    return this.holders.has(key(namespace, statefulSet));
  }

  private readonly losses = new Map<string, AbortController>();

  /** The current holder loses the lock (renewal failed, or someone took it): its `lost` signal aborts with `reason`. */
  lose(namespace: string, statefulSet: string, reason: Error): void {
    this.losses.get(key(namespace, statefulSet))?.abort(reason);
  }

  async acquire(namespace: string, statefulSet: string, holder: string, ttlSeconds: number): Promise<HeldLock> {
    const k = key(namespace, statefulSet);
    const current = this.holders.get(k);
    if (current !== undefined)
      throw conflict(
        `a backup of StatefulSet ${namespace}/${statefulSet} is already running (held by ${current})`,
        'wait for it to finish, then retry',
      );
    this.holders.set(k, holder);
    const grant: FakeLockGrant = { namespace, statefulSet, holder, ttlSeconds, released: false };
    this.grants.push(grant);
    this.journal.push(`lock.acquire ${k}`);
    const lost = new AbortController();
    this.losses.set(k, lost);
    return {
      lost: lost.signal,
      release: async () => {
        if (grant.released) return;
        grant.released = true;
        if (this.holders.get(k) === holder) this.holders.delete(k);
        this.journal.push(`lock.release ${k}`);
      },
    };
  }
}

export class FakeScheduleStore implements ScheduleStore {
  private readonly items = new Map<string, ScheduledBackup>();

  set(scheduled: ScheduledBackup): void {
    this.items.set(key(scheduled.namespace, scheduled.statefulSet), clone(scheduled));
  }

  async get(namespace: string, statefulSet: string): Promise<ScheduledBackup | undefined> {
    const s = this.items.get(key(namespace, statefulSet));
    return s && clone(s);
  }
}

/** Keeps every event recorded, in order; `recent` answers them aggregated like the API server would hold them. */
export class FakeEventRecorder implements EventRecorder {
  readonly recorded: (BackupEvent & { at: string })[] = [];

  constructor(private readonly clock: Clock) {}

  async record(event: BackupEvent): Promise<void> {
    this.recorded.push({ ...clone(event), at: this.clock.now().toISOString() });
  }

  async recent(namespace: string, statefulSet: string, limit: number): Promise<RecordedEvent[]> {
    return this.recorded
      .filter((e) => e.namespace === namespace && e.statefulSet === statefulSet)
      .map((e) => ({
        reason: e.reason,
        type: EVENT_REASONS[e.reason].type,
        note: e.note,
        count: 1,
        firstAt: e.at,
        lastAt: e.at,
        reportingController: EVENT_REPORTING_CONTROLLER,
      }))
      .reverse()
      .slice(0, limit);
  }

  /** The reasons recorded so far, in order. */
  reasons(): string[] {
    return this.recorded.map((e) => e.reason);
  }
}

export class FakeDiscovery implements Discovery {
  constructor(public support: ApiSupport = { snapshotVersions: ['v1'], groupSnapshotVersions: [] }) {}

  async apiSupport(): Promise<ApiSupport> {
    return clone(this.support);
  }
}

const refKey = (r: ObjectRef) => `${r.kind}/${r.namespace}/${r.name}`;

/** StatefulSets and PVCs written by restores, in memory; a StatefulSet is ready as soon as it exists. */
export class FakeWorkloadWriter implements WorkloadWriter {
  readonly objects = new Map<string, KubernetesObject>();
  readonly journal: Journal;
  /** Make an operation reject with this error (until removed). */
  readonly failures: Partial<Record<'read' | 'create' | 'delete' | 'waitReady' | 'scale', Error>> = {};
  /** Fail `create` of this kind (after the ones before it succeeded). */
  failCreateOf?: string;
  /** PersistentVolumes: bound claim (`ns/name`, none once released) and what they hold (snapshot name or seeded content). */
  readonly volumes = new Map<string, { reclaimPolicy: string; claim?: string; content: string; annotations: Record<string, string> }>();
  private volumeCount = 0;

  constructor(journal: Journal = []) {
    this.journal = journal;
  }

  /** Seeds a source StatefulSet manifest. */
  put(object: KubernetesObject): void {
    this.objects.set(
      refKey({ kind: object.kind as ObjectRef['kind'], namespace: object.metadata.namespace ?? '', name: object.metadata.name }),
      clone(object),
    );
  }

  get(kind: ObjectRef['kind'], namespace: string, name: string): KubernetesObject | undefined {
    const o = this.objects.get(refKey({ kind, namespace, name }));
    return o && clone(o);
  }

  async readStatefulSet(namespace: string, name: string): Promise<KubernetesObject> {
    if (this.failures.read) throw this.failures.read;
    const o = this.get('StatefulSet', namespace, name);
    if (!o) throw notFound(`StatefulSet "${name}" not found in namespace "${namespace}"`);
    return o;
  }

  async existing(refs: ObjectRef[]): Promise<ExistingObject[]> {
    return refs.flatMap((r) => {
      const o = this.objects.get(refKey(r));
      return o ? [{ ...r, restoredFrom: (o.metadata.labels as Record<string, string> | undefined)?.[Labels.restoredFrom] }] : [];
    });
  }

  async create(object: KubernetesObject): Promise<void> {
    if (this.failures.create || this.failCreateOf === object.kind)
      throw this.failures.create ?? unavailable(`injected failure creating ${object.kind}`);
    const ref = { kind: object.kind as ObjectRef['kind'], namespace: object.metadata.namespace ?? '', name: object.metadata.name };
    if (this.objects.has(refKey(ref))) throw conflict(`${object.kind} ${ref.namespace}/${ref.name} already exists`);
    const stored = clone(object);
    if (object.kind === 'PersistentVolumeClaim') this.bind(stored);
    this.objects.set(refKey(ref), stored);
    this.journal.push(`workloads.create ${object.kind} ${ref.namespace}/${ref.name}`);
  }

  async delete(ref: ObjectRef): Promise<void> {
    if (this.failures.delete) throw this.failures.delete;
    const volume =
      ref.kind === 'PersistentVolumeClaim'
        ? (this.objects.get(refKey(ref))?.spec as { volumeName?: string } | undefined)?.volumeName
        : undefined;
    if (this.objects.delete(refKey(ref))) this.journal.push(`workloads.delete ${ref.kind} ${ref.namespace}/${ref.name}`);
    // As the PV controller does: a released volume is deleted unless its policy is Retain.
    if (volume && this.volumes.get(volume)?.reclaimPolicy !== 'Retain') this.volumes.delete(volume);
  }

  async waitReady(namespace: string, statefulSet: string, _replicas?: number, _options?: { signal?: AbortSignal }): Promise<void> {
    if (this.failures.waitReady) throw this.failures.waitReady;
    if (!this.objects.has(refKey({ kind: 'StatefulSet', namespace, name: statefulSet })))
      throw notFound(`StatefulSet ${namespace}/${statefulSet} not found`);
    this.journal.push(`workloads.ready ${namespace}/${statefulSet}`);
  }

  async readClaim(namespace: string, name: string): Promise<ClaimBinding | undefined> {
    const claim = this.get('PersistentVolumeClaim', namespace, name);
    if (!claim) return undefined;
    const volume = (claim.spec as { volumeName?: string } | undefined)?.volumeName;
    return { claim, volume, reclaimPolicy: volume ? this.volumes.get(volume)?.reclaimPolicy : undefined };
  }

  async scale(namespace: string, statefulSet: string, replicas: number): Promise<number> {
    if (this.failures.scale) throw this.failures.scale;
    const sts = this.objects.get(refKey({ kind: 'StatefulSet', namespace, name: statefulSet }));
    if (!sts) throw notFound(`StatefulSet ${namespace}/${statefulSet} not found`);
    const spec = (sts.spec ?? {}) as { replicas?: number };
    const before = spec.replicas ?? 1;
    sts.spec = { ...spec, replicas };
    this.journal.push(`workloads.scale ${namespace}/${statefulSet} ${replicas}`);
    return before;
  }

  async annotateStatefulSet(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void> {
    const sts = this.objects.get(refKey({ kind: 'StatefulSet', namespace, name }));
    if (!sts) throw notFound(`StatefulSet ${namespace}/${name} not found`);
    sts.metadata.annotations = mergeAnnotations(sts.metadata.annotations as Record<string, string> | undefined, annotations);
  }

  async setReclaimPolicy(volume: string, policy: string, annotations: Record<string, string | null> = {}): Promise<void> {
    const pv = this.volumes.get(volume);
    if (!pv) throw notFound(`PersistentVolume ${volume} not found`);
    pv.reclaimPolicy = policy;
    pv.annotations = mergeAnnotations(pv.annotations, annotations);
    this.journal.push(`workloads.reclaim ${volume} ${policy}`);
  }

  async releaseVolume(volume: string): Promise<void> {
    const pv = this.volumes.get(volume);
    if (!pv) throw notFound(`PersistentVolume ${volume} not found`);
    pv.claim = undefined;
  }

  /** Listing PersistentVolumes is refused with this error (no RBAC for it). */
  volumesForbidden?: Error;

  async leftovers(namespace: string): Promise<Leftovers> {
    const here = [...this.objects.values()].filter((o) => o.metadata.namespace === namespace);
    const labels = (o: KubernetesObject) => (o.metadata.labels ?? {}) as Record<string, string>;
    const annotations = (o: KubernetesObject) => (o.metadata.annotations ?? {}) as Record<string, string>;
    return {
      inPlaceRestores: here
        .filter((o) => o.kind === 'StatefulSet' && annotations(o)[Annotations.inPlaceRestore])
        .map((o) => ({
          statefulSet: o.metadata.name,
          replicas: (o.spec as { replicas?: number } | undefined)?.replicas ?? 1,
          record: annotations(o)[Annotations.inPlaceRestore]!,
        })),
      scratch: here
        .filter((o) => labels(o)[Labels.scratch])
        .map((o) => ({
          kind: o.kind as ObjectRef['kind'],
          namespace,
          name: o.metadata.name,
          ...(labels(o)[Labels.restoredFrom] ? { restoredFrom: labels(o)[Labels.restoredFrom] } : {}),
        })),
      ...(this.volumesForbidden
        ? { keptVolumesProblem: this.volumesForbidden.message }
        : {
            keptVolumes: [...this.volumes]
              .filter(([, pv]) => pv.annotations[Annotations.keptForClaim]?.startsWith(`${namespace}/`))
              .map(([name, pv]) => ({
                name,
                claim: pv.annotations[Annotations.keptForClaim]!,
                reclaimPolicy: pv.reclaimPolicy,
                keptReclaimPolicy: pv.annotations[Annotations.keptReclaimPolicy],
                phase: pv.claim ? 'Bound' : 'Released',
              })),
          }),
    };
  }

  /** Binds a claim to a volume (a new one unless the claim names one, which must be free). */
  private bind(claim: KubernetesObject): void {
    const spec = (claim.spec ??= {}) as { volumeName?: string; dataSource?: { name: string } };
    const key = `${claim.metadata.namespace}/${claim.metadata.name}`;
    if (spec.volumeName) {
      const pv = this.volumes.get(spec.volumeName);
      if (!pv || pv.claim) throw conflict(`PersistentVolume ${spec.volumeName} is not available`);
      pv.claim = key;
      return;
    }
    spec.volumeName = `pv-${++this.volumeCount}`;
    this.volumes.set(spec.volumeName, { reclaimPolicy: 'Delete', claim: key, content: spec.dataSource?.name ?? 'empty', annotations: {} });
  }
}

/** The API server's dry run: records each request and answers the object back, or refuses it as `refuse` says. */
export class FakeServerDryRun implements ServerDryRun {
  /** `create kind/name`, `apply kind/name`, `delete kind/name`, in order. */
  readonly requests: string[] = [];
  /** Refuse a request for an object with this error (e.g. the API server's validation). */
  refuse?: (object: KubernetesObject) => Error | undefined;

  private answer(verb: string, object: KubernetesObject): KubernetesObject {
    this.requests.push(`${verb} ${object.kind}/${object.metadata.name}`);
    const refusal = this.refuse?.(object);
    if (refusal) throw refusal;
    return clone(object);
  }

  async create(object: KubernetesObject): Promise<KubernetesObject> {
    return this.answer('create', object);
  }

  async apply(object: KubernetesObject): Promise<KubernetesObject> {
    return this.answer('apply', object);
  }

  async delete(object: KubernetesObject): Promise<void> {
    this.answer('delete', object);
  }
}

const mergeAnnotations = (current: Record<string, string> | undefined, patch: Record<string, string | null>): Record<string, string> => {
  const merged: Record<string, string> = { ...(current ?? {}) };
  for (const [k, v] of Object.entries(patch))
    if (v === null) delete merged[k];
    else merged[k] = v;
  return merged;
};

/** Every port faked, wired to one clock and one journal. */
export interface FakeDeps extends Deps {
  workloads: FakeWorkloadReader;
  workloadWriter: FakeWorkloadWriter;
  snapshots: FakeSnapshotStore;
  groups: FakeGroupSnapshotStore;
  discovery: FakeDiscovery;
  database: FakeDatabaseConnector;
  lock: FakeBackupLock;
  schedules: FakeScheduleStore;
  events: FakeEventRecorder;
  clock: FakeClock;
  /** The CLI's --dry-run=server (a tool-only port, here so every fake runtime has it). */
  serverDryRun: FakeServerDryRun;
  journal: Journal;
}

export interface FakeDepsOptions {
  now?: Date | string;
  statefulSets?: StatefulSetInfo[];
  classes?: SnapshotClassInfo[];
  snapshots?: SnapshotInfo[];
  storage?: FakeStorageBehaviour;
}

export function fakeDeps(options: FakeDepsOptions = {}): FakeDeps {
  const journal: Journal = [];
  const clock = new FakeClock(options.now);
  const snapshots = new FakeSnapshotStore({ clock, classes: options.classes, storage: options.storage, journal });
  if (options.snapshots) snapshots.put(...options.snapshots);
  return {
    workloads: new FakeWorkloadReader(...(options.statefulSets ?? [])),
    workloadWriter: new FakeWorkloadWriter(journal),
    snapshots,
    groups: new FakeGroupSnapshotStore(snapshots, journal),
    discovery: new FakeDiscovery(),
    database: new FakeDatabaseConnector(journal),
    lock: new FakeBackupLock(journal),
    schedules: new FakeScheduleStore(),
    events: new FakeEventRecorder(clock),
    clock,
    serverDryRun: new FakeServerDryRun(),
    journal,
  };
}
