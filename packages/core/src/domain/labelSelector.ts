/** Kubernetes label selectors (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, comma-separated). */
export type Requirement =
  | { kind: 'set'; key: string; operator: 'in' | 'notin'; values: string[] }
  | { kind: 'equality'; key: string; operator: '=' | '==' | '!='; value: string }
  | { kind: 'exists'; key: string; negated: boolean };

/** The requirements of a selector, trimmed, empty ones kept (commas inside `in (…)` do not split). */
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
  return out.map((r) => r.trim());
}

/** Parses one requirement, or undefined when it has none of the selector forms. */
export function parseRequirement(req: string): Requirement | undefined {
  const set = /^(\S+)\s+(in|notin)\s+\(([^()]*)\)$/.exec(req);
  if (set) return { kind: 'set', key: set[1]!, operator: set[2] as 'in' | 'notin', values: set[3]!.split(',').map((v) => v.trim()) };
  const eq = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(req);
  if (eq) return { kind: 'equality', key: eq[1]!, operator: eq[2] as '=' | '==' | '!=', value: eq[3]! };
  const exists = /^(!?)\s*([^=!\s()]+)$/.exec(req);
  if (exists) return { kind: 'exists', key: exists[2]!, negated: exists[1] === '!' };
  return undefined;
}

/** Whether `labels` match a selector; the empty selector matches everything. For reads served from a cache. */
export function labelsMatch(labels: Record<string, string>, selector: string): boolean {
  return splitRequirements(selector)
    .filter((r) => r !== '')
    .every((raw) => {
      const req = parseRequirement(raw);
      if (!req) throw new Error(`cannot parse label selector requirement "${raw}"`);
      const present = req.key in labels;
      switch (req.kind) {
        case 'set': {
          const has = present && req.values.includes(labels[req.key]!);
          return req.operator === 'in' ? has : !has;
        }
        case 'equality':
          return req.operator === '!=' ? labels[req.key] !== req.value : labels[req.key] === req.value;
        case 'exists':
          return req.negated ? !present : present;
      }
    });
}
