import { Annotations, Labels, SnapshotStorage } from '../contract.js';
import { invalid } from '../errors.js';
import type { Backup } from './backup.js';
import type { KubernetesObject } from './readModels.js';
import {
  ARCHIVE_MOUNT_PATH,
  ARCHIVE_SLOT,
  ARCHIVE_WAL_DIR,
  type Lsn,
  type RecoverabilityWindow,
  formatLsn,
  parseLsn,
  replayStart,
} from './walArchive.js';

/**
 * Point-in-time recovery: where replay of the archived WAL onto a base backup stops. PostgreSQL's own
 * recovery targets (`recovery_target_time | _lsn | _name`), checked against the archive's window before
 * anything is created.
 */
export type RecoveryTarget = { inclusive: boolean } & (
  { kind: 'time'; time: string } | { kind: 'lsn'; lsn: Lsn } | { kind: 'name'; name: string }
);

export interface RecoveryTargetInput {
  time?: string;
  lsn?: string;
  name?: string;
  /** Stop just after the target (true, PostgreSQL's default) or just before it. */
  inclusive?: boolean;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$/;

/**
 * Microseconds since the epoch of an RFC 3339 time with its offset (PostgreSQL's timestamptz precision:
 * digits beyond the sixth are refused rather than rounded). @throws Invalid with what is wrong.
 */
export function parseTargetTime(text: string): bigint {
  const m = RFC3339.exec(text);
  const example = 'e.g. 2026-12-07T21:30:00Z or 2026-12-07T22:30:00.250+01:00';
  if (!m)
    throw invalid(
      `"${text}" is not an RFC 3339 time with an offset`,
      /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2})?(\.\d+)?$/.test(text)
        ? `add the offset (Z for UTC): a time without one means a different instant in every time zone; ${example}`
        : example,
    );
  const [, y, mo, d, h, mi, s, frac = '', zone] = m as unknown as string[];
  if (frac.length > 6) throw invalid(`"${text}" has more than microsecond precision`, 'PostgreSQL keeps timestamps to the microsecond');
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const utc = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(utc);
  if (
    back.getUTCFullYear() !== year ||
    back.getUTCMonth() !== month - 1 ||
    back.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  )
    throw invalid(`"${text}" is not a valid date and time`, example);
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const [oh, om] = zone!.slice(1).split(':').map(Number) as [number, number];
    if (oh > 23 || om > 59) throw invalid(`"${text}" has an invalid offset ${zone}`, example);
    offsetMinutes = (zone!.startsWith('-') ? -1 : 1) * (oh * 60 + om);
  }
  return BigInt(utc - offsetMinutes * 60_000) * 1000n + BigInt(frac.padEnd(6, '0'));
}

/** A time as microseconds: RFC 3339 strictly, else whatever Date parses (times PostgreSQL printed). */
export function timeMicros(text: string): bigint {
  try {
    return parseTargetTime(text);
  } catch {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) throw invalid(`"${text}" is not a time`);
    return BigInt(ms) * 1000n;
  }
}

/** Restore point names: letters, digits, `.`, `_`, `-`, at most 63 (PostgreSQL's MAXFNAMELEN less its NUL): nothing to quote. */
const RESTORE_POINT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function assertRestorePointName(name: string): string {
  if (!RESTORE_POINT.test(name))
    throw invalid(
      `invalid restore point name "${name}"`,
      'restore point names are 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit, e.g. "before-migration-42"',
    );
  return name;
}

/** The one target the options give (undefined: none, a plain restore). @throws Invalid on several or a malformed one. */
export function parseRecoveryTarget(input: RecoveryTargetInput): RecoveryTarget | undefined {
  const given = (['time', 'lsn', 'name'] as const).filter((k) => input[k] !== undefined);
  if (given.length === 0) {
    if (input.inclusive !== undefined) throw invalid('"inclusive" says how to stop at a target: give a target time, LSN or name');
    return undefined;
  }
  if (given.length > 1)
    throw invalid(`give one recovery target, not ${given.join(' and ')}`, 'a restore stops at a time, an LSN or a named restore point');
  const inclusive = input.inclusive ?? true;
  if (input.time !== undefined) {
    parseTargetTime(input.time);
    return { kind: 'time', time: input.time, inclusive };
  }
  if (input.lsn !== undefined) return { kind: 'lsn', lsn: formatLsn(parseLsn(input.lsn)), inclusive };
  return { kind: 'name', name: assertRestorePointName(input.name!), inclusive };
}

export const describeTarget = (t: RecoveryTarget): string =>
  t.kind === 'time'
    ? `time ${t.time} (${t.inclusive ? 'including' : 'excluding'} transactions committed at exactly that time)`
    : t.kind === 'lsn'
      ? `LSN ${t.lsn} (${t.inclusive ? 'including' : 'excluding'} the record there)`
      : `restore point "${t.name}"`;

/** A restore point made by `mark`: its name, and where and when it is in the WAL. */
export interface RestorePoint {
  name: string;
  lsn: Lsn;
  time: string;
}

/** Where a target is in the WAL, as far as the archive tells before replaying it. */
function targetPosition(target: RecoveryTarget, points: RestorePoint[]): { time?: bigint; lsn?: bigint } {
  if (target.kind === 'time') return { time: parseTargetTime(target.time) };
  if (target.kind === 'lsn') return { lsn: parseLsn(target.lsn) };
  const point = points.find((p) => p.name === target.name);
  if (!point)
    throw invalid(
      `no restore point "${target.name}" is recorded for this StatefulSet`,
      'restore points are made with: kubectl pgbackup mark <statefulset> <name>',
    );
  return { time: timeMicros(point.time), lsn: parseLsn(point.lsn) };
}

export const windowText = (w: RecoverabilityWindow) => `${w.from} (backup ${w.base.id}) to ${w.to} (LSN ${w.toLsn})`;

/**
 * The base backup a restore to `target` replays from: the given one (it must be covered by the archive and
 * cut before the target), else the newest covered backup cut before it. Refuses a target outside the window,
 * naming it. Pure.
 */
export function chooseBaseBackup(
  target: RecoveryTarget,
  window: RecoverabilityWindow | undefined,
  backups: Backup[],
  options: { backup?: Backup; restorePoints?: RestorePoint[]; why?: string } = {},
): Backup {
  if (!window)
    throw invalid(
      `the WAL archive has no recoverability window${options.why ? `: ${options.why}` : ''}`,
      'a window starts at a completed backup taken while the archive runs: kubectl pgbackup archive status <statefulset>',
    );
  const at = targetPosition(target, options.restorePoints ?? []);
  const outside = (why: string) =>
    invalid(`the ${describeTarget(target)} is ${why} the recoverability window, ${windowText(window)}`, {
      text: 'choose a target inside the window',
    });
  if (at.time !== undefined && at.time < timeMicros(window.from)) throw outside('before');
  if (at.time !== undefined && at.time > timeMicros(window.to)) throw outside('after');
  if (at.lsn !== undefined && at.lsn > parseLsn(window.toLsn)) throw outside('after');
  // The window's base is the oldest backup the archive covers without a hole; every later one is covered too.
  const covered = backups.filter(
    (b) => b.status === 'completed' && b.cutAt && replayStart(b) !== undefined && timeMicros(b.cutAt) >= timeMicros(window.from),
  );
  const before = (b: Backup) =>
    (at.time === undefined || timeMicros(b.cutAt!) <= at.time) && (at.lsn === undefined || parseLsn(b.lsn ?? '0/0') <= at.lsn);
  if (options.backup) {
    const b = options.backup;
    if (!covered.some((c) => c.id === b.id))
      throw invalid(`backup ${b.id} is not covered by the WAL archive, whose window is ${windowText(window)}`, {
        text: 'restore from a backup inside the window, or name only the StatefulSet and the target',
      });
    if (!before(b))
      throw invalid(`backup ${b.id} was cut after the ${describeTarget(target)}: replay cannot go back in time`, {
        text: 'restore from an older backup, or name only the StatefulSet and the target',
      });
    return b;
  }
  const chosen = covered.filter(before).sort((a, b) => Date.parse(b.cutAt!) - Date.parse(a.cutAt!))[0];
  if (!chosen) throw outside('before');
  return chosen;
}

/** The part of a restore plan a target changes. */
interface PlanObjects {
  target: { namespace: string; statefulSet: string };
  create: KubernetesObject[];
  notes: string[];
}

/** What a restore to a target adds to a plan: the archive as it is now, and the restored pod's first-start step. */
export interface RecoveryInput {
  target: RecoveryTarget;
  /** The VolumeSnapshot of the archiver's claim this restore takes (in the backup's namespace). */
  archiveSnapshot: string;
  /** The archiver's claim now: its name, storage class, size and access modes. */
  archiveClaim: { name: string; storageClassName?: string; storage: string; accessModes?: string[] };
  /** The snapshot class to take it with (the backup's: same driver). */
  snapshotClassName?: string;
}

/** The claim, volume and init container a restore to a target adds, by name. */
export const ARCHIVE_VOLUME = 'pgbackup-wal-archive';
export const RECOVERY_INIT_CONTAINER = 'pgbackup-recovery';
/** In PGDATA once the settings of one restore are written (its content: that restore's archive snapshot). */
export const RECOVERY_MARKER = 'pgbackup-recovery-target';
export const archiveRestoreClaimName = (target: string) => `${ARCHIVE_VOLUME}-${target}`;

/** A text in single quotes for sh: nothing in it is expanded. */
export const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** A postgresql.conf string value. */
const confQuote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The recovery settings for postgresql.auto.conf (later lines win over earlier ones there). */
export function recoverySettings(target: RecoveryTarget): string[] {
  const restore = `cp "${ARCHIVE_WAL_DIR}/%f" "%p" 2>/dev/null || cp "${ARCHIVE_WAL_DIR}/%f.partial" "%p"`;
  const setting =
    target.kind === 'time'
      ? `recovery_target_time = ${confQuote(target.time)}`
      : target.kind === 'lsn'
        ? `recovery_target_lsn = ${confQuote(target.lsn)}`
        : `recovery_target_name = ${confQuote(target.name)}`;
  return [
    `restore_command = ${confQuote(restore)}`,
    setting,
    `recovery_target_inclusive = ${target.inclusive ? "'on'" : "'off'"}`,
    // The base backup's timeline: the archive holds the source's WAL, not another copy's.
    "recovery_target_timeline = 'current'",
    "recovery_target_action = 'promote'",
  ];
}

/**
 * The init container's script: on the restored pod's first start only (the marker holds this restore's
 * archive snapshot), remove the archiver's slot from the copy (it would hold WAL for an archiver that is
 * not its own), append the recovery settings and write recovery.signal. Every value is single-quoted.
 */
export function recoveryScript(target: RecoveryTarget, restoreId: string): string {
  const q = shellQuote;
  return [
    'set -eu',
    'PGDATA="${PGDATA:-/var/lib/postgresql/data}"',
    `marker="$PGDATA"/${q(RECOVERY_MARKER)}`,
    `[ -f "$PGDATA/PG_VERSION" ] || { echo "pgbackup: no PostgreSQL data directory at $PGDATA" >&2; exit 1; }`,
    `[ -d ${q(ARCHIVE_WAL_DIR)} ] || { echo ${q(`pgbackup: the WAL archive is not at ${ARCHIVE_WAL_DIR}`)} >&2; exit 1; }`,
    `if [ "$(cat "$marker" 2>/dev/null || true)" = ${q(restoreId)} ]; then echo ${q('pgbackup: recovery settings were written on an earlier start')}; exit 0; fi`,
    `rm -rf "$PGDATA"/pg_replslot/${q(ARCHIVE_SLOT)}`,
    `printf '%s\\n' ${q(`# kubectl pgbackup restore: ${describeTarget(target)}`)} ${recoverySettings(target).map(q).join(' ')} >> "$PGDATA/postgresql.auto.conf"`,
    ': > "$PGDATA/recovery.signal"',
    `printf '%s\\n' ${q(restoreId)} > "$marker"`,
    'if [ "$(id -u)" = 0 ]; then chown "$(stat -c %u:%g "$PGDATA")" "$PGDATA/postgresql.auto.conf" "$PGDATA/recovery.signal" "$marker"; fi',
    `echo ${q(`pgbackup: recovery to ${describeTarget(target)} set up`)}`,
  ].join('\n');
}

type Container = {
  name: string;
  image?: string;
  env?: unknown[];
  envFrom?: unknown[];
  securityContext?: unknown;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
};
type PodSpec = { containers?: Container[]; initContainers?: Container[]; volumes?: unknown[] };

/** The database container of a pod template: the one running a postgres image or named so, else the first. */
const databaseContainer = (containers: Container[]) =>
  containers.find((c) => /postgres/i.test(c.image ?? '') || c.name === 'postgres') ?? containers[0];

/**
 * A plan restoring to a point in time: the VolumeSnapshot of the archiver's claim first, a claim from it
 * before the StatefulSet, whose pod mounts it read-only and gains the init container of recoveryScript
 * (the database image, user and data mounts). The target is recorded on the StatefulSet. Pure.
 */
export function planRecovery<P extends PlanObjects>(plan: P, backup: Backup, input: RecoveryInput): P {
  const { namespace, statefulSet: target } = plan.target;
  if (namespace !== backup.namespace)
    throw invalid('a restore to a target into another namespace is not yet supported', {
      text: 'restore into the backup’s namespace, then move the data',
      options: [{ option: 'targetNamespace', omit: true }],
    });
  const labels = { [Labels.restoredFrom]: backup.id };
  const snapshot: KubernetesObject = {
    apiVersion: SnapshotStorage.apiVersion,
    kind: 'VolumeSnapshot',
    metadata: { name: input.archiveSnapshot, namespace, labels, annotations: { [Annotations.walArchiveOf]: backup.statefulSet } },
    spec: {
      source: { persistentVolumeClaimName: input.archiveClaim.name },
      ...(input.snapshotClassName ? { volumeSnapshotClassName: input.snapshotClassName } : {}),
    },
  };
  const claim: KubernetesObject = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: archiveRestoreClaimName(target),
      namespace,
      labels,
      annotations: { [Annotations.snapshot]: `${namespace}/${input.archiveSnapshot}` },
    },
    spec: {
      accessModes: input.archiveClaim.accessModes ?? ['ReadWriteOnce'],
      ...(input.archiveClaim.storageClassName !== undefined ? { storageClassName: input.archiveClaim.storageClassName } : {}),
      resources: { requests: { storage: input.archiveClaim.storage } },
      dataSource: { apiGroup: SnapshotStorage.group, kind: 'VolumeSnapshot', name: input.archiveSnapshot },
    },
  };
  const create = plan.create.map((o) => (o.kind === 'StatefulSet' ? recoveringStatefulSet(o, claim.metadata.name, input) : o));
  const sts = create.findIndex((o) => o.kind === 'StatefulSet');
  create.splice(sts, 0, claim);
  return {
    ...plan,
    create: [snapshot, ...create],
    notes: [
      ...plan.notes,
      `replays the WAL archive (a snapshot taken now, ${input.archiveSnapshot}) from backup ${backup.id} to the ${describeTarget(input.target)}, then promotes`,
    ],
  };
}

function recoveringStatefulSet(object: KubernetesObject, claim: string, input: RecoveryInput): KubernetesObject {
  const sts = structuredClone(object) as KubernetesObject & {
    metadata: { annotations?: Record<string, string> };
    spec: { template: { spec: PodSpec } };
  };
  const pod = sts.spec.template.spec;
  const containers = pod.containers ?? [];
  const db = databaseContainer(containers);
  if (!db) throw invalid(`StatefulSet ${sts.metadata.name} has no container to restore into`);
  const archiveMount = { name: ARCHIVE_VOLUME, mountPath: ARCHIVE_MOUNT_PATH, readOnly: true };
  const dataMounts = (db.volumeMounts ?? []).filter((m) => m.name !== ARCHIVE_VOLUME);
  db.volumeMounts = [...dataMounts, archiveMount];
  const init: Container = {
    name: RECOVERY_INIT_CONTAINER,
    image: db.image,
    command: ['sh', '-c', recoveryScript(input.target, input.archiveSnapshot)],
    ...(db.env ? { env: db.env } : {}),
    ...(db.envFrom ? { envFrom: db.envFrom } : {}),
    ...(db.securityContext ? { securityContext: db.securityContext } : {}),
    volumeMounts: [...dataMounts, archiveMount],
  } as Container;
  pod.initContainers = [...(pod.initContainers ?? []), init];
  pod.volumes = [...(pod.volumes ?? []), { name: ARCHIVE_VOLUME, persistentVolumeClaim: { claimName: claim, readOnly: true } }];
  sts.metadata.annotations = {
    ...(sts.metadata.annotations ?? {}),
    [Annotations.recoveryTarget]: JSON.stringify({ ...input.target, archiveSnapshot: input.archiveSnapshot }),
  };
  return sts;
}

/** Where replay stopped, from the new timeline's history file (`<parent>\t<switch LSN>\t<reason>`, its last line). */
export interface ReplayStop {
  timeline: number;
  lsn: Lsn;
  /** PostgreSQL's words, e.g. `before 2026-12-07 21:30:00.123456+00` or `at restore point "x"`. */
  reason: string;
}

export function parseTimelineHistory(file: string, content: string): ReplayStop | undefined {
  const m = /^([0-9A-F]{8})\.history$/.exec(file);
  const last = content
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .at(-1);
  const fields = last?.split('\t');
  if (!m || !fields || fields.length < 2) return undefined;
  return { timeline: Number.parseInt(m[1]!, 16), lsn: fields[1]!, reason: fields.slice(2).join(' ') };
}
