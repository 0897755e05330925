// The fences of the architecture, checked by `npm run lint:layers` (dependency-cruiser).
// core: domain is pure (imports only domain, the contract and the error family); application (use cases) imports
// domain and ports, never an adapter; no cycles. (ESLint's no-restricted-imports keeps @kubernetes/client-node in core's kubernetes/.)
const CORE = '^packages/core/src';
const PURE = `${CORE}/(domain/|contract\\.ts$|errors\\.ts$)`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules that import each other cannot be understood or tested alone.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-imports-only-domain',
      severity: 'error',
      comment: 'The domain is pure: rules over plain data, no ports, adapters, use cases or Node (cron-parser is pure computation).',
      from: { path: `${CORE}/domain/`, pathNot: '\\.test\\.tsx?$' },
      to: { pathNot: [PURE, '^node_modules/cron-parser/'] },
    },
    {
      name: 'application-imports-domain-and-ports',
      severity: 'error',
      comment: 'Use cases depend on ports, not on the adapters that implement them.',
      from: { path: `${CORE}/application/`, pathNot: '\\.test\\.tsx?$' },
      to: { path: `${CORE}/(kubernetes|testing)/` },
    },
    {
      name: 'no-production-import-of-test-support',
      severity: 'error',
      comment: 'In-memory fakes and fixtures are for tests.',
      from: { path: '^packages/[^/]+/src/', pathNot: ['\\.test\\.tsx?$', '/testing/', '/__fixtures__/', '/dev/'] },
      to: { path: ['^packages/core/src/testing/', '/__fixtures__/'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^packages/[^/]+/dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'types', 'default'],
      extensions: ['.ts', '.tsx', '.js'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
