import { parseRequirement, splitRequirements } from './labelSelector.js';
import { invalid } from '../errors.js';

export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `value` is not a name of at most `max` characters matching `pattern` (made of `allowed`), or undefined when it is one. */
const nameProblem =
  (max: number, pattern: RegExp, allowed: string) =>
  (value: string): string | undefined => {
    if (value.length === 0) return 'must not be empty';
    if (value.length > max) return `must be no more than ${max} characters (got ${value.length})`;
    if (!pattern.test(value)) return `must consist of ${allowed}, and must start and end with an alphanumeric character`;
    return undefined;
  };

/** Why `value` is not a DNS-1123 label (namespaces, StatefulSets, backup ids), or undefined when it is one. */
export const dns1123LabelProblem = nameProblem(63, DNS1123_LABEL, "lower case alphanumeric characters or '-'");

/** Why `value` is not a DNS-1123 subdomain (names of PVCs, VolumeSnapshots, classes), or undefined. */
export const dns1123SubdomainProblem = nameProblem(253, DNS1123_SUBDOMAIN, "lower case alphanumeric characters, '-' or '.'");

export function assertName(kind: string, value: string, rule: 'label' | 'subdomain' = 'label'): string {
  const problem = rule === 'label' ? dns1123LabelProblem(value) : dns1123SubdomainProblem(value);
  if (problem)
    throw invalid(`invalid ${kind} name "${value}": ${problem}`, `${kind} names follow the Kubernetes DNS-1123 rules, e.g. "pg-main"`);
  return value;
}

// Label keys: optional DNS subdomain prefix + '/' + name of ≤63 alphanumerics, '-', '_', '.'.
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const [prefix, name] = slash >= 0 ? [key.slice(0, slash), key.slice(slash + 1)] : [undefined, key];
  if (prefix !== undefined && dns1123SubdomainProblem(prefix)) return `invalid label key prefix "${prefix}"`;
  if (!LABEL_NAME.test(name)) return `invalid label key "${key}"`;
  return undefined;
}

function labelValueProblem(value: string): string | undefined {
  return value.length <= 63 && LABEL_VALUE.test(value) ? undefined : `invalid label value "${value}"`;
}

/**
 * Validates a Kubernetes label selector (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`),
 * so a typo fails here with a precise message rather than as an API-server 400.
 */
export function assertLabelSelector(selector: string): string {
  for (const req of splitRequirements(selector)) {
    const problem = requirementProblem(req);
    if (problem) throw invalid(`invalid label selector "${selector}": ${problem}`, 'examples: "app=pg", "tier in (db,cache)", "!canary"');
  }
  return selector;
}

function requirementProblem(raw: string): string | undefined {
  if (raw === '') return 'empty requirement';
  const req = parseRequirement(raw);
  if (!req) return `cannot parse "${raw}"`;
  const keyProblem = labelKeyProblem(req.key);
  if (keyProblem) return keyProblem;
  if (req.kind === 'set') return req.values.map(labelValueProblem).find(Boolean);
  if (req.kind === 'equality') return labelValueProblem(req.value);
  return undefined;
}

/** Compact UTC time used in backup ids: sortable as text. */
export function compactTimestamp(at: Date): string {
  return at.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/**
 * A backup id: `<statefulset>-<YYYYMMDDhhmmss>-<4 random>`, a DNS-1123 label that sorts by time
 * within a StatefulSet; the suffix keeps two backups in the same second apart.
 */
export function newBackupId(statefulSet: string, at: Date, random: () => number = Math.random): string {
  const suffix = Array.from({ length: 4 }, () => '0123456789abcdefghijklmnopqrstuvwxyz'[Math.floor(random() * 36)]).join('');
  const tail = `-${compactTimestamp(at)}-${suffix}`;
  const prefix = statefulSet.slice(0, 63 - tail.length).replace(/-+$/, '');
  return `${prefix}${tail}`;
}
