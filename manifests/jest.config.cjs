module.exports = require('../jest.base.cjs')('manifests', { rootDir: __dirname });
