import { invalid } from '../errors.js';

/**
 * Literal environment values (`env[].value`) of a pod template are often secrets (an inline
 * POSTGRES_PASSWORD). A backup records its StatefulSet for restores, so the record keeps only
 * `valueFrom` references and names the variables whose value it dropped: `container/VARIABLE`.
 * A restore takes those values from the live StatefulSet. Pure: no I/O.
 */

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}
interface Container {
  name: string;
  env?: EnvVar[];
}
type PodTemplateHolder = {
  metadata?: { name?: string };
  spec?: { template?: { spec?: { containers?: Container[]; initContainers?: Container[] } } };
};

const containersOf = (sts: PodTemplateHolder): Container[] => {
  const pod = sts.spec?.template?.spec;
  return [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])];
};

/** A copy of the StatefulSet without literal env values, and the `container/VARIABLE` names of what was dropped. */
export function redactLiteralEnv<T extends object>(statefulSet: T): { redacted: T; names: string[] } {
  const copy = structuredClone(statefulSet);
  const names: string[] = [];
  for (const container of containersOf(copy as PodTemplateHolder))
    container.env = container.env?.map((v) => {
      if (v.value === undefined) return v;
      names.push(`${container.name}/${v.name}`);
      const { value: _dropped, ...rest } = v;
      return rest;
    });
  return { redacted: copy, names };
}

/**
 * The recorded StatefulSet with each redacted variable taken from the live one (same container, same
 * variable, its value or valueFrom). Refuses, naming them, when the live StatefulSet is gone or lacks one.
 */
export function restoreLiteralEnv<T extends object>(
  recorded: T,
  names: string[],
  live: PodTemplateHolder | undefined,
  backupId: string,
): T {
  if (names.length === 0) return recorded;
  const copy = structuredClone(recorded);
  const missing: string[] = [];
  const liveContainers = new Map((live ? containersOf(live) : []).map((c) => [c.name, c]));
  for (const container of containersOf(copy as PodTemplateHolder))
    container.env = container.env?.map((v) => {
      if (!names.includes(`${container.name}/${v.name}`)) return v;
      const now = liveContainers.get(container.name)?.env?.find((e) => e.name === v.name);
      if (!now || (now.value === undefined && now.valueFrom === undefined)) {
        missing.push(`${container.name}/${v.name}`);
        return v;
      }
      return now;
    });
  if (missing.length > 0) {
    const name = (recorded as PodTemplateHolder).metadata?.name ?? '';
    throw invalid(
      `backup ${backupId} recorded StatefulSet ${name} without the literal value of env ${missing.join(', ')} (backups never store literal env values), ` +
        (live
          ? `and the live StatefulSet ${name} has no such variable to take it from`
          : `and StatefulSet ${name} no longer exists to take it from`),
      `re-create StatefulSet ${name} with those variables, or move them to a Secret (env[].valueFrom.secretKeyRef) so backups record the reference`,
    );
  }
  return copy;
}
