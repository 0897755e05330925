module.exports = require('../../jest.base.cjs')('cluster', { rootDir: __dirname });
