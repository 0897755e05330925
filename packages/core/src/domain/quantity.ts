const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** Parses a Kubernetes resource quantity ("10Gi", "1500M", "1e3") into a whole number of units. */
export function parseQuantity(q: string): number {
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$/.exec(q.trim());
  if (!m) throw new Error(`invalid quantity "${q}"`);
  const factor = BINARY[m[2]!] ?? DECIMAL[m[2]!];
  if (factor === undefined) throw new Error(`invalid quantity suffix in "${q}"`);
  return Math.ceil(Number(m[1]) * factor);
}
