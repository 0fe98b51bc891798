// skiff's node entry (bin/skiff runs it; node re-executions of skiff, e.g. into the user namespace,
// run it directly). The whole CLI is one bundle (dist/skiff.cjs, made by `make bundle`); it is compiled
// here with V8's code cache so start-up does not parse it. A cache that V8 rejects (another node,
// other flags) or that is older than the bundle is not used: the bundle is then compiled from source
// as `require` would. `SKIFF_WRITE_CODE_CACHE=1 node bin/skiff.cjs` writes dist/skiff.cjs.cache (the
// Makefile does, right after bundling).
//
// That cache holds only what V8 compiles up front; every function a command calls is compiled on
// first call (~15-20 ms of a pull). So, as node 22's module.enableCompileCache() does, the first
// `run`, `create` and `pull` with this bundle leave a cache of everything they compiled (on top of
// what they loaded) in ~/.cache/skiff (XDG_CACHE_HOME), and later invocations load that one: three
// writes per build and user, then none. Only those commands (the fast path, which skips yargs)
// train it: yargs' code would double the cache, and every start-up would pay to load it.
// SKIFF_CODE_CACHE=0 turns this off; a cache that cannot be written is skipped silently.
'use strict';
if (process.env.SKIFF_TRACE_STARTUP === '1') process.stderr.write(`skiff-trace node ${performance.now().toFixed(2)}\n`);
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const Module = require('module');

const file = path.join(__dirname, '..', 'dist', 'skiff.cjs');
const distCache = `${file}.cache`;
// the bundle is ASCII (the Makefile checks): read as latin1, a plain copy into a one-byte string,
// instead of utf8 (~4 ms for its 900 KB here against ~1.5 ms)
const source = fs.readFileSync(file, 'latin1');
const bundle = fs.statSync(file);

const read = (f) => {
  try {
    return fs.readFileSync(f);
  } catch {
    return undefined;
  }
};

/**
 * A file only if we own it and nobody else may write it: V8 runs a code cache's bytecode unchecked, so
 * root (`sudo -E`, keeping the caller's HOME) must not load a cache another user could have made.
 */
const readOwn = (f) => {
  let fd;
  try {
    fd = fs.openSync(f, 'r');
    const st = fs.fstatSync(fd);
    if (st.uid !== process.geteuid() || st.mode & 0o022) return undefined;
    return fs.readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
};

/** The user's trained cache: keyed by the bundle (size, mtime) and node (version, flags). */
function userCachePaths() {
  if (process.env.SKIFF_CODE_CACHE === '0' || process.env.SKIFF_WRITE_CODE_CACHE === '1') return undefined;
  const base = process.env.XDG_CACHE_HOME || (process.env.HOME ? path.join(process.env.HOME, '.cache') : '');
  if (!base) return undefined;
  const flags = process.execArgv.join(' ');
  const key = `${bundle.size}-${Math.floor(bundle.mtimeMs)}-${process.version}${flags ? `-${Buffer.from(flags).toString('hex').slice(0, 32)}` : ''}`;
  const dir = path.join(base, 'skiff');
  return { dir, key, cache: path.join(dir, `code-${key}.cache`), trained: path.join(dir, `code-${key}.json`) };
}

const user = userCachePaths();
let cachedData = user && readOwn(user.cache);
const fromUser = cachedData !== undefined;
// V8 checks the cache against the source's length only: an older cache is never used
if (!cachedData && fs.statSync(distCache, { throwIfNoEntry: false })?.mtimeMs >= bundle.mtimeMs) cachedData = read(distCache);
const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });

if (process.env.SKIFF_WRITE_CODE_CACHE === '1') {
  fs.writeFileSync(distCache, script.createCachedData());
} else {
  if (user) {
    // the command word: what this invocation trains the cache for
    const word = process.argv.slice(2).find((a) => !a.startsWith('-')) ?? '';
    let trained = [];
    const trains = ['run', 'create', 'pull'].includes(word);
    if (trains && fromUser && !script.cachedDataRejected) {
      try {
        trained = JSON.parse(fs.readFileSync(user.trained, 'utf8'));
      } catch {
        /* no record: train */
      }
    }
    if (trains && Array.isArray(trained) && !trained.includes(word)) {
      let saved = false;
      // called at exit, and by the CLI before it execve()s the shim (no exit then)
      globalThis.__skiffSaveCodeCache = () => {
        if (saved) return;
        saved = true;
        const tmp = `${user.cache}.${process.pid}`;
        try {
          fs.mkdirSync(user.dir, { recursive: true, mode: 0o700 });
          // opened before the cache is made (~5-10 ms): an unwritable home costs no more than this
          const fd = fs.openSync(tmp, 'w', 0o600);
          try {
            fs.writeSync(fd, script.createCachedData());
          } finally {
            fs.closeSync(fd);
          }
          fs.renameSync(tmp, user.cache);
          fs.writeFileSync(`${user.trained}.${process.pid}`, JSON.stringify([...trained, word]), { mode: 0o600 });
          fs.renameSync(`${user.trained}.${process.pid}`, user.trained);
          for (const f of fs.readdirSync(user.dir)) {
            if (f.startsWith('code-') && !f.startsWith(`code-${user.key}.`)) fs.rmSync(path.join(user.dir, f), { force: true });
          }
        } catch {
          // a read-only or full home: run without it
          try {
            fs.rmSync(tmp, { force: true });
          } catch {
            /* nothing to remove */
          }
        }
      };
      process.once('exit', globalThis.__skiffSaveCodeCache);
    }
  }
  const mod = { exports: {}, filename: file, id: file };
  script.runInThisContext()(mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
}
