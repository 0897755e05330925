import { AppsV1Api, CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { EVENT_REPORTING_CONTROLLER, Labels, MANAGED_BY, MANAGED_SELECTOR } from '../contract.js';
import { EVENT_REASONS, type BackupEvent, type RecordedEvent, eventName, eventNote } from '../domain/events.js';
import { isPgBackupError } from '../errors.js';
import type { Clock, EventRecorder } from '../ports.js';
import { call } from './apiErrors.js';

const EVENTS = { group: 'events.k8s.io', version: 'v1', plural: 'events' } as const;

/** How long recording an Event may hold up the work it reports on. */
const RECORD_BOUND_MS = 5_000;

interface EventObject {
  metadata?: { name?: string; creationTimestamp?: string };
  eventTime?: string;
  reason?: string;
  type?: string;
  note?: string;
  reportingController?: string;
  series?: { count?: number; lastObservedTime?: string };
  deprecatedCount?: number;
}

/** MicroTime as the API server parses it (RFC 3339 with six fractional digits). */
const microTime = (d: Date) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/**
 * Events (events.k8s.io/v1) on StatefulSets. The same reason on the same StatefulSet within one
 * window is one Event: the first occurrence creates it, the next ones count in its series.
 */
export class KubernetesEventRecorder implements EventRecorder {
  private readonly api: CustomObjectsApi;
  private readonly apps: AppsV1Api;
  /** The StatefulSets' uids (`kubectl describe` finds Events by the object's uid too), for a minute: one may be recreated. */
  private readonly uids = new Map<string, { uid: string; at: number }>();

  constructor(
    kc: KubeConfig,
    private readonly clock: Clock,
    /** `reportingInstance`: stable across runs (Kubernetes forbids changing it on an Event, and a series needs one). */
    private readonly instance = 'kubectl-pgbackup',
    private readonly onError: (e: unknown) => void = () => undefined,
  ) {
    this.api = kc.makeApiClient(CustomObjectsApi);
    this.apps = kc.makeApiClient(AppsV1Api);
  }

  private async uidOf(namespace: string, name: string): Promise<string | undefined> {
    const key = `${namespace}/${name}`;
    const now = this.clock.now().getTime();
    const hit = this.uids.get(key);
    if (hit && now - hit.at < 60_000) return hit.uid;
    const sts = await this.apps.readNamespacedStatefulSet({ name, namespace }).catch(() => undefined);
    if (!sts?.metadata?.uid) return undefined;
    if (this.uids.size > 1000) this.uids.clear();
    this.uids.set(key, { uid: sts.metadata.uid, at: now });
    return sts.metadata.uid;
  }

  async record(event: BackupEvent): Promise<void> {
    const work = this.write(event).catch(this.onError);
    await Promise.race([work, new Promise((resolve) => setTimeout(resolve, RECORD_BOUND_MS).unref())]);
  }

  private async write(event: BackupEvent): Promise<void> {
    const now = this.clock.now();
    const name = eventName(event, now);
    const { namespace } = event;
    const { type, action } = EVENT_REASONS[event.reason];
    const uid = await this.uidOf(namespace, event.statefulSet);
    const body = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name, namespace, labels: { [Labels.managedBy]: MANAGED_BY, [Labels.statefulSet]: event.statefulSet } },
      eventTime: microTime(now),
      reportingController: EVENT_REPORTING_CONTROLLER,
      reportingInstance: this.instance,
      action,
      reason: event.reason,
      type,
      note: eventNote(event.note),
      regarding: { apiVersion: 'apps/v1', kind: 'StatefulSet', namespace, name: event.statefulSet, ...(uid ? { uid } : {}) },
    };
    try {
      await call(`creating Event ${namespace}/${name}`, () => this.api.createNamespacedCustomObject({ ...EVENTS, namespace, body }));
      return;
    } catch (e) {
      if (!isPgBackupError(e, 'Conflict')) throw e;
    }
    // Another occurrence in this window: count it in the series.
    const existing = (await call(`reading Event ${namespace}/${name}`, () =>
      this.api.getNamespacedCustomObject({ ...EVENTS, namespace, name }),
    )) as EventObject;
    const count = (existing.series?.count ?? 1) + 1;
    await call(`updating Event ${namespace}/${name}`, () =>
      this.api.patchNamespacedCustomObject(
        { ...EVENTS, namespace, name, body: { series: { count, lastObservedTime: microTime(now) } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
  }

  async recent(namespace: string, statefulSet: string, limit: number): Promise<RecordedEvent[]> {
    const list = (await call(`listing Events in ${namespace}`, () =>
      this.api.listNamespacedCustomObject({
        ...EVENTS,
        namespace,
        labelSelector: `${MANAGED_SELECTOR},${Labels.statefulSet}=${statefulSet}`,
      }),
    )) as { items?: EventObject[] };
    return (list.items ?? [])
      .map((e): RecordedEvent => {
        const firstAt = e.eventTime ?? e.metadata?.creationTimestamp ?? '';
        return {
          reason: e.reason ?? '',
          type: e.type ?? '',
          note: e.note ?? '',
          count: e.series?.count ?? 1,
          firstAt,
          lastAt: e.series?.lastObservedTime ?? firstAt,
          reportingController: e.reportingController ?? '',
        };
      })
      .sort((a, b) => Date.parse(b.lastAt) - Date.parse(a.lastAt))
      .slice(0, limit);
  }
}
