const path = require('node:path');

module.exports = require('../../jest.base.cjs')('backstage-backend', {
  // core's in-memory fakes, for unit tests of the router and the plugin.
  moduleNameMapper: {
    '^@pgbackup/core/testing$': path.join(__dirname, '../core/src/testing/index.ts'),
  },
});
