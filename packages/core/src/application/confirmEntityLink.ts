import { Annotations } from '../contract.js';
import { assertName } from '../domain/names.js';
import { forbidden } from '../errors.js';
import type { Deps } from './deps.js';

/** Entity references are case-insensitive in Backstage (`Component:default/Orders` = `component:default/orders`). */
const sameEntity = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * A catalog entity may manage the backups of a StatefulSet only if the StatefulSet names it back
 * (annotation `pgbackup.io/backstage-entity`): the link is confirmed by someone who may edit the
 * StatefulSet, not by whoever registered the entity.
 * @throws Forbidden when the StatefulSet names another entity or none; NotFound when it does not exist.
 */
export async function confirmEntityLink(
  deps: Pick<Deps, 'workloads'>,
  namespace: string,
  statefulSet: string,
  entityRef: string,
): Promise<void> {
  assertName('namespace', namespace);
  assertName('StatefulSet', statefulSet);
  const sts = await deps.workloads.getStatefulSet(namespace, statefulSet);
  const annotations = (sts.manifest?.metadata.annotations ?? {}) as Record<string, string | undefined>;
  const named = annotations[Annotations.backstageEntity];
  if (named !== undefined && sameEntity(named, entityRef)) return;
  throw forbidden(
    named === undefined
      ? `StatefulSet ${namespace}/${statefulSet} does not name ${entityRef} as its Backstage entity`
      : `StatefulSet ${namespace}/${statefulSet} names another Backstage entity (${named}), not ${entityRef}`,
    `whoever may edit the StatefulSet confirms the link: kubectl annotate statefulset ${statefulSet} -n ${namespace} ${Annotations.backstageEntity}=${entityRef.toLowerCase()}`,
  );
}
