// The contract is one module: no label/annotation key (pgbackup's, Kubernetes', the snapshotter's,
// Backstage's) is written as a string anywhere else in the sources, so a key cannot drift between two copies.
import { describe, expect, it } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { GroupSnapshotStorage, SnapshotStorage } from './contract.js';

const PACKAGES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CONTRACT = path.join(PACKAGES, 'core/src/contract.ts');

/**
 * A key or key prefix of an owner we know: `pgbackup.io/…`, `*.k8s.io/…`, `*.kubernetes.io/…`, `backstage.io/…`.
 * Not an API version (`snapshot.storage.k8s.io/v1`), a URL (`https://pgbackup.io/problems/…`) or a path (`/var/run/secrets/kubernetes.io/…`).
 */
const KEY = /(?<![\w./-])(?:[a-z0-9-]+\.)*(?:pgbackup\.io|k8s\.io|kubernetes\.io|backstage\.io)\/(?!v\d+(?:(?:alpha|beta)\d+)?\b)/;

/** The text of every string literal and template part in a TypeScript source. */
function literals(fileName: string, text: string): string[] {
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) found.push(node.text);
    node.forEachChild(visit);
  };
  visit(ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, fileName.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS));
  return found;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'dist' ? [] : sources(full);
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [full] : [];
  });
}

/** `file: "literal"` for each key literal outside the contract. */
function keysOutsideContract(files: string[]): string[] {
  return files
    .filter((f) => f !== CONTRACT)
    .flatMap((f) =>
      literals(f, readFileSync(f, 'utf8'))
        .filter((s) => KEY.test(s))
        .map((s) => `${path.relative(PACKAGES, f)}: ${JSON.stringify(s)}`),
    );
}

describe('the contract module', () => {
  it('holds every label/annotation key: none is written as a string in any other source', () => {
    const files = readdirSync(PACKAGES).flatMap((p) => sources(path.join(PACKAGES, p, 'src')));
    expect(files.length).toBeGreaterThan(50);
    expect(keysOutsideContract(files)).toEqual([]);
  });

  it('recognises keys, and not API versions, URLs or paths', () => {
    const key = (s: string) => KEY.test(s);
    expect(
      ['pgbackup.io/retention', 'x pgbackup.io/type=scheduled', 'pv.kubernetes.io/', 'groupsnapshot.storage.k8s.io/is-default-class'].map(
        key,
      ),
    ).toEqual([true, true, true, true]);
    expect(
      [
        'snapshot.storage.k8s.io/v1',
        'groupsnapshot.storage.k8s.io/v1beta2',
        'https://pgbackup.io/problems/x',
        '/var/run/secrets/kubernetes.io/sa',
      ].map(key),
    ).toEqual([false, false, false, false]);
  });

  it('names the default-class annotations the snapshotter defines (kubernetes.io, while the API groups are k8s.io)', () => {
    expect(SnapshotStorage.isDefaultClass).toBe('snapshot.storage.kubernetes.io/is-default-class');
    expect(GroupSnapshotStorage.isDefaultClass).toBe('groupsnapshot.storage.kubernetes.io/is-default-class');
  });
});
