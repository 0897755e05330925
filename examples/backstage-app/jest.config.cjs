module.exports = require('../../jest.base.cjs')('backstage-app', { rootDir: __dirname });
