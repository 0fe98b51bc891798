// The single executable's entry: dist/skiff is node with this script (and bin/skiff.cjs, bin/trusted-dir.cjs,
// bundled into it by scripts/make-sea.mjs, with the build's manifest) and these assets: skiff.cjs (the CLI bundle),
// skiff.cjs.cache (its build-time code cache), skiff-schemas.cjs (the validators compose and kube load)
// and the native parts (skiff_native.node, skiff_layer.node with the libisal it links, skiff-shim,
// skiff-init). It runs bin/skiff.cjs as the checkout does, with
// the bundle taken from the assets, and hands the bundle its native parts through
// `globalThis.__skiffNativePart` (src/native.ts).
//
// Native parts cannot run from inside the executable: they are written once to a directory named by
// the parts' SHA-256 (the manifest's `id`):
//   root:      /var/lib/skiff/native/<id>, else /run/skiff/native/<id>
//   rootless:  $XDG_CACHE_HOME/skiff/native/<id> (~/.cache/...), else $XDG_RUNTIME_DIR/skiff/native/<id>
//   SKIFF_NATIVE_DIR=DIR: DIR/<id> only.
// A directory is used only when trustedDir() (bin/trusted-dir.cjs, the code cache's rule) accepts it:
// every level owned by us or root and writable by nobody else. Before a part is loaded or executed,
// each process checks it: its bytes compared with the copy in the executable (and its owner and
// mode). A missing, truncated or changed copy is written again (temporary name,
// then rename: concurrent first runs each rename a complete copy, whichever comes last stays) and
// never run; what is written must first match the SHA-256 the manifest gives (a damaged executable
// says so and runs nothing).
// A directory where the parts cannot be executed (a noexec mount) is skipped for the next one. Other
// builds' parts are left where they are (~2.5 MB each): containers made by an older build keep paths
// into them (--init binds skiff-init), and two builds may run at once. Rootless commands
// re-executed inside the user namespace use the directory their host side checked
// (_SKIFF_NATIVE_DIR, honoured only inside a user namespace, as the code cache's).
'use strict';
// what scripts/make-sea.mjs writes into this script (esbuild --define): the manifest (version, bundle
// hash, the parts' sizes, hashes and `id`), so that nothing is read before it is needed
const manifest = SKIFF_SEA_MANIFEST;
// `skiff --version` / `-v` (Docker's one line, as bin/skiff.cjs prints it) before anything else is touched
if (process.argv.length === 3 && (process.argv[2] === '--version' || process.argv[2] === '-v')) {
  process.stdout.write(`skiff version ${manifest.version}, build ${manifest.bundle.slice(0, 12)}\n`);
  return;
}
const sea = require('node:sea');
const fs = require('fs');
const path = require('path');
const { readOwn, trustedDir, inUserNamespace } = require('./trusted-dir.cjs');

const asset = (name) => Buffer.from(sea.getRawAsset(name));

// node's way of starting a script again, `EXE [--] SCRIPT ARGS...`, is how skiff re-executes itself
// (into the user namespace: a descriptor with userns, src/cli/registry.ts; a rootless pull from run: src/image/local.ts), with
// SCRIPT = process.argv[1]: that is this executable here, dropped again.
const argv = process.argv;
argv[1] = process.execPath;
if (argv[2] === '--' && argv[3] === process.execPath) argv.splice(2, 2);
else if (argv[2] === process.execPath) argv.splice(2, 1);

delete process.env._SKIFF_EXE; // set for `skiff-shim ps` (below), which may hand back to us

// node parses NODE_EXTRA_CA_CERTS at start (what bin/skiff avoids); the registry client loads the
// file itself when it talks TLS (src/registry/trust.ts): children of this process do not pay again
if (process.env.NODE_EXTRA_CA_CERTS) {
  process.env.SKIFF_EXTRA_CA_CERTS = process.env.NODE_EXTRA_CA_CERTS;
  delete process.env.NODE_EXTRA_CA_CERTS;
}

const euid = process.geteuid();
const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, X_OK } = fs.constants;
const words = (e) => (e && e.code ? `${e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : e.code === 'EROFS' ? 'read-only file system' : e.code === 'ENOSPC' ? 'no space left on device' : e.code}` : String(e && e.message));

/** The directories to try, in order, and whether they were checked by the host side already. */
function candidates() {
  const env = process.env;
  // inside the user namespace owners cannot be told apart: the host side of this command checked
  // (and used) the same directories; it names the one it chose unless it had not chosen one yet
  // when it computed the environment for the re-execution
  const userns = env._SKIFF_IN_USERNS === '1' && inUserNamespace();
  if (userns && env._SKIFF_NATIVE_DIR) return { dirs: [env._SKIFF_NATIVE_DIR], checked: true };
  const under = (base) => path.join(base, manifest.id);
  if (env.SKIFF_NATIVE_DIR) return { dirs: [under(path.resolve(env.SKIFF_NATIVE_DIR))], checked: userns };
  if (euid === 0 && !userns) return { dirs: [under('/var/lib/skiff/native'), under('/run/skiff/native')] };
  const dirs = [];
  const cache = env.XDG_CACHE_HOME || (env.HOME ? path.join(env.HOME, '.cache') : '');
  if (cache) dirs.push(under(path.join(path.resolve(cache), 'skiff', 'native')));
  if (env.XDG_RUNTIME_DIR) dirs.push(under(path.join(path.resolve(env.XDG_RUNTIME_DIR), 'skiff', 'native')));
  return { dirs, checked: userns };
}

/** Whether `file` holds exactly the part's bytes, is ours and writable by nobody else. */
function intact(file, bytes) {
  let fd;
  try {
    fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW);
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.uid !== euid || st.mode & 0o022 || st.size !== bytes.length) return false;
    const buf = Buffer.allocUnsafe(bytes.length);
    for (let off = 0; off < buf.length; ) {
      const n = fs.readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) return false;
      off += n;
    }
    return buf.equals(bytes);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Write the part under a temporary name and rename it into place (replacing whatever had the name). */
function write(file, bytes) {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}`);
  const fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o755);
  try {
    for (let off = 0; off < bytes.length; ) off += fs.writeSync(fd, bytes, off, bytes.length - off);
    fs.fchmodSync(fd, 0o755); // whatever the umask took
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  try {
    if (fs.lstatSync(file, { throwIfNoEntry: false })?.isDirectory()) fs.rmSync(file, { recursive: true, force: true });
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Make `dir` (a trusted one) if needed; another process making it at the same moment is fine. */
function makeDir(dir) {
  for (let i = 0; ; i++) {
    try {
      if (trustedDir(dir, true) === dir) return undefined;
      return 'writable by another user, or not a directory (every level must be owned by you or root and writable by nobody else)';
    } catch (e) {
      if (e.code !== 'EEXIST' || i >= 3) return words(e);
    }
  }
}

let home; // the directory chosen (checked, executable) by this process
const verified = new Map(); // part name -> path, checked by this process before its first use

/** Ensure `name` (and what it loads: manifest `needs`) is intact in `dir`; returns an error text or undefined. */
function ensureIn(dir, name, wrote) {
  for (const n of [...(manifest.parts[name].needs ?? []), name]) {
    const file = path.join(dir, n);
    const bytes = asset(`part/${n}`);
    if (intact(file, bytes)) continue;
    // the executable's own copy is checked against its manifest before it is written out: a damaged
    // executable must not hand out (and then keep comparing against) damaged native code
    if (require('crypto').createHash('sha256').update(bytes).digest('hex') !== manifest.parts[n].sha256) {
      throw new Error(`${process.execPath} is damaged (its copy of ${n} does not match the hash it was built with): install it again`);
    }
    try {
      write(file, bytes);
      wrote.push(n);
    } catch (e) {
      return `cannot write ${file}: ${words(e)}`;
    }
    if (!intact(file, bytes)) return `${file} changed while it was written`;
  }
  return undefined;
}

/**
 * The path of a native part, verified by this process: the file's bytes equal the executable's copy.
 * Throws an Error with one line (what failed, what to do) when no directory can hold the parts.
 */
function nativePart(name) {
  const known = verified.get(name);
  if (known) return known;
  if (!manifest.parts[name]) throw new Error(`the executable has no native part ${name}`);
  const reasons = [];
  const { dirs, checked } = home ? { dirs: [home], checked: true } : candidates();
  for (const dir of dirs) {
    if (!checked) {
      const why = makeDir(dir);
      if (why) {
        reasons.push(`${dir}: ${why}`);
        continue;
      }
    }
    const wrote = [];
    const why = ensureIn(dir, name, wrote);
    if (why) {
      reasons.push(why);
      continue;
    }
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, X_OK); // a regular file with x bits fails only on a noexec mount
    } catch {
      reasons.push(`${dir}: the mount does not allow executables (noexec)`);
      continue;
    }
    if (!home) {
      home = dir;
      process.env._SKIFF_NATIVE_DIR = dir; // for the same command inside the user namespace
    }
    verified.set(name, file);
    return file;
  }
  if (!dirs.length) reasons.push('no directory for them (HOME, XDG_CACHE_HOME and XDG_RUNTIME_DIR are unset)');
  throw new Error(`cannot set up skiff's native parts (${reasons.join('; ')}): set SKIFF_NATIVE_DIR to a directory of yours on a mount that allows executables`);
}

globalThis.__skiffNativePart = nativePart;

const addons = new Map(); // part name -> the addon's exports, loaded by this process
/**
 * A native part that is an addon, checked (nativePart) and loaded with process.dlopen, as require
 * would load it but without the CommonJS loader's resolution (~0.6 ms of a start): src/native.ts.
 */
function nativeAddon(name) {
  let exports = addons.get(name);
  if (!exports) {
    const m = { exports: {} };
    process.dlopen(m, nativePart(name));
    exports = m.exports;
    addons.set(name, exports);
  }
  return exports;
}
globalThis.__skiffNativeAddon = nativeAddon;

// Plain `ps` listings go to the native `skiff-shim ps`, as bin/skiff (sh) sends them (same rule, see there).
const psWords = argv[2] === 'ps' ? 1 : argv[2] === 'container' && ['ls', 'ps', 'list'].includes(argv[3]) ? 2 : 0;
if (psWords && process.env.SKIFF_PS_NODE !== '1' && argv.slice(2 + psWords).every((a) => /^(-[aql]{1,3}|--all|--quiet|--latest|--no-trunc)$/.test(a))) {
  try {
    const addon = nativeAddon('skiff_native.node');
    const env = Object.entries({ ...process.env, _SKIFF_EXE: process.execPath }).map(([k, v]) => `${k}=${v}`);
    addon.execve(nativePart('skiff-shim'), ['skiff-shim', 'ps', ...argv.slice(2 + psWords)], env);
  } catch (e) {
    process.stderr.write(`Error: ${e.message}\n`);
    process.exit(125);
  }
}

globalThis.__skiffSea = {
  id: manifest.bundle,
  file: path.join(process.execPath, 'skiff.cjs'),
  // Module.wrap(the bundle) (scripts/make-sea.mjs), as a string over the executable's own memory (the
  // native addon's externalLatin1: V8 reads only what it compiles, nothing is copied; the addon is
  // loaded a little earlier than `run` would load it anyway), else a copy
  wrapped: () => {
    // node gives a view of the executable's memory, not a copy; kept referenced anyway, as the string's
    // memory must live as long as the process
    const raw = (globalThis.__skiffSea.memory = sea.getRawAsset('skiff.cjs'));
    try {
      const s = nativeAddon('skiff_native.node').externalLatin1?.(raw);
      if (typeof s === 'string') return s;
    } catch {
      /* no native parts (yet): a command that needs them says why */
    }
    return Buffer.from(raw).latin1Slice();
  },
  cache: () => asset('skiff.cjs.cache'),
  part: (name) => asset(name).latin1Slice(), // a second bundle file (skiff-schemas.cjs), loaded on demand
};
require('./skiff.cjs');
