/**
 * kubectl's JSONPath templates (`-o jsonpath=…`, the paths of `-o custom-columns=…`): text with
 * `{expression}`s, `{range …}…{end}` and `{"quoted text"}`, `$` optional. Each expression is
 * evaluated by jsonpath-plus (the library client-node ships); this module adds only the template
 * layer kubectl puts around JSONPath.
 */
import { JSONPath } from 'jsonpath-plus';
import { CliError, ExitCode } from './errors.js';

type Node = { text: string } | { expr: string } | { range: string; body: Node[] };

function tokens(template: string): ({ text: string } | { action: string })[] {
  const out: ({ text: string } | { action: string })[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open < 0) {
      out.push({ text: template.slice(i) });
      break;
    }
    if (open > i) out.push({ text: template.slice(i, open) });
    // The closing brace, skipping braces inside double-quoted text.
    let j = open + 1;
    let quoted = false;
    for (; j < template.length; j++) {
      if (template[j] === '\\' && quoted) j++;
      else if (template[j] === '"') quoted = !quoted;
      else if (template[j] === '}' && !quoted) break;
    }
    if (j >= template.length) throw new CliError(`invalid jsonpath template "${template}": unclosed "{"`, ExitCode.usage);
    out.push({ action: template.slice(open + 1, j).trim() });
    i = j + 1;
  }
  return out;
}

/** Parses a template; bad ones are usage errors naming the problem. */
export function parseTemplate(template: string): Node[] {
  const stack: Node[][] = [[]];
  const ranges: string[] = [];
  for (const t of tokens(template)) {
    const top = stack[stack.length - 1]!;
    if ('text' in t) top.push(t);
    else if (t.action.startsWith('range ')) {
      ranges.push(t.action.slice(6).trim());
      stack.push([]);
    } else if (t.action === 'end') {
      if (ranges.length === 0) throw new CliError(`invalid jsonpath template "${template}": {end} without {range}`, ExitCode.usage);
      const body = stack.pop()!;
      stack[stack.length - 1]!.push({ range: ranges.pop()!, body });
    } else if (/^".*"$/s.test(t.action)) top.push({ text: JSON.parse(t.action) as string });
    else top.push({ expr: t.action });
  }
  if (ranges.length > 0) throw new CliError(`invalid jsonpath template "${template}": {range} without {end}`, ExitCode.usage);
  return stack[0]!;
}

/** The values an expression selects from `data`: `.items[*].id`, `@`, `$.kind`, `['key']`. */
export function select(expression: string, data: unknown): unknown[] {
  const e = expression.trim();
  const path =
    e === '@' || e === '$'
      ? '$'
      : e.startsWith('$')
        ? e
        : e.startsWith('@')
          ? `$${e.slice(1)}`
          : `$${e.startsWith('[') || e.startsWith('.') ? '' : '.'}${e}`;
  try {
    return JSONPath({ path, json: data as object, wrap: true, eval: 'safe' }) as unknown[];
  } catch (err) {
    throw new CliError(`invalid jsonpath expression "${expression}": ${(err as Error).message}`, ExitCode.usage);
  }
}

/** A value as kubectl prints it: strings bare, everything else as JSON. */
export const valueText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

function run(nodes: Node[], data: unknown): string {
  let out = '';
  for (const n of nodes) {
    if ('text' in n) out += n.text;
    else if ('expr' in n) out += select(n.expr, data).map(valueText).join(' ');
    else for (const item of select(n.range, data).flatMap((v) => (Array.isArray(v) ? v : [v]))) out += run(n.body, item);
  }
  return out;
}

/** Renders a kubectl JSONPath template against `data`; a missing field prints nothing (kubectl's --allow-missing-template-keys). */
export function renderTemplate(template: string, data: unknown): string {
  return run(parseTemplate(template), data);
}
