// Main script of the Node single executable (SEA), built by scripts/release.js (CommonJS: a SEA main
// script cannot be ESM; its own require() loads built-ins only).
//
// Fast path: `--version`, `-v`, `--help`, `-h`, no arguments and `<verb> --help` print text that
// release.js rendered with oclif at build time, so neither oclif nor the Kubernetes client is loaded
// and the process costs what Node's own start-up costs. Help is pre-rendered at oclif's width for a
// pipe (80 columns); on a terminal of another width, or with OCLIF_COLUMNS set, oclif renders it.
//
// Everything else loads the ESM bundle next to the executable (lib/main.mjs, oclif + commands,
// with @pgbackup/core and the Kubernetes client in lazily imported chunks), with Node's compile cache
// on so that repeated runs skip most of the parsing and compiling.
'use strict';
const DATA = /*DATA*/ null;

function userAgent() {
  return `${DATA.name}/${DATA.version} ${process.platform}-${process.arch} node-${process.version}`;
}

function fastText(argv) {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) return userAgent() + '\n';
  const last = argv[argv.length - 1];
  const wantsHelp = argv.length === 0 || last === '--help' || last === '-h';
  if (!wantsHelp) return undefined;
  if (process.env.OCLIF_COLUMNS) return undefined;
  if (process.stdout.isTTY) {
    const width = process.stdout.getWindowSize()[0];
    if (width >= 1 && width !== 80) return undefined;
  }
  const id = argv.slice(0, -1).join(' ');
  const text = argv.length === 0 ? DATA.noArgs : DATA.help[id];
  return text === undefined ? undefined : text.split(DATA.userAgentPlaceholder).join(userAgent());
}

const text = fastText(process.argv.slice(2));
if (text !== undefined) {
  process.stdout.write(text);
} else {
  const path = require('node:path');
  const Module = require('node:module');
  if (typeof Module.enableCompileCache === 'function' && !process.env.NODE_DISABLE_COMPILE_CACHE) {
    try {
      Module.enableCompileCache();
    } catch {
      // A read-only temp directory only costs speed.
    }
  }
  // process.execPath is the executable's real path (Krew's symlink resolved); lib/ sits beside it.
  const main = path.join(path.dirname(process.execPath), 'lib', 'main.mjs');
  Module.createRequire(main)(main);
}
