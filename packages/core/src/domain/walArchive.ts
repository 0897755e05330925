import { invalid } from '../errors.js';
import type { Backup } from './backup.js';

/**
 * The continuous WAL archive of one StatefulSet (point-in-time recovery): `pg_receivewal` in a StatefulSet of ours
 * streams the primary's WAL through a physical replication slot into a volume of its own. Snapshots are the base
 * backups; a restore replays the archive from a backup's checkpoint to a target and promotes.
 */

/** The archiver's StatefulSet (its pod is `<name>-0`, its claim `wal-<name>-0`). */
export const archiverName = (statefulSet: string) => `${statefulSet}-wal-archive`;
/** The Secret holding the replication role's password (key `password`), named like the archiver. */
export const archiverSecretName = archiverName;
/** The volumeClaimTemplate of the archiver, and where its volume is mounted. */
export const ARCHIVE_CLAIM_TEMPLATE = 'wal';
export const ARCHIVE_MOUNT_PATH = '/var/lib/pgbackup/wal-archive';
/** `pg_receivewal -D` (a directory inside the volume, so a filesystem's lost+found is never in the archive). */
export const ARCHIVE_WAL_DIR = `${ARCHIVE_MOUNT_PATH}/wal`;
/** The archiver's claim: `<template>-<archiver>-0`. */
export const archiveClaimName = (statefulSet: string) => `${ARCHIVE_CLAIM_TEMPLATE}-${archiverName(statefulSet)}-0`;
/** The physical replication slot on the primary: holds every segment the archiver has not received. */
export const ARCHIVE_SLOT = 'pgbackup_wal_archive';
/** The replication role the archiver logs in as (LOGIN REPLICATION, nothing else). */
export const ARCHIVE_ROLE = 'pgbackup_wal_archiver';

/** A write-ahead log position, `X/Y` as PostgreSQL prints a pg_lsn. */
export type Lsn = string;

export function parseLsn(lsn: Lsn): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn.trim());
  if (!m) throw invalid(`"${lsn}" is not a WAL position (LSN), e.g. 0/3000060`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

export const formatLsn = (value: bigint): Lsn =>
  `${(value >> 32n).toString(16).toUpperCase()}/${(value & 0xffffffffn).toString(16).toUpperCase()}`;

/** PostgreSQL's default `wal_segment_size` (initdb --wal-segsize changes it; read it from the server when it matters). */
export const DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024;

/** A segment's file name: timeline, then the segment number split as PostgreSQL's XLogFileName does. */
export function segmentName(timeline: number, lsn: bigint, segmentBytes = DEFAULT_SEGMENT_BYTES): string {
  const segmentsPerId = 0x100000000n / BigInt(segmentBytes);
  const segment = lsn / BigInt(segmentBytes);
  const hex = (n: bigint | number) => n.toString(16).toUpperCase().padStart(8, '0');
  return `${hex(timeline)}${hex(segment / segmentsPerId)}${hex(segment % segmentsPerId)}`;
}

export interface SegmentFile {
  timeline: number;
  /** The segment's first position. */
  start: bigint;
  /** Still being written by pg_receivewal (`.partial`). */
  partial: boolean;
}

/** A segment file name of the archive (`000000010000000000000003` or `….partial`), else undefined (history files, temporaries). */
export function parseSegmentName(file: string, segmentBytes = DEFAULT_SEGMENT_BYTES): SegmentFile | undefined {
  const m = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})(\.partial)?$/.exec(file);
  if (!m) return undefined;
  const segmentsPerId = 0x100000000n / BigInt(segmentBytes);
  const segment = BigInt(`0x${m[2]}`) * segmentsPerId + BigInt(`0x${m[3]}`);
  return { timeline: Number.parseInt(m[1]!, 16), start: segment * BigInt(segmentBytes), partial: m[4] !== undefined };
}

/** The archive's contents as the archiver's volume holds them. */
export interface ArchiveContents {
  /** Segment file names (complete and `.partial`), any order. */
  files: string[];
  segmentBytes: number;
  /** The newest commit in the archive (from pg_waldump of its newest segment), if any. */
  newestCommit?: { time: string; lsn: Lsn };
}

/** A run of segments without a hole, on one timeline. */
export interface SegmentRange {
  timeline: number;
  from: bigint;
  /** End of the last segment (exclusive). */
  to: bigint;
}

/** The archive's segments as runs without holes, oldest first; a hole between runs is a missing segment. */
export function segmentRuns(contents: Pick<ArchiveContents, 'files' | 'segmentBytes'>): SegmentRange[] {
  const size = BigInt(contents.segmentBytes);
  const segments = contents.files
    .map((f) => parseSegmentName(f, contents.segmentBytes))
    .filter((s): s is SegmentFile => s !== undefined)
    .sort((a, b) => a.timeline - b.timeline || (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const runs: SegmentRange[] = [];
  for (const s of segments) {
    const last = runs.at(-1);
    if (last && last.timeline === s.timeline && last.to >= s.start) last.to = last.to > s.start + size ? last.to : s.start + size;
    else runs.push({ timeline: s.timeline, from: s.start, to: s.start + size });
  }
  return runs;
}

/** The WAL position a backup's replay starts from: the checkpoint's redo point, else (older backups) its recorded LSN. */
export const replayStart = (backup: Pick<Backup, 'lsn' | 'redoLsn'>): bigint | undefined => {
  const at = backup.redoLsn ?? backup.lsn;
  return at ? parseLsn(at) : undefined;
};

/** From which backup to which commit a restore can reach any point; undefined when no backup is covered. */
export interface RecoverabilityWindow {
  /** The oldest completed backup whose replay start the archive holds, without a hole up to the newest segment. */
  base: { id: string; cutAt: string; lsn: Lsn };
  /** Restores can target any time from the base backup's cut… */
  from: string;
  /** …to the newest commit received. */
  to: string;
  toLsn: Lsn;
}

/**
 * The window: the archive's newest run of segments (on its newest timeline) must reach back to a completed
 * backup's replay start; every later backup is inside it too. Pure.
 */
export function recoverabilityWindow(backups: Backup[], contents: ArchiveContents): RecoverabilityWindow | undefined {
  const newest = contents.newestCommit;
  const run = segmentRuns(contents).at(-1);
  if (!newest || !run) return undefined;
  const covered = backups
    .filter((b) => b.status === 'completed' && b.cutAt)
    .filter((b) => {
      const start = replayStart(b);
      return start !== undefined && start >= run.from && start < run.to && Date.parse(b.cutAt!) <= Date.parse(newest.time);
    })
    .sort((a, b) => Date.parse(a.cutAt!) - Date.parse(b.cutAt!));
  const base = covered[0];
  if (!base) return undefined;
  return { base: { id: base.id, cutAt: base.cutAt!, lsn: base.lsn! }, from: base.cutAt!, to: newest.time, toLsn: newest.lsn };
}
