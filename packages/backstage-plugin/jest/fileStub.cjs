// Images and stylesheets imported by Backstage components: jest only needs a value.
module.exports = 'test-file-stub';
