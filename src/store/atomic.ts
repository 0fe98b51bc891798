/**
 * Atomic writes and staging. Readers never see a half-written file or directory:
 * content is made under tmp/ (or beside the target) and renamed into place.
 * Staging entries are named `<pid>-<random>` so a later invocation can sweep the
 * leftovers of a process that died (kill -9 mid-pull leaves only tmp/ garbage).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomHex } from '../random.js';
import { dirs } from './layout.js';

const rand = (): string => randomHex(6);

/**
 * Where a file is written before its rename: inside the store, under tmp/ (so that a killed
 * process leaves nothing but tmp/ entries, which sweepStaging removes); elsewhere beside it.
 */
function tmpFor(file: string): string {
  const { root, tmp } = dirs();
  return file.startsWith(root + path.sep)
    ? path.join(tmp, `${process.pid}-file-${rand()}`)
    : `${file}.tmp-${process.pid}-${rand()}`;
}

export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o600): Promise<void> {
  const tmp = tmpFor(file);
  try {
    await fsp.writeFile(tmp, data, { mode });
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

export function writeFileAtomicSync(file: string, data: string | Buffer, mode = 0o600): void {
  const tmp = `${file}.tmp-${process.pid}-${rand()}`;
  try {
    fs.writeFileSync(tmp, data, { mode });
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

export async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export function readJsonSync<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** A fresh staging directory (or file path when `file` is set) under tmp/. */
export async function stagingPath(kind: string): Promise<string> {
  return path.join(dirs().tmp, `${process.pid}-${kind}-${rand()}`);
}

export async function makeStagingDir(kind: string): Promise<string> {
  const p = await stagingPath(kind);
  await fsp.mkdir(p, { mode: 0o700 });
  return p;
}

/**
 * Move a finished staging dir into place. Returns false when `final` already exists
 * (another invocation won the race): the staging copy is then removed.
 */
export async function commitDir(staging: string, final: string): Promise<boolean> {
  try {
    await fsp.rename(staging, final);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') {
      await fsp.rm(staging, { recursive: true, force: true });
      return false;
    }
    throw e;
  }
}

/**
 * Whether a process with this pid runs (EPERM means it does, owned by someone else). A zombie has
 * exited: it is not alive, though its pid stays taken until its parent (or init, slowly) reaps it.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/PID/stat: "pid (comm) S ...": the comm may hold spaces and parentheses, the state follows the last ')'
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no procfs to ask: trust kill(0)
  }
}

/** Remove staging leftovers of processes that no longer run. */
export async function sweepStaging(): Promise<number> {
  let n = 0;
  for (const name of await fsp.readdir(dirs().tmp)) {
    const pid = Number(name.split('-')[0]);
    if (!Number.isInteger(pid) || pid === process.pid || pidAlive(pid)) continue;
    await fsp.rm(path.join(dirs().tmp, name), { recursive: true, force: true });
    n++;
  }
  return n;
}
