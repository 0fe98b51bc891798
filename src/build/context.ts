/**
 * The build context: a directory (or a tar read from stdin and unpacked under tmp/), what
 * .dockerignore leaves of it, the Dockerfile, source patterns of COPY/ADD (Go's filepath.Match
 * wildcards per path element) and the content hash of sources for the cache key (path, type, mode,
 * size and the bytes' sha256; never mtime or owner).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SkiffError } from '../errors.js';
import { makeStagingDir } from '../store/atomic.js';
import { IgnoreMatcher, readIgnorePatterns } from './dockerignore.js';
import { ContextTree, joinRel, relPath, type Tree } from './tree.js';

export interface BuildContext {
  dir: string;
  tree: ContextTree;
  /** Remove what was unpacked for this build (a tar context). */
  dispose(): Promise<void>;
}

export async function openContext(dirOrDash: string, stdin?: Readable): Promise<BuildContext> {
  let dir = dirOrDash;
  let dispose = async (): Promise<void> => undefined;
  if (dirOrDash === '-') {
    if (!stdin) throw new SkiffError('EINVAL', 'a build context on stdin cannot be combined with -f -');
    dir = await makeStagingDir('context');
    const { x } = await import('tar');
    const staged = dir;
    dispose = () => fsp.rm(staged, { recursive: true, force: true });
    try {
      await pipeline(stdin, x({ cwd: dir, preserveOwner: false, strict: true }) as unknown as NodeJS.WritableStream);
    } catch (e) {
      await dispose();
      throw new SkiffError('EINVAL', `cannot read the build context from stdin as a tar archive: ${(e as Error).message}`);
    }
  } else {
    let st: fs.Stats;
    try {
      st = fs.statSync(dir);
    } catch {
      throw new SkiffError('EINVAL', `unable to prepare context: path "${dirOrDash}" not found`);
    }
    if (!st.isDirectory()) throw new SkiffError('EINVAL', `unable to prepare context: context must be a directory: ${dirOrDash}`);
  }
  let patterns: string[] = [];
  try {
    patterns = readIgnorePatterns(fs.readFileSync(path.join(dir, '.dockerignore'), 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return { dir: path.resolve(dir), tree: new ContextTree(path.resolve(dir), new IgnoreMatcher(patterns)), dispose };
}

/** The Dockerfile's text: `-f -` reads stdin, `-f FILE` that file, else Dockerfile (or dockerfile) in the context. */
export async function readDockerfile(ctxDir: string, file: string | undefined, stdin: () => Readable): Promise<{ text: string; name: string }> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of stdin()) chunks.push(c as Buffer);
    return { text: Buffer.concat(chunks).toString('utf8'), name: 'Dockerfile' };
  }
  const candidates = file ? [path.resolve(file)] : [path.join(ctxDir, 'Dockerfile'), path.join(ctxDir, 'dockerfile')];
  for (const c of candidates) {
    try {
      return { text: fs.readFileSync(c, 'utf8'), name: path.basename(c) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  throw new SkiffError('EINVAL', `unable to prepare context: cannot find ${file ?? 'Dockerfile'}${file ? '' : ` in ${ctxDir}`}`);
}

export const hasWildcard = (p: string): boolean => /[*?[]/.test(p);

/** Go's filepath.Match for one path element, as a regular expression. */
function elementRegex(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '\\' && i + 1 < pattern.length) re += '\\' + pattern[++i];
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw new SkiffError('EINVAL', `syntax error in pattern "${pattern}"`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^') || cls.startsWith('!')) cls = '^' + cls.slice(1);
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += ch.replace(/[.+()|{}$^\]]/g, '\\$&');
  }
  return new RegExp(re + '$', 's');
}

/**
 * The paths a COPY/ADD source names in `tree` (relative; '' is the root). Without wildcards the
 * path must exist; with them every match counts, and none is an error (as in BuildKit).
 */
export function matchSources(tree: Tree, source: string): string[] {
  const rel = relPath(source);
  if (!hasWildcard(rel)) {
    if (!tree.entry(rel)) throw new SkiffError('EINVAL', `"/${rel}": not found`);
    return [rel];
  }
  let found = [''];
  for (const part of rel.split('/')) {
    const next: string[] = [];
    if (!hasWildcard(part)) {
      for (const f of found) if (tree.entry(joinRel(f, part))) next.push(joinRel(f, part));
    } else {
      const re = elementRegex(part);
      for (const f of found) for (const n of tree.children(f)) if (re.test(n)) next.push(joinRel(f, n));
    }
    found = next;
  }
  if (found.length === 0) throw new SkiffError('EINVAL', `lstat ${source}: no source files were specified`);
  return found;
}

/** Every path at and under `rel` in `tree`, parents before children. */
export function* walk(tree: Tree, rel: string): Generator<string> {
  yield rel;
  const e = tree.entry(rel);
  if (!e?.st.isDirectory()) return;
  for (const n of tree.children(rel)) yield* walk(tree, joinRel(rel, n));
}

let readBuf: Buffer | undefined;

/** Feed a file's bytes to `h` through one reused buffer (no allocation per file). */
function hashFile(h: crypto.Hash, file: string): void {
  const buf = (readBuf ??= Buffer.allocUnsafe(1 << 20));
  const fd = fs.openSync(file, 'r');
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
}

/** The content hash of sources for the cache key: names, types, modes, sizes, bytes; not mtimes or owners. */
export function hashSources(tree: Tree, sources: string[]): string {
  const h = crypto.createHash('sha256');
  for (const src of sources) {
    for (const rel of walk(tree, src)) {
      const e = tree.entry(rel)!;
      const st = e.st;
      h.update(`${rel}\0${st.mode}\0`);
      if (st.isFile()) {
        h.update(`${st.size}\0`);
        hashFile(h, e.host);
      } else if (st.isSymbolicLink()) h.update(fs.readlinkSync(e.host));
      h.update('\0');
    }
  }
  return h.digest('hex');
}
