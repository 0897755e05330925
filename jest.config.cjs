module.exports = {
  projects: ['<rootDir>/packages/*', '<rootDir>/tools/cluster', '<rootDir>/manifests', '<rootDir>/scripts'],
  coverageReporters: ['text-summary', 'lcov'],
  collectCoverageFrom: ['packages/*/src/**/*.{ts,tsx}', '!**/*.test.{ts,tsx}', '!**/__fixtures__/**'],
};
