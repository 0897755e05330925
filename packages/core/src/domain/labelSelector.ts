/**
 * Whether `labels` match a Kubernetes label selector (`a=b`, `a==b`, `a!=b`, `a in (x,y)`,
 * `a notin (x)`, `a`, `!a`, comma-separated), for reads served from a cache.
 */
export function labelsMatch(labels: Record<string, string>, selector: string): boolean {
  return splitRequirements(selector).every((req) => {
    const set = /^(\S+)\s+(in|notin)\s+\(([^()]*)\)$/.exec(req);
    if (set) {
      const values = set[3]!.split(',').map((v) => v.trim());
      const has = set[1]! in labels && values.includes(labels[set[1]!]!);
      return set[2] === 'in' ? has : !has;
    }
    const eq = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(req);
    if (eq) return eq[2] === '!=' ? labels[eq[1]!] !== eq[3] : labels[eq[1]!] === eq[3];
    const exists = /^(!?)\s*(\S+)$/.exec(req);
    if (exists) return exists[1] === '!' ? !(exists[2]! in labels) : exists[2]! in labels;
    throw new Error(`cannot parse label selector requirement "${req}"`);
  });
}

/** The requirements of a selector (commas inside `in (…)` do not split). */
export function splitRequirements(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out.map((r) => r.trim()).filter((r) => r !== '');
}
