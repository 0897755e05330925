// The chart README's values table is generated (scripts/chart-readme.ts): it cannot drift from values.schema.json and
// values.yaml, and every value has a description.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument, type YAMLMap } from 'yaml';
import { CHART_DIR, readmeWithTable, valueRows, valuesTable } from '../../scripts/chart-readme.js';

type Schema = { properties?: Record<string, Schema>; additionalProperties?: unknown; $ref?: string };
const schema = JSON.parse(readFileSync(path.join(CHART_DIR, 'values.schema.json'), 'utf8'));

/** Every value the schema names: sections with closed properties opened, as the table does. */
function schemaKeys(props: Record<string, Schema>, prefix = ''): string[] {
  return Object.entries(props).flatMap(([name, p]) => {
    const s: Schema = p.$ref ? schema.definitions[p.$ref.replace('#/definitions/', '')] : p;
    return s.properties && s.additionalProperties === false ? schemaKeys(s.properties, `${prefix}${name}.`) : [`${prefix}${name}`];
  });
}

describe('chart README', () => {
  it('holds the values table generated from values.schema.json and values.yaml (run: node scripts/chart-readme.ts)', async () => {
    const file = path.join(CHART_DIR, 'README.md');
    const readme = readFileSync(file, 'utf8');
    expect(await readmeWithTable(readme, valuesTable(), file)).toBe(readme);
  });

  it('has a row, with a default and a description, for every value of the schema', () => {
    const doc = parseDocument(readFileSync(path.join(CHART_DIR, 'values.yaml'), 'utf8'));
    const rows = valueRows(schema, doc.contents as YAMLMap, doc.commentBefore);
    // `global` is Helm's (values shared with subcharts), not the chart's.
    expect(rows.map((r) => r.key).sort()).toEqual(
      schemaKeys(schema.properties)
        .filter((k) => k !== 'global')
        .sort(),
    );
    for (const r of rows) expect({ key: r.key, described: r.description.length > 10 }).toEqual({ key: r.key, described: true });
  });

  it('refuses a value without a description and a value the schema does not know', () => {
    const rows = (yaml: string) => () => valueRows(schema, parseDocument(yaml).contents as YAMLMap);
    expect(rows('# -- A name.\nnameOverride: x\nfullnameOverride: y\n')).toThrow(/fullnameOverride has no `# --` comment/);
    expect(rows('# -- A typo.\nnameOverid: x\n')).toThrow(/nameOverid is not in values.schema.json/);
  });
});
