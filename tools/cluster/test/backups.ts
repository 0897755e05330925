// What an attacker with `patch volumesnapshots` can do to a backup, for the tests that prove a restore does not trust it.
import { k } from './kube.js';

type Json = Record<string, any>;

/** Rewrites the StatefulSet recorded on every snapshot of backup `id` (annotation pgbackup.io/statefulset-spec) with `edit`. */
export async function rewriteRecordedStatefulSet(ns: string, id: string, edit: (statefulSet: Json) => void): Promise<void> {
  const list = JSON.parse(await k(['get', 'volumesnapshots', '-n', ns, '-l', `pgbackup.io/backup=${id}`, '-o', 'json'])) as {
    items: { metadata: { name: string; annotations?: Record<string, string> } }[];
  };
  const recorded = list.items.filter((s) => s.metadata.annotations?.['pgbackup.io/statefulset-spec']);
  if (recorded.length === 0) throw new Error(`backup ${ns}/${id} records no StatefulSet`);
  for (const snapshot of recorded) {
    const statefulSet = JSON.parse(snapshot.metadata.annotations!['pgbackup.io/statefulset-spec']!) as Json;
    edit(statefulSet);
    await k([
      'annotate',
      '--overwrite',
      'volumesnapshot',
      snapshot.metadata.name,
      '-n',
      ns,
      `pgbackup.io/statefulset-spec=${JSON.stringify(statefulSet)}`,
    ]);
  }
}

/** The edit of an attack: the host's root filesystem mounted and the database container privileged. */
export function privilegedWithHostPath(statefulSet: Json): void {
  const pod = statefulSet.spec.template.spec;
  pod.volumes = [...(pod.volumes ?? []), { name: 'host-root', hostPath: { path: '/' } }];
  pod.containers[0].securityContext = { ...(pod.containers[0].securityContext ?? {}), privileged: true };
  pod.containers[0].volumeMounts = [...(pod.containers[0].volumeMounts ?? []), { name: 'host-root', mountPath: '/host' }];
}
