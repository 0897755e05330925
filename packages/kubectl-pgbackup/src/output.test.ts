import { describe, expect, it } from '@jest/globals';
import { BackupListSchema } from '@pgbackup/core/isomorphic';
import { aBackup } from '@pgbackup/core/testing';
import { parse as parseYaml } from 'yaml';
import { renderTemplate } from './jsonpath.js';
import { age, humanBytes, parseOutput, render, resourceName, serialize, table } from './output.js';
import { backupListView } from './views.js';

describe('table', () => {
  const rows = [
    { a: 'x', b: 'long value' },
    { a: 'longer', b: 'y' },
  ];
  const columns = [
    { header: 'a', value: (r: (typeof rows)[number]) => r.a },
    { header: 'bee', value: (r: (typeof rows)[number]) => r.b },
    { header: 'extra', value: () => 'w', wide: true },
  ];

  it('aligns columns three spaces apart under upper-case headers, like kubectl', () => {
    expect(table(rows, columns)).toBe('A        BEE\nx        long value\nlonger   y\n');
  });

  it('drops the header line with --no-headers and adds wide columns with -o wide', () => {
    expect(table(rows, columns, { noHeaders: true })).toBe('x        long value\nlonger   y\n');
    expect(table(rows, columns, { wide: true }).split('\n')[0]).toBe('A        BEE          EXTRA');
  });
});

describe('formats', () => {
  const backups = [aBackup('pg-20260601020000-abcd', '2026-06-01T02:00:00Z', { size: 1024 ** 3 })];

  it('prints json that parses back through the BackupList schema', async () => {
    const { stdout } = await render(backupListView(backups), { format: 'json' });
    const doc = JSON.parse(stdout);
    expect(doc.kind).toBe('BackupList');
    expect(BackupListSchema.parse(doc).items[0]!.id).toBe('pg-20260601020000-abcd');
  });

  it('prints yaml with the same content as json', async () => {
    const yaml = (await render(backupListView(backups), { format: 'yaml' })).stdout;
    const json = (await render(backupListView(backups), { format: 'json' })).stdout;
    expect(parseYaml(yaml)).toEqual(JSON.parse(json));
  });

  it('prints backup/<id> per line with -o name', async () => {
    expect((await render(backupListView(backups), { format: 'name' })).stdout).toBe('backup/pg-20260601020000-abcd\n');
  });

  it('says so on stderr when a table has no rows', async () => {
    expect(await render(backupListView([], { namespace: 'db' }), { format: 'table' })).toEqual({
      stdout: '',
      stderr: 'No backups found in db namespace.\n',
    });
  });

  it('refuses to print data that does not match its schema', async () => {
    await expect(serialize('Backup', { id: 'x' }, 'json')).rejects.toThrow(/does not match its schema/);
  });
});

describe('humanBytes and age', () => {
  it('uses binary suffixes', () => {
    expect([0, 1023, 1024, 1536 * 1024 ** 2, 10 * 1024 ** 3].map(humanBytes)).toEqual(['0', '1023', '1Ki', '1.5Gi', '10Gi']);
  });

  it('formats ages as kubectl does', () => {
    const now = new Date('2026-06-10T00:00:00Z');
    const ago = (s: number) => age(new Date(now.getTime() - s * 1000), now);
    expect([ago(5), ago(119), ago(192), ago(600), ago(3 * 3600 + 60), ago(30 * 3600), ago(3 * 86400), ago(40 * 86400)]).toEqual([
      '5s',
      '119s',
      '3m12s',
      '10m',
      '3h1m',
      '30h',
      '3d',
      '40d',
    ]);
  });
});

describe('-o as kubectl spells it', () => {
  const backups = [
    aBackup('pg-20260601020000-abcd', '2026-06-01T02:00:00Z', { size: 1024 ** 3 }),
    aBackup('pg-20260602020000-efgh', '2026-06-02T02:00:00Z', { pinned: true }),
  ];

  it('parses the formats and refuses unknown ones with a usage error', () => {
    expect(parseOutput(undefined)).toEqual({ format: 'table' });
    expect(parseOutput('wide')).toEqual({ format: 'wide' });
    expect(parseOutput('jsonpath={.items[*].id}')).toEqual({ format: 'jsonpath', template: '{.items[*].id}' });
    expect(parseOutput('custom-columns=ID:.id,PINNED:{.pinned}')).toEqual({
      format: 'custom-columns',
      customColumns: [
        { header: 'ID', path: '.id' },
        { header: 'PINNED', path: '.pinned' },
      ],
    });
    expect(() => parseOutput('xml')).toThrow(expect.objectContaining({ message: 'unknown output format "xml"', exitCode: 2 }));
    expect(() => parseOutput('jsonpath=')).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => parseOutput('custom-columns=ID')).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/"ID" is not NAME:PATH/), exitCode: 2 }),
    );
  });

  it('jsonpath reads the same document as json: a wildcard, a range, quoted text, a filter', async () => {
    const out = (template: string) => render(backupListView(backups), { format: 'jsonpath', template }).then((r) => r.stdout);
    expect(await out('{.items[*].id}')).toBe('pg-20260601020000-abcd pg-20260602020000-efgh');
    expect(await out('{range .items[*]}{.id}{"\\t"}{.pinned}{"\\n"}{end}')).toBe(
      'pg-20260601020000-abcd\tfalse\npg-20260602020000-efgh\ttrue\n',
    );
    expect(await out('{.kind}: {.items[0].size}')).toBe('BackupList: 1073741824');
    expect(await out('{.items[?(@.pinned==true)].id}')).toBe('pg-20260602020000-efgh');
    expect(await out('{.items[0].nothing}')).toBe('');
  });

  it('refuses a template that does not parse', () => {
    expect(() => renderTemplate('{range .items[*]}{.id}', {})).toThrow(/\{range\} without \{end\}/);
    expect(() => renderTemplate('{.id', {})).toThrow(/unclosed/);
  });

  it('custom-columns prints a kubectl table of the paths, <none> for missing ones, honouring --no-headers', async () => {
    const customColumns = parseOutput('custom-columns=ID:.id,PINNED:.pinned,POD:.pod').customColumns!;
    const { stdout } = await render(backupListView(backups), { format: 'custom-columns', customColumns });
    expect(stdout).toBe(
      'ID                       PINNED   POD\npg-20260601020000-abcd   false    <none>\npg-20260602020000-efgh   true     <none>\n',
    );
    const bare = await render(backupListView(backups), { format: 'custom-columns', customColumns, noHeaders: true });
    expect(bare.stdout.split('\n')[0]).toMatch(/^pg-20260601020000-abcd/);
  });

  it('prints Kubernetes objects as a kubectl List in json, one yaml document each, kind.group/name for -o name', async () => {
    const objects = [
      { apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: { name: 'a' } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'b' } },
    ];
    const view = { objects, rows: objects, columns: [], name: resourceName };
    expect(JSON.parse((await render(view, { format: 'json' })).stdout)).toEqual({ apiVersion: 'v1', kind: 'List', items: objects });
    expect((await render(view, { format: 'yaml' })).stdout.split('---\n').map((d) => parseYaml(d))).toEqual(objects);
    expect((await render(view, { format: 'name' })).stdout).toBe('volumesnapshot.snapshot.storage.k8s.io/a\nserviceaccount/b\n');
    expect((await render(view, { format: 'jsonpath', template: '{.items[*].metadata.name}' })).stdout).toBe('a b');
  });
});
