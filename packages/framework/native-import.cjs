// A native dynamic import, loaded with require() so that no bundler or test runner rewrites it:
// the framework must import user functions with Node's own loader and hooks.
exports.nativeImport = (url) => import(url);
