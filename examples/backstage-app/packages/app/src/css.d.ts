// Stylesheets are bundled by esbuild (scripts/start.mjs); TypeScript only needs to know they exist.
declare module '*.css';
