// Post-bundle step (make bundle): esbuild's CJS output wraps every `import x from 'node:fs'` of every
// module in __toESM(require('node:fs')), which copies the module's properties into a fresh object
// each time: ~110 copies of a handful of builtins, ~9 ms of skiff's start-up. This makes __toESM
// return one object per (module, mode): the copies are getters over the same module, never written.
'use strict';
const fs = require('fs');
const file = process.argv[2];
const src = fs.readFileSync(file, 'utf8');
const def = /^var __toESM = \(mod, isNodeMode, target\) => [\s\S]*?\n\)\);\n/m;
const m = def.exec(src);
if (!m) {
  console.error(`${file}: esbuild's __toESM helper not found: update scripts/bundle-interop.cjs`);
  process.exit(1);
}
const memo = `var __toESM_once = __toESM, __toESM_memo = [new WeakMap(), new WeakMap()];
__toESM = (mod, isNodeMode) => {
  if (mod == null || (typeof mod !== 'object' && typeof mod !== 'function')) return __toESM_once(mod, isNodeMode);
  const m = __toESM_memo[isNodeMode ? 1 : 0];
  let ns = m.get(mod);
  if (!ns) m.set(mod, (ns = __toESM_once(mod, isNodeMode)));
  return ns;
};
`;
const joined = src.slice(0, m.index + m[0].length) + memo + src.slice(m.index + m[0].length);

// Whitespace and comments out (names, statements and the program unchanged): the launcher reads and
// V8 checks a quarter less at every start-up (2.0 -> 1.5 MB: ~1 ms of read and compile, bench/README.md).
// Error stacks then point into long lines (SKIFF_DEBUG=1 still names each function).
const esbuild = require(require.resolve('esbuild', { paths: [require('path').join(__dirname, '..')] }));
fs.writeFileSync(file, esbuild.transformSync(joined, { minifyWhitespace: true, loader: 'js', target: 'node20' }).code);

// Raw C0 control characters (the yaml package's lexer keeps '\x02'-style markers in string literals,
// which esbuild prints as raw bytes, the minified output too): the launcher wants an ASCII bundle without them. Outside string,
// template and regex literals (and comments) such bytes are not valid JavaScript, so escaping every
// one of them keeps the program the same. \t \n \v \f \r are left (whitespace).
{
  const out = fs.readFileSync(file, 'latin1');
  const fixed = out.replace(/[\x00-\x08\x0e-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  if (fixed !== out) fs.writeFileSync(file, fixed, 'latin1');
}
