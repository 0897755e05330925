import { Labels, MANAGED_SELECTOR } from '../contract.js';
import { dns1123LabelProblem } from '../domain/names.js';
import type { Deps } from './deps.js';

export type CompletionKind = 'statefulset' | 'backup';

/**
 * Names for shell completion: StatefulSets and/or backup ids in a namespace that start with
 * `prefix`. Cheap (one list call per kind) and never throws: completion must stay quiet.
 */
export async function completeNames(
  deps: Pick<Deps, 'workloads' | 'snapshots'>,
  options: { namespace: string; kinds: CompletionKind[]; prefix?: string },
): Promise<string[]> {
  if (dns1123LabelProblem(options.namespace)) return [];
  const prefix = options.prefix ?? '';
  const lists = await Promise.all(
    options.kinds.map(async (kind) => {
      try {
        if (kind === 'statefulset') return await deps.workloads.listStatefulSetNames(options.namespace);
        const snapshots = await deps.snapshots.list({ namespace: options.namespace, labelSelector: MANAGED_SELECTOR });
        return [...new Set(snapshots.map((s) => s.labels[Labels.backup]).filter((id): id is string => !!id))].sort().reverse();
      } catch {
        return [];
      }
    }),
  );
  return [...new Set(lists.flat())].filter((n) => n.startsWith(prefix));
}
