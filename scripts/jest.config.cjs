module.exports = require('../jest.base.cjs')('scripts', { rootDir: __dirname });
