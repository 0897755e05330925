// Single-file build of the pgbackup HTTP API (packages/backstage-backend, standalone mode) for its image:
// an esbuild ESM bundle `server.mjs` (after `npm run build` of core and the backend), plus swagger-ui-dist, which
// serves its files from its own directory (__dirname) and so stays a plain package next to the bundle.
// Usage: node manifests/images/bundle-api.mjs [OUT_DIR]   (default manifests/.build/pgbackup-api)
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const backend = join(repo, 'packages/backstage-backend');
const out = resolve(process.argv[2] ?? join(repo, 'manifests/.build/pgbackup-api'));
const pkg = JSON.parse(readFileSync(join(backend, 'package.json'), 'utf8'));

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: { server: join(backend, 'bin/pgbackup-api.js') },
  outdir: out,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  minify: true,
  legalComments: 'none',
  // express and friends are CommonJS: give the ESM bundle a require().
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  external: ['swagger-ui-dist'],
  metafile: true,
  logLevel: 'warning',
});
const requireFromBackend = createRequire(join(backend, 'package.json'));
const swaggerDist = dirname(requireFromBackend.resolve('swagger-ui-dist/package.json'));
cpSync(swaggerDist, join(out, 'node_modules/swagger-ui-dist'), { recursive: true, filter: (src) => !/\.map$/.test(src) });
writeFileSync(
  join(out, 'package.json'),
  JSON.stringify({ name: 'pgbackup-api', version: pkg.version, private: true, type: 'module' }, null, 2) + '\n',
);
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`${out}/server.mjs  ${(bytes / 1e6).toFixed(1)} MB (pgbackup-api ${pkg.version})`);
