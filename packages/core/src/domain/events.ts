/**
 * The Kubernetes Events pgbackup records on a StatefulSet (events.k8s.io/v1): what happened to its
 * backups, in reasons spelled CamelCase as Kubernetes' own are.
 */

export const EVENT_REASONS = {
  BackupStarted: { type: 'Normal', action: 'Backup' },
  BackupCompleted: { type: 'Normal', action: 'Backup' },
  BackupFailed: { type: 'Warning', action: 'Backup' },
  BackupPruned: { type: 'Normal', action: 'Prune' },
  Restored: { type: 'Normal', action: 'Restore' },
  RestoreFailed: { type: 'Warning', action: 'Restore' },
  VerificationPassed: { type: 'Normal', action: 'Verify' },
  VerificationFailed: { type: 'Warning', action: 'Verify' },
} as const;

export type EventReason = keyof typeof EVENT_REASONS;
export type EventType = (typeof EVENT_REASONS)[EventReason]['type'];

/** One thing that happened to a StatefulSet's backups. */
export interface BackupEvent {
  namespace: string;
  statefulSet: string;
  reason: EventReason;
  note: string;
}

/** An Event as read back: one occurrence, or several of the same reason aggregated into a series. */
export interface RecordedEvent {
  reason: string;
  type: string;
  note: string;
  count: number;
  firstAt: string;
  lastAt: string;
  reportingController: string;
}

/**
 * Occurrences of one reason on one StatefulSet within this window are one Event whose series counts
 * them (the note is the first one's: Kubernetes keeps an Event's note immutable), so a schedule
 * every minute leaves a few Events per hour, not hundreds.
 */
export const EVENT_WINDOW_SECONDS = 600;

/** The API server's limit on an Event's note. */
const NOTE_LIMIT = 1024;

/** `<statefulset>.<reason>.<window>`: the same name for every occurrence within one window. */
export function eventName(event: Pick<BackupEvent, 'statefulSet' | 'reason'>, at: Date): string {
  const window = Math.floor(at.getTime() / 1000 / EVENT_WINDOW_SECONDS) * EVENT_WINDOW_SECONDS;
  return `${event.statefulSet}.${event.reason.toLowerCase()}.${window.toString(36)}`;
}

export const eventNote = (note: string): string => (note.length <= NOTE_LIMIT ? note : `${note.slice(0, NOTE_LIMIT - 1)}…`);
