// jsdom cannot parse @backstage/ui's CSS; the function itself is the export (see research/module-system.md).
function styleInject() {}
styleInject.default = styleInject;
module.exports = styleInject;
