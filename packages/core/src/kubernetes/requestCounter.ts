import type { KubeConfig } from '@kubernetes/client-node';

export interface RequestCount {
  readonly count: number;
}

const counted = new WeakMap<KubeConfig, RequestCount>();

/**
 * Counts the requests sent through a KubeConfig. Every client-node request applies the
 * KubeConfig's options exactly once (API calls and watches through applySecurityAuthentication,
 * exec and port-forward through applyToHTTPSOptions), so that is where each is counted.
 */
export function countRequests(kc: KubeConfig): RequestCount {
  const existing = counted.get(kc);
  if (existing) return existing;
  const counter = { count: 0 };
  const target = kc as unknown as { applyOptions(opts: unknown): Promise<void> };
  const applyOptions = target.applyOptions.bind(kc);
  target.applyOptions = (opts) => {
    counter.count++;
    return applyOptions(opts);
  };
  counted.set(kc, counter);
  return counter;
}
