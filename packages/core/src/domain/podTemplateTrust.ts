/**
 * What a pod template is allowed to do that matters for who may run it: its ServiceAccount, its
 * privileges, the host's namespaces and paths. A restore clones the StatefulSet recorded on a backup,
 * and that record is an annotation anyone with `patch volumesnapshots` can rewrite, so a restore runs
 * it only when it grants nothing the live StatefulSet does not (or, with none, nothing beyond
 * Kubernetes' defaults). Pure: no I/O.
 */

interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsUser?: number;
  runAsNonRoot?: boolean;
  capabilities?: { add?: string[] };
}
interface Container {
  name?: string;
  securityContext?: SecurityContext;
}
interface PodSpec {
  serviceAccountName?: string;
  serviceAccount?: string;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: Pick<SecurityContext, 'runAsUser' | 'runAsNonRoot'>;
  volumes?: { name?: string; hostPath?: { path?: string } }[];
  containers?: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
}
type PodTemplateHolder = { spec?: { template?: { spec?: PodSpec } } };

/** What every pod may do unless its template says otherwise: what a template with nothing set grants. */
const DEFAULT_GRANTS = new Set(['serviceAccountName default']);
/** Per container, what Kubernetes' defaults allow (escalation allowed, any user of the image). */
const DEFAULT_CONTAINER_GRANTS = ['allowPrivilegeEscalation', 'runAsNonRoot not true'];

/** The security-relevant grants of a StatefulSet's pod template, each as a short phrase (`container db: privileged`). */
export function podTemplateGrants(statefulSet: object): string[] {
  const pod = (statefulSet as PodTemplateHolder).spec?.template?.spec ?? {};
  const grants = [`serviceAccountName ${pod.serviceAccountName || pod.serviceAccount || 'default'}`];
  if (pod.hostNetwork) grants.push('hostNetwork');
  if (pod.hostPID) grants.push('hostPID');
  if (pod.hostIPC) grants.push('hostIPC');
  for (const v of pod.volumes ?? []) if (v.hostPath) grants.push(`hostPath volume ${v.name ?? ''} (${v.hostPath.path ?? ''})`);
  const containers = [...(pod.initContainers ?? []), ...(pod.containers ?? []), ...(pod.ephemeralContainers ?? [])];
  for (const c of containers) {
    const sc = c.securityContext ?? {};
    const inherited = (k: 'runAsUser' | 'runAsNonRoot') => sc[k] ?? pod.securityContext?.[k];
    const of = (what: string) => `container ${c.name ?? ''}: ${what}`;
    if (sc.privileged) grants.push(of('privileged'));
    for (const cap of sc.capabilities?.add ?? []) grants.push(of(`adds capability ${cap}`));
    if (sc.allowPrivilegeEscalation !== false) grants.push(of('allowPrivilegeEscalation'));
    if (inherited('runAsUser') === 0) grants.push(of('runAsUser 0'));
    if (inherited('runAsNonRoot') !== true) grants.push(of('runAsNonRoot not true'));
  }
  return grants;
}

/**
 * What `candidate`'s pod template grants that `reference`'s does not; without a reference, what it
 * grants beyond Kubernetes' defaults (the default ServiceAccount, no privileges, no host access).
 * Empty: the candidate is no more powerful, so running it needs no more trust than the reference.
 */
export function podTemplateEscalations(candidate: object, reference: object | undefined): string[] {
  const allowed = reference ? new Set(podTemplateGrants(reference)) : DEFAULT_GRANTS;
  return podTemplateGrants(candidate).filter(
    (grant) => !allowed.has(grant) && !(reference === undefined && DEFAULT_CONTAINER_GRANTS.some((d) => grant.endsWith(`: ${d}`))),
  );
}
