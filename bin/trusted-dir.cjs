// Where the launchers may keep code that runs unchecked (V8's code caches: bin/skiff.cjs; the single
// executable's native parts: bin/sea.cjs): one implementation of the ownership rules for both.
'use strict';
const fs = require('fs');
const path = require('path');

const euid = process.geteuid();

/**
 * A file only if we own it and nobody else may write it: V8 runs a code cache's bytecode unchecked, so
 * root (`sudo -E`, keeping the caller's HOME) must not load a cache another user could have made.
 */
const readOwn = (f) => {
  let fd;
  try {
    fd = fs.openSync(f, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.uid !== euid || st.mode & 0o022) return undefined;
    return fs.readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
};

/**
 * `dir` as a real path in which only we (or root) can change anything, or undefined: every directory
 * from / down to it is owned by us or root and writable by nobody else (above it, a sticky one such
 * as /tmp may be: nobody can then move our entries). Symlinks on the way count only if we or root
 * own them (they are then followed and the target checked the same way). With `create`, missing
 * directories are made (0700, ours). So a user's HOME is no place for root's cache (`sudo -E`): a
 * user who owns a directory on the way could plant links there that make root write any file.
 * Without `create`, a missing directory below a trusted one counts as trusted (we would make it).
 */
function trustedDir(dir, create) {
  const owned = (st) => st.uid === euid || st.uid === 0;
  let rest = path.resolve(dir).split('/').filter(Boolean);
  let p = '/';
  for (let links = 0; ; ) {
    const st = fs.lstatSync(p);
    if (!st.isDirectory() || !owned(st)) return undefined;
    if (st.mode & 0o022 && (rest.length === 0 || !(st.mode & 0o1000))) return undefined;
    if (rest.length === 0) return p;
    const next = path.join(p, rest[0]);
    let sub;
    try {
      sub = fs.lstatSync(next);
    } catch (e) {
      if (e.code !== 'ENOENT') return undefined;
      if (!create) return path.join(p, ...rest);
      fs.mkdirSync(next, 0o700); // EEXIST (another process made it meanwhile): it fails this time
      continue;
    }
    rest = rest.slice(1);
    if (sub.isSymbolicLink()) {
      if (!owned(sub) || ++links > 40) return undefined;
      const target = path.resolve(p, fs.readlinkSync(next));
      rest = [...target.split('/').filter(Boolean), ...rest];
      p = '/';
    } else {
      p = next;
    }
  }
}

/** Whether this process runs in a user namespace other than the host's (whose uid_map maps all 2^32 ids). */
function inUserNamespace() {
  try {
    return !/^\s*0\s+0\s+4294967295\s*$/.test(fs.readFileSync('/proc/self/uid_map', 'latin1'));
  } catch {
    return false;
  }
}

module.exports = { readOwn, trustedDir, inUserNamespace };
