#!/usr/bin/env node
// The dev page's server: bundles dev/index.tsx with esbuild, serves it, and proxies
// /api/pgbackup/* to the pgbackup API (so the browser needs no CORS and never sees the token).
//
//   PGBACKUP_API_URL      the API to proxy to                  (default http://127.0.0.1:7007)
//   PGBACKUP_API_TOKEN    bearer token added to proxied calls  (the standalone server's write token)
//   PGBACKUP_DEV_NAMESPACE / PGBACKUP_DEV_STATEFULSET   what the live page's sample entity points at (default default/pg)
//   PORT / HOST           where to listen                      (default 127.0.0.1:3000; PORT=0 picks one)
import { createServer, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const env = process.env;
const apiUrl = new URL(env.PGBACKUP_API_URL ?? 'http://127.0.0.1:7007');
const port = Number(env.PORT ?? 3000);
const host = env.HOST ?? '127.0.0.1';
const live = { namespace: env.PGBACKUP_DEV_NAMESPACE ?? 'default', statefulSet: env.PGBACKUP_DEV_STATEFULSET ?? 'pg' };

export async function bundle() {
  const result = await esbuild.build({
    entryPoints: [path.join(here, 'index.tsx')],
    bundle: true,
    write: false,
    format: 'esm',
    splitting: true,
    outdir: '/dev-bundle',
    publicPath: '/static',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    sourcemap: 'inline',
    logLevel: 'warning',
    loader: { '.svg': 'dataurl', '.png': 'dataurl', '.jpg': 'dataurl', '.woff': 'dataurl', '.woff2': 'dataurl', '.ttf': 'dataurl' },
    define: {
      'process.env.NODE_ENV': '"development"',
      'process.env.HAS_REACT_DOM_CLIENT': 'true',
      // The app's config (core-app-api reads it from here, as the Backstage CLI's webpack build injects it).
      'process.env.APP_CONFIG': JSON.stringify([]),
      global: 'globalThis',
    },
    // `.js` relative imports name `.ts(x)` sources.
    resolveExtensions: ['.tsx', '.ts', '.jsx', '.js', '.mjs', '.json'],
    plugins: [
      {
        name: 'ts-js-suffix',
        setup(b) {
          b.onResolve({ filter: /^\.\.?\/.*\.js$/ }, async (args) => {
            if (args.importer.includes('node_modules')) return undefined;
            for (const ext of ['.ts', '.tsx']) {
              const r = await b.resolve(args.path.replace(/\.js$/, ext), { resolveDir: args.resolveDir, kind: args.kind });
              if (!r.errors.length) return r;
            }
            return undefined;
          });
        },
      },
      {
        // The workspace's core, from source (its browser-safe entries only).
        name: 'pgbackup-core',
        setup(b) {
          b.onResolve({ filter: /^@pgbackup\/core\/(isomorphic|permissions|format)$/ }, (args) => ({
            path: path.join(here, `../../core/src/${args.path.split('/').pop()}.ts`),
          }));
        },
      },
    ],
  });
  const files = new Map();
  for (const f of result.outputFiles) files.set('/static/' + path.basename(f.path), f.contents);
  return files;
}

const page = (baseUrl) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>pgbackup – dev page</title>
<script>
window.__APP_CONFIG__ = ${JSON.stringify({ app: { title: 'pgbackup dev', baseUrl }, backend: { baseUrl } })};
window.__PGBACKUP_DEV__ = ${JSON.stringify(live)};
// The dev app has no auth backend: sign in as the legacy guest without asking.
localStorage.setItem('enableLegacyGuestToken', 'true');
</script>
</head>
<body><div id="root"></div><script type="module" src="/static/index.js"></script></body>
</html>`;

function proxy(req, res) {
  const target = new URL(req.url.replace(/^\/api\/pgbackup/, '') || '/', apiUrl);
  target.pathname = (apiUrl.pathname.replace(/\/$/, '') + target.pathname).replace(/\/+/g, '/');
  const headers = { ...req.headers, host: target.host };
  if (env.PGBACKUP_API_TOKEN) headers.authorization = `Bearer ${env.PGBACKUP_API_TOKEN}`;
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const up = send(target, { method: req.method, headers }, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    r.pipe(res);
  });
  up.on('error', (e) => {
    res.writeHead(502, { 'content-type': 'application/problem+json' });
    res.end(
      JSON.stringify({
        type: 'about:blank',
        title: 'Bad Gateway',
        status: 502,
        detail: `the dev server could not reach the pgbackup API at ${apiUrl.href}: ${e.message}`,
        hint: 'start it (see packages/backstage-plugin/README.md) or set PGBACKUP_API_URL',
      }),
    );
  });
  req.pipe(up);
}

export async function start() {
  const files = await bundle();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.startsWith('/api/pgbackup')) return proxy(req, res);
    if (url.pathname.startsWith('/api/')) {
      // No auth (or any other) backend here: the guest sign-in falls back to the legacy guest token.
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ error: { name: 'NotFoundError', message: `the dev server has no ${url.pathname}` } }));
    }
    const file = files.get(url.pathname);
    if (file) {
      res.writeHead(200, { 'content-type': url.pathname.endsWith('.css') ? 'text/css' : 'text/javascript', 'cache-control': 'no-store' });
      return res.end(file);
    }
    if (url.pathname.startsWith('/static/')) {
      res.writeHead(404);
      return res.end();
    }
    const addr = server.address();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page(`http://${req.headers.host ?? `${host}:${addr.port}`}`));
  });
  await new Promise((resolve) => server.listen(port, host, resolve));
  const { port: actual } = server.address();
  return { server, url: `http://${host}:${actual}` };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await start();
  console.log(
    `pgbackup dev page: ${url}/live (API ${apiUrl.href}, StatefulSet ${live.namespace}/${live.statefulSet}); fixture pages: /fleet /healthy /late /failed /empty /denied /forbidden /error /loading /missing-annotation (the Backups tab at <page>/backups)`,
  );
}
