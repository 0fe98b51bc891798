// Start-up contract: `skiff run --rm busybox true` must stay ~70-80 ms idle and show no regression
// against main in the same `bench/run.sh` run (numbers with dates: bench/README.md; the reasons:
// docs/design/startup.md). Each trick, where it lives, what guards it:
//  1. node starts without NODE_EXTRA_CA_CERTS (handed over as SKIFF_EXTRA_CA_CERTS, loaded by the
//     registry client at its first TLS connection)   bin/skiff; test/unit/trust.test.ts, test/e2e/build.test.ts (ADD https)
//  2. plain `ps` listings without node (skiff-shim ps)   bin/skiff; test/e2e/lifecycle.test.ts (both print the same)
//  3. `node --`: a --env-file is skiff's, not node's   bin/skiff; test/e2e/mounts.test.ts (--env-file)
//  4. one ASCII bundle, read as latin1, compiled with V8's code cache; no import() of an external
//     module in it (the single executable: wrapped at build time, not copied: bin/sea.cjs)   here; the
//     Makefile's `bundle` refuses non-ASCII bytes and such an import()
//  5. one __toESM object per builtin   scripts/bundle-interop.cjs
//  6. the user's code cache trained by run/create/pull (written before the shim's execve: the CLI
//     hands saveCodeCache to the container domain as its beforeExecve hook), in a directory only we
//     or root can change   here, src/cli/launcher.ts; test/e2e/code-cache.test.ts
//  7. one small pflag-style parser for every command line (no yargs), over descriptors that load their
//     domain modules in their handlers; only the invoked command's descriptor module is evaluated (an
//     index of the commands' words)   src/cli/registry.ts, src/cli/parse.ts; test/unit/options.test.ts, registry.test.ts
//  8. every other command's modules evaluated only when it runs (import() in the bundle); costly
//     builtins loaded at first use, ids from /dev/urandom   src/cli/commands, src/lib/lazy.ts, src/lib/random.ts
//  9. compose's and kube's generated validators (0.6 MB) in a second bundle file, read only by the
//     commands that use them (__skiffLoadPart below)   scripts/bundle.mjs; test/e2e/compose.test.ts, kube.test.ts
//
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
// writes per build and user, then none. Only those commands (the descriptors marked `codeCache`,
// src/cli/commands/container/run.ts, create.ts, image/pull.ts) train it: every command's code would
// make the cache larger, and every start-up would pay to load it. `run` trains and loads a cache of
// its own (code-KEY.run.cache, from the build-time cache up: without pull's registry and tar code,
// ~20% less to deserialise); create, pull and every other command share code-KEY.cache (which run's
// first training makes from its own when run is not among its trainers).
// SKIFF_CODE_CACHE=0 turns this off; a cache that cannot be written is skipped silently.
'use strict';
if (process.env.SKIFF_TRACE_STARTUP === '1') process.stderr.write(`skiff-trace node ${performance.now().toFixed(2)}\n`);
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const Module = require('module');

// The single executable (dist/skiff, entry bin/sea.cjs) runs this file too, with `__skiffSea` set: the
// bundle, its identity (a content hash) and its build-time code cache then come from its assets.
const sea = globalThis.__skiffSea;

// `skiff --version` / `-v` (Docker's one line) is answered before the bundle is read; `skiff version` says more
if (process.argv.length === 3 && (process.argv[2] === '--version' || process.argv[2] === '-v')) {
  process.stdout.write(`skiff version ${require('../package.json').version}${sea ? `, build ${sea.id.slice(0, 12)}` : ''}\n`);
  return;
}

const file = sea ? sea.file : path.join(__dirname, '..', 'dist', 'skiff.cjs');
const distCache = `${file}.cache`;
// the bundle is ASCII (the Makefile checks): read as latin1, a plain copy into a one-byte string,
// instead of utf8 (~4 ms for its 900 KB here against ~1.5 ms); wrapped as node wraps a CommonJS
// module. The single executable's asset is the wrapped text already: V8 compiles one flat string
// (Module.wrap's concatenation is copied whole again when V8 flattens it: ~1.7 ms of 2.6 MB)
const source = sea ? sea.wrapped() : Module.wrap(fs.readFileSync(file, 'latin1'));
const bundle = sea ? undefined : fs.statSync(file);

const read = (f) => {
  try {
    return fs.readFileSync(f);
  } catch {
    return undefined;
  }
};

const euid = process.geteuid();

const { readOwn, trustedDir, inUserNamespace } = require('./trusted-dir.cjs');

/**
 * The user's trained cache: keyed by the bundle (size, mtime; in the single executable `sea-` and the
 * bundle's hash) and node (version, flags), in $XDG_CACHE_HOME/skiff (or ~/.cache/skiff), else (root
 * with another user's HOME) in the cache of the home the password database gives our euid, when
 * either is trustedDir().
 */
function userCachePaths() {
  if (process.env.SKIFF_CODE_CACHE === '0' || process.env.SKIFF_WRITE_CODE_CACHE === '1') return undefined;
  const flags = process.execArgv.join(' ');
  const key = `${sea ? `sea-${sea.id.slice(0, 16)}` : `${bundle.size}-${Math.floor(bundle.mtimeMs)}`}-${process.version}${flags ? `-${Buffer.from(flags).toString('hex').slice(0, 32)}` : ''}`;
  const paths = (dir) => ({
    dir, key, cache: path.join(dir, `code-${key}.cache`), trained: path.join(dir, `code-${key}.json`), run: path.join(dir, `code-${key}.run.cache`),
  });
  const at = (base) => {
    let dir;
    try {
      dir = base && trustedDir(path.join(base, 'skiff'), false);
    } catch {
      dir = undefined;
    }
    return dir && paths(dir);
  };
  // Rootless commands run again inside a user namespace, where the host's root (and every other
  // user) owns nothing we can tell apart: there the directory the host side checked is used.
  const checked = process.env._SKIFF_CODE_CACHE_DIR;
  if (checked && process.env._SKIFF_IN_USERNS === '1' && inUserNamespace()) return { ...paths(checked), checked: true };
  const found =
    at(process.env.XDG_CACHE_HOME || (process.env.HOME ? path.join(process.env.HOME, '.cache') : '')) ||
    (euid === 0 ? at(path.join(require('os').userInfo().homedir, '.cache')) : undefined);
  if (found) process.env._SKIFF_CODE_CACHE_DIR = found.dir;
  else delete process.env._SKIFF_CODE_CACHE_DIR;
  return found;
}

const user = userCachePaths();
/** How many caches of other bundles (of the same kind) a training leaves in the directory. */
const KEEP_OTHERS = 3;
// the command word: what this invocation trains the cache for
const word = process.argv.slice(2).find((a) => !a.startsWith('-')) ?? '';
// `run` has a cache of its own (code-KEY.run.cache): only what run compiled, not pull's registry and
// tar code nor create's, so less to deserialise at each run (~690 KB against ~870 KB, ~0.5 ms). Its
// first training also starts the shared cache over from it when run is not among that one's trainers.
const ownCache = user && word === 'run' ? user.run : user?.cache;
let cachedData = user && readOwn(ownCache);
const fromUser = cachedData !== undefined;
// V8 checks the cache against the source's length only: an older cache is never used
if (!cachedData && sea) cachedData = sea.cache();
else if (!cachedData && fs.statSync(distCache, { throwIfNoEntry: false })?.mtimeMs >= bundle.mtimeMs) cachedData = read(distCache);
const script = new vm.Script(source, { filename: file, cachedData });

if (process.env.SKIFF_WRITE_CODE_CACHE === '1' && !sea) {
  fs.writeFileSync(distCache, script.createCachedData());
} else {
  if (user) {
    let trained = [];
    const sharedTrainedBy = (w) => {
      try {
        return JSON.parse(readOwn(user.trained).toString('utf8')).includes(w);
      } catch {
        return false;
      }
    };
    const trains = ['run', 'create', 'pull'].includes(word);
    // run's own cache is trained when it was not loaded; the shared one lists the commands it was made by
    if (word === 'run' && fromUser && !script.cachedDataRejected) trained = [word];
    else if (trains && word !== 'run' && fromUser && !script.cachedDataRejected) {
      try {
        trained = JSON.parse(readOwn(user.trained).toString('utf8'));
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
        const made = [];
        let bytes;
        const cached = () => (bytes ??= script.createCachedData());
        /** A new file (O_EXCL, never through a link, 0600) holding what `data()` gives once it is open. */
        const writeNew = (f, data) => {
          const fd = fs.openSync(f, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
          made.push(f);
          try {
            fs.writeSync(fd, data());
          } finally {
            fs.closeSync(fd);
          }
        };
        try {
          // skiff/ is made (or checked) only now: it must still be ours alone (inside the user
          // namespace, the host side of this command checked the parents)
          if (user.checked) fs.mkdirSync(user.dir, { recursive: true, mode: 0o700 });
          else if (trustedDir(user.dir, true) !== user.dir) return;
          const writes = [[ownCache, cached]];
          if (word !== 'run') writes.push([user.trained, () => JSON.stringify([...trained, word])]);
          // the shared cache, which every other command loads (start, exec, rm: run's container code),
          // is made from run's too when run is not among its trainers (pull and create then add theirs)
          else if (!sharedTrainedBy('run')) writes.push([user.cache, cached], [user.trained, () => JSON.stringify(['run'])]);
          // opened before the cache is made (~5-10 ms): an unwritable home costs no more than this
          for (const [f, d] of writes) writeNew(`${f}.${process.pid}`, d);
          // rename replaces whatever has the name (a link too), never what it points to
          for (const [f] of writes) {
            fs.renameSync(`${f}.${process.pid}`, f);
            made.shift();
          }
          // caches of other bundles of the same kind (the single executable's or a checkout's; both
          // kinds may be in use): the newest KEEP_OTHERS stay. Several checkouts (or builds) run by one
          // user, e.g. root on a shared machine, each keep theirs: removing every other one made
          // each checkout's next run untrained, and train again (slower in every phase)
          const others = new Map(); // key -> newest mtime of its files
          for (const f of fs.readdirSync(user.dir)) {
            const m = /^code-(.+?)(?:\.run)?\.(cache|json)$/.exec(f);
            if (!m || f.startsWith('code-sea-') !== !!sea || m[1] === user.key) continue;
            const t = fs.lstatSync(path.join(user.dir, f), { throwIfNoEntry: false })?.mtimeMs ?? 0;
            others.set(m[1], Math.max(others.get(m[1]) ?? 0, t));
          }
          for (const [key] of [...others].sort((a, b) => b[1] - a[1]).slice(KEEP_OTHERS)) {
            for (const ext of ['cache', 'json', 'run.cache']) fs.rmSync(path.join(user.dir, `code-${key}.${ext}`), { force: true });
          }
        } catch {
          // a read-only or full home: run without it (what this process made is removed)
          for (const f of made) fs.rmSync(f, { force: true });
        }
      };
      process.once('exit', globalThis.__skiffSaveCodeCache);
    }
  }
  // A second bundle file next to the bundle (scripts/bundle.mjs: dist/skiff-schemas.cjs, the generated
  // validators of compose and kube) that the bundle's stubs load on first use; the single executable
  // carries it as an asset. Compiled without a code cache: only those commands load it.
  const parts = new Map();
  globalThis.__skiffLoadPart = (name) => {
    let exports = parts.get(name);
    if (exports) return exports;
    const f = path.join(path.dirname(file), name);
    const m = { exports: {}, filename: f, id: f };
    new vm.Script(Module.wrap(sea ? sea.part(name) : fs.readFileSync(f, 'latin1')), { filename: f }).runInThisContext()(m.exports, Module.createRequire(f), m, f, path.dirname(f));
    parts.set(name, (exports = m.exports));
    return exports;
  };
  const mod = { exports: {}, filename: file, id: file };
  script.runInThisContext()(mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
}
