/** Table columns and detail text for the domain's objects, shared by the verbs. */
import type { Backup, PruneDecision, RecordedEvent, StatefulSetStatus } from '@pgbackup/core';
import { type Column, type View, age, duration, humanBytes, table } from './output.js';

const verified = (b: Backup) => (b.verification ? `${b.verification.result} ${age(b.verification.at)} ago` : '-');

export function backupColumns(options: { allNamespaces?: boolean; now?: Date } = {}): Column<Backup>[] {
  const now = options.now ?? new Date();
  return [
    ...(options.allNamespaces ? [{ header: 'namespace', value: (b: Backup) => b.namespace }] : []),
    { header: 'id', value: (b) => b.id },
    { header: 'statefulset', value: (b) => b.statefulSet },
    { header: 'type', value: (b) => b.type },
    { header: 'status', value: (b) => b.status },
    { header: 'method', value: (b) => b.method ?? '-' },
    { header: 'size', value: (b) => (b.size === undefined ? '-' : humanBytes(b.size)) },
    { header: 'age', value: (b) => age(b.cutAt ?? b.startedAt, now) },
    { header: 'pinned', value: (b) => (b.pinned ? 'yes' : 'no') },
    { header: 'verified', value: verified },
    { header: 'pod', value: (b) => b.pod ?? '-', wide: true },
    { header: 'lsn', value: (b) => b.lsn ?? '-', wide: true },
    { header: 'snapshots', value: (b) => `${b.snapshots.filter((s) => s.readyToUse).length}/${b.volumes}`, wide: true },
    { header: 'error', value: (b) => b.error ?? '', wide: true },
  ];
}

export function backupListView(backups: Backup[], options: { allNamespaces?: boolean; namespace?: string } = {}): View<Backup> {
  return {
    schema: 'BackupList',
    data: { items: backups },
    rows: backups,
    columns: backupColumns(options),
    name: (b) => `backup/${b.id}`,
    empty: options.allNamespaces ? 'No backups found.' : `No backups found in ${options.namespace ?? 'this'} namespace.`,
  };
}

export function backupView(backup: Backup): View<Backup> {
  return { schema: 'Backup', data: backup, rows: [backup], columns: backupColumns(), name: (b) => `backup/${b.id}` };
}

const field = (label: string, value: string | number | undefined) => `${(label + ':').padEnd(18)}${value ?? '<none>'}\n`;
const when = (t: string | undefined, now: Date) => (t ? `${t} (${age(t, now)} ago)` : undefined);

/** `status <backup-id>`: every fact about one backup and each of its VolumeSnapshots. */
export function describeBackup(b: Backup, now = new Date()): string {
  let text =
    field('Backup', b.id) +
    field('Namespace', b.namespace) +
    field('StatefulSet', b.statefulSet) +
    field('Type', b.type) +
    field('Status', b.status) +
    field('Phase', b.phase) +
    field('Method', b.method) +
    field('Started', when(b.startedAt, now)) +
    field('Cut at', when(b.cutAt, now)) +
    field('Pod', b.pod) +
    field('LSN', b.lsn) +
    field('PostgreSQL', b.pgVersion) +
    field('Size', b.size === undefined ? undefined : humanBytes(b.size)) +
    field('Pinned', b.pinned ? 'yes' : 'no') +
    field(
      'Verified',
      b.verification
        ? `${b.verification.result} at ${b.verification.at}${b.verification.message ? `: ${b.verification.message}` : ''}`
        : 'never',
    );
  if (b.error) text += field('Error', b.error);
  text += `Snapshots (${b.snapshots.filter((s) => s.readyToUse).length}/${b.volumes} ready):\n`;
  const rows = table(b.snapshots, [
    { header: 'name', value: (s) => s.name },
    { header: 'pvc', value: (s) => s.pvc },
    { header: 'ready', value: (s) => String(s.readyToUse) },
    { header: 'size', value: (s) => (s.restoreSize === undefined ? '-' : humanBytes(s.restoreSize)) },
    { header: 'class', value: (s) => s.className ?? '-' },
    { header: 'content', value: (s) => s.contentName ?? '-' },
    { header: 'cut', value: (s) => s.cutAt ?? '-' },
    { header: 'error', value: (s) => s.error ?? '' },
  ]);
  return text + rows.replace(/^/gm, '  ');
}

/** `status <statefulset>`: replicas, pods, newest backups, schedule and freshness. */
export function describeStatefulSet(s: StatefulSetStatus, now = new Date()): string {
  let text =
    field('StatefulSet', `${s.namespace}/${s.name}`) +
    field('Replicas', `${s.replicas} desired | ${s.readyReplicas} ready | ${s.currentReplicas} current | ${s.updatedReplicas} updated`);
  text += 'Pods:\n';
  text += table(s.pods, [
    { header: 'name', value: (p) => p.name },
    { header: 'ready', value: (p) => String(p.ready) },
    { header: 'phase', value: (p) => p.phase },
    {
      header: 'volumes',
      value: (p) =>
        p.pvcs.map((v) => `${v.name} (${v.phase}${v.capacityBytes ? `, ${humanBytes(v.capacityBytes)}` : ''})`).join(', ') || '-',
    },
  ]).replace(/^/gm, '  ');
  const b = (x: Backup | undefined) => (x ? `${x.id} (${x.status}, ${age(x.cutAt ?? x.startedAt, now)} ago)` : '<none>');
  text += field('Newest backup', b(s.newestBackup)) + field('Newest completed', b(s.newestCompletedBackup));
  if (!s.schedule) return text + field('Schedule', '<none> (kubectl pgbackup schedule set)');
  text += field('Schedule', `${s.schedule.cron}${s.schedule.timeZone ? ` (${s.schedule.timeZone})` : ' (UTC)'}`);
  const f = s.freshness;
  if (f) {
    text += field('Freshness', f.state + (f.lateBySeconds ? ` (late by ${duration(f.lateBySeconds)})` : ''));
    text += field('RPO now', f.rpoSeconds === undefined ? 'no completed backup' : duration(f.rpoSeconds));
    text += field('Next run', `${f.nextRunAt} (in ${duration(Math.max(0, Math.round((Date.parse(f.nextRunAt) - now.getTime()) / 1000)))})`);
  }
  return text;
}

/** The Events section of `status <statefulset>`, as kubectl describe shows Events. */
export function describeEvents(recent: { events: RecordedEvent[]; error?: string }, now = new Date()): string {
  if (recent.error) return field('Events', `<unavailable: ${recent.error}>`);
  if (recent.events.length === 0) return field('Events', '<none>');
  return (
    'Events:\n' +
    table(recent.events, [
      { header: 'type', value: (e) => e.type },
      { header: 'reason', value: (e) => e.reason },
      {
        header: 'age',
        value: (e) => (e.count > 1 ? `${age(e.lastAt, now)} (x${e.count} over ${age(e.firstAt, now)})` : age(e.lastAt, now)),
      },
      { header: 'message', value: (e) => e.note },
    ]).replace(/^/gm, '  ')
  );
}

export function pruneView(decisions: PruneDecision[], dryRun: boolean, now = new Date()): View<PruneDecision> {
  return {
    schema: 'PruneDecisionList',
    data: { items: decisions },
    rows: decisions,
    columns: [
      { header: 'id', value: (d) => d.backup.id },
      { header: 'status', value: (d) => d.backup.status },
      { header: 'age', value: (d) => age(d.backup.cutAt ?? d.backup.startedAt, now) },
      { header: 'action', value: (d) => (d.action === 'delete' ? (dryRun ? 'delete (dry run)' : 'deleted') : 'keep') },
      { header: 'reasons', value: (d) => d.reasons.join('; ') },
    ],
    name: (d) => `backup/${d.backup.id}`,
    empty: 'No backups to prune.',
  };
}
