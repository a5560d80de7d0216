// Runtime dependency check of the image_build role. Run with `node -e` in the image, from the
// service's directory, with one argument: a JSON list of the service's production dependencies
// (the keys of "dependencies" in its package.json). Resolves each of them exactly as the service's
// own require() calls would and prints one line:
//   IMAGE_VERIFY {"node": …, "uid": …, "dir": …, "resolved": {name: file}, "missing": {name: error}}
// A package without a CommonJS entry point (ESM-only exports, types only) counts as resolved when
// its package.json is reachable; a dangling pnpm link or an unbuilt "main" counts as missing.
'use strict';
const fs = require('fs');
const path = require('path');
const Module = require('module');

const names = JSON.parse(process.argv[1] || '[]');
const dir = process.cwd();
const report = {
  node: process.version,
  uid: typeof process.getuid === 'function' ? process.getuid() : null,
  dir,
  resolved: {},
  missing: {},
};

function manifestOf(name) {
  for (const base of Module._nodeModulePaths(dir)) {
    const file = path.join(base, name, 'package.json');
    if (fs.existsSync(file)) {
      return file;
    }
  }
  return null;
}

for (const name of names) {
  try {
    report.resolved[name] = require.resolve(name, { paths: [dir] });
  } catch (error) {
    const manifest = manifestOf(name);
    let entryless = false;
    if (manifest) {
      try {
        const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8'));
        entryless = error.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED' || (!pkg.main && !pkg.exports);
      } catch (ignored) {
        entryless = false;
      }
    }
    if (entryless) {
      report.resolved[name] = manifest;
    } else {
      report.missing[name] = String(error.message).split('\n')[0];
    }
  }
}
console.log('IMAGE_VERIFY ' + JSON.stringify(report));
