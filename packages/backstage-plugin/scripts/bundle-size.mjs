#!/usr/bin/env node
// The production bundle of the plugin's own code: src/index.ts and src/alpha.tsx with esbuild,
// minified, with Backstage, React, MUI and every other package external (an app has them already).
// Core's isomorphic schemas are bundled: they are pgbackup's own code.
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import * as esbuild from 'esbuild';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const result = await esbuild.build({
  entryPoints: { index: path.join(root, 'src/index.ts'), alpha: path.join(root, 'src/alpha.tsx') },
  bundle: true,
  splitting: true,
  format: 'esm',
  minify: true,
  write: false,
  outdir: '/size',
  platform: 'browser',
  target: 'es2022',
  jsx: 'automatic',
  metafile: true,
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
  plugins: [
    {
      name: 'externals',
      setup(b) {
        b.onResolve({ filter: /^@pgbackup\/core\/(isomorphic|permissions)$/ }, (args) => ({
          path: path.join(root, `../core/src/${args.path.split('/').pop()}.ts`),
        }));
        b.onResolve({ filter: /^\.\.?\/.*\.js$/ }, async (args) => {
          for (const ext of ['.ts', '.tsx']) {
            const r = await b.resolve(args.path.replace(/\.js$/, ext), { resolveDir: args.resolveDir, kind: args.kind });
            if (!r.errors.length) return r;
          }
          return undefined;
        });
        // Every bare package import is external.
        b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@pgbackup/') ? undefined : { path: args.path, external: true }));
      },
    },
  ],
});
let raw = 0;
let gz = 0;
for (const f of result.outputFiles) {
  raw += f.contents.length;
  gz += gzipSync(f.contents, { level: 9 }).length;
}
const externals = new Set();
for (const out of Object.values(result.metafile.outputs))
  for (const i of out.imports)
    if (i.external)
      externals.add(
        i.path
          .split('/')
          .slice(0, i.path.startsWith('@') ? 2 : 1)
          .join('/'),
      );
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`plugin bundle (index + alpha + lazy chunks, ${result.outputFiles.length} files): ${kb(raw)} minified, ${kb(gz)} gzipped`);
console.log(`externals: ${[...externals].sort().join(', ')}`);
const inputs = Object.entries(result.metafile.inputs)
  .map(([p, i]) => [p, i.bytes])
  .sort((a, b) => b[1] - a[1])
  .slice(0, 8);
console.log('largest inputs (source bytes):');
for (const [p, b] of inputs) console.log(`  ${kb(b).padStart(9)}  ${p}`);
