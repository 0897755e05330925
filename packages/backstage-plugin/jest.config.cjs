// Backstage frontend packages ship `.esm.js` in packages without "type": "module": they must be
// transpiled to CJS, so everything in node_modules is transformed except big packages known to be CJS.
module.exports = require('../../jest.base.cjs')('backstage-plugin', {
  config: {
    testEnvironment: 'jsdom',
    setupFilesAfterEnv: ['<rootDir>/src/setupTests.ts'],
    transformIgnorePatterns: [
      '/node_modules/(?:react|react-dom|scheduler|@material-ui|lodash|jsdom|@testing-library|core-js|@mui|playwright-core)/',
      '\\.cjs(\\.js)?$',
    ],
  },
  // ORDER MATTERS: the first match wins, so the stubs go before the '.js' stripper of the base.
  moduleNameMapper: {
    '\\.(svg|png|jpe?g|gif|woff2?|css)$': '<rootDir>/jest/fileStub.cjs',
    '/style-inject\\.es(\\.esm)?\\.js$': '<rootDir>/jest/styleInjectStub.cjs',
  },
});
