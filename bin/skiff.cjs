// skiff's node entry (bin/skiff runs it; node re-executions of skiff, e.g. into the user namespace,
// run it directly). The whole CLI is one bundle (dist/skiff.cjs, made by `make bundle`); it is compiled
// here with V8's code cache (dist/skiff.cjs.cache) so start-up does not parse it. A cache that V8
// rejects (another node, other flags) or that is older than the bundle is not used: the bundle is
// then compiled from source as `require` would. `SKIFF_WRITE_CODE_CACHE=1 node bin/skiff.cjs` writes
// the cache (the Makefile does, right after bundling).
'use strict';
if (process.env.SKIFF_TRACE_STARTUP === '1') process.stderr.write(`skiff-trace node ${performance.now().toFixed(2)}\n`);
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const Module = require('module');

const file = path.join(__dirname, '..', 'dist', 'skiff.cjs');
const cacheFile = `${file}.cache`;
const source = fs.readFileSync(file, 'utf8');
let cachedData;
try {
  // V8 checks the cache against the source's length only: an older cache is never used
  if (fs.statSync(cacheFile).mtimeMs >= fs.statSync(file).mtimeMs) cachedData = fs.readFileSync(cacheFile);
} catch {
  /* no cache: compile from source */
}
const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
if (process.env.SKIFF_WRITE_CODE_CACHE === '1') {
  fs.writeFileSync(cacheFile, script.createCachedData());
} else {
  const mod = { exports: {}, filename: file, id: file };
  script.runInThisContext()(mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
}
