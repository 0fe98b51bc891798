/**
 * Read files of an image's merged tree without mounting it: look through the layers from the
 * top down, honouring whiteouts (char 0:0) and opaque directories. Used for /etc/passwd and
 * /etc/group when resolving `-u name`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../errors.js';

function isWhiteout(st: fs.Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/** Read `file` (absolute, in the container) from layer diff dirs given TOP FIRST. */
export function readLayeredFile(diffsTopFirst: string[], file: string): string | undefined {
  const rel = file.replace(/^\/+/, '');
  for (const diff of diffsTopFirst) {
    const p = path.join(diff, rel);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      continue;
    }
    if (isWhiteout(st)) return undefined;
    if (st.isFile()) return fs.readFileSync(p, 'utf8');
    return undefined;
  }
  return undefined;
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

/**
 * Docker's `-u` rules: `name`, `uid`, `name:group`, `uid:gid`. A name must exist in the image's
 * /etc/passwd; a numeric uid need not. Supplementary groups come from /etc/group.
 */
/** moby/sys/user's bound for uids and gids (as Docker checks a numeric --user). */
const MAX_ID = 2 ** 31 - 1;
const idRange = (): SkiffError => new SkiffError('EINVAL', `uids and gids must be in range 0-${MAX_ID}`);

export function resolveUser(spec: string, readFile: (p: string) => string | undefined): ResolvedUser {
  const [userPart = '', groupPart] = spec.split(':', 2);
  const passwd = parseColonFile(readFile('/etc/passwd'));
  const groups = parseColonFile(readFile('/etc/group'));
  let uid: number;
  let gid = 0;
  let home = '/';
  let name: string | undefined;
  const entry = /^\d+$/.test(userPart)
    ? passwd.find((f) => f[2] === userPart)
    : passwd.find((f) => f[0] === (userPart || 'root'));
  if (/^\d+$/.test(userPart)) {
    uid = Number(userPart);
  } else if (entry) {
    uid = Number(entry[2]);
  } else if (userPart === '' || userPart === 'root') {
    uid = 0;
  } else {
    throw new SkiffError('EINVAL', `unable to find user ${userPart}: no matching entries in passwd file`, 126);
  }
  if (entry) {
    gid = Number(entry[3]);
    home = entry[5] || '/';
    name = entry[0];
  }
  if (uid > MAX_ID) throw idRange();
  if (groupPart !== undefined && groupPart !== '') gid = groupId(groupPart, groups);
  if (gid > MAX_ID) throw idRange();
  // the user's groups from /etc/group, plus its primary group when a user was asked for (as Podman does)
  const member = name ? groups.filter((g) => (g[3] ?? '').split(',').includes(name!)).map((g) => Number(g[2])) : [];
  const additionalGids = [...new Set(userPart ? [...member, gid] : member)];
  return { uid, gid, additionalGids, home };
}

/**
 * `--group-add`: each a number, or a group name of the image's /etc/group (Docker's words; exit 126
 * as the user's). Numbers need no entry.
 */
export function resolveGroups(groups: string[], readFile: (p: string) => string | undefined): number[] {
  if (!groups.length) return [];
  const entries = parseColonFile(readFile('/etc/group'));
  return groups.map((g) => {
    const gid = groupId(g, entries);
    if (gid > MAX_ID) throw idRange();
    return gid;
  });
}

/** A group by number, or by name from /etc/group's entries (Docker's words). */
function groupId(group: string, entries: string[][]): number {
  if (/^\d+$/.test(group)) return Number(group);
  const e = entries.find((f) => f[0] === group);
  if (!e) throw new SkiffError('EINVAL', `unable to find group ${group}: no matching entries in group file`, 126);
  return Number(e[2]);
}

/** The user with `extra` supplementary groups after its own (each once). */
export function withGroups(user: ResolvedUser, extra: number[]): ResolvedUser {
  return extra.length ? { ...user, additionalGids: [...new Set([...user.additionalGids, ...extra])] } : user;
}

/** The entries of a colon file (/etc/passwd, /etc/group), comments left out. */
export function parseColonFile(text: string | undefined): string[][] {
  if (!text) return [];
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}
