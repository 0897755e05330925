const path = require('node:path');

module.exports = require('../../jest.base.cjs')('kubectl-pgbackup', {
  // core's in-memory fakes, for unit tests of the commands.
  moduleNameMapper: { '^@pgbackup/core/testing$': path.join(__dirname, '../core/src/testing/index.ts') },
});
