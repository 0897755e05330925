// Shared jest config: native ESM (client-node is ESM-only), TypeScript through @swc/jest.
const path = require('node:path');

const swc = (syntax) => [
  '@swc/jest',
  {
    jsc: {
      parser: syntax === 'ts' ? { syntax: 'typescript', tsx: true } : { syntax: 'ecmascript', jsx: true },
      transform: { react: { runtime: 'automatic' } },
      target: 'es2023',
    },
  },
];

// Tests run against the workspaces' sources, not their builds.
const workspaceSources = {
  '^@pgbackup/core$': path.join(__dirname, 'packages/core/src/index.ts'),
  '^@pgbackup/core/isomorphic$': path.join(__dirname, 'packages/core/src/isomorphic.ts'),
  '^@pgbackup/core/permissions$': path.join(__dirname, 'packages/core/src/permissions.ts'),
  '^@pgbackup/core/format$': path.join(__dirname, 'packages/core/src/format.ts'),
};

module.exports = (name, extra = {}) => ({
  displayName: name,
  rootDir: extra.rootDir ?? path.join(__dirname, 'packages', name),
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts', '.tsx'],
  transform: { '^.+\\.(ts|tsx)$': swc('ts'), '^.+\\.(js|jsx|mjs|cjs)$': swc('js') },
  transformIgnorePatterns: ['/node_modules/'],
  moduleNameMapper: { ...(extra.moduleNameMapper ?? {}), ...workspaceSources, '^(\\.{1,2}/.*)\\.js$': '$1' },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  ...(extra.config ?? {}),
});
