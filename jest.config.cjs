module.exports = {
  // A bound, not a speed claim: integration tests talk to a real cluster, and every suite runs on 2 shared cores.
  // Here, not per project: jest-circus reads testTimeout from the global config only (a project's is ignored).
  testTimeout: 60_000,
  projects: [
    '<rootDir>/packages/*',
    '<rootDir>/examples/backstage-app',
    '<rootDir>/tools/cluster',
    '<rootDir>/manifests',
    '<rootDir>/scripts',
  ],
  coverageReporters: ['text-summary', 'lcov'],
  collectCoverageFrom: ['packages/*/src/**/*.{ts,tsx}', '!**/*.test.{ts,tsx}', '!**/__fixtures__/**'],
};
