/**
 * Podman's rootless `--userns keep-id[:uid=U,gid=G]` at create: the container's
 * id maps (userns/idmap.ts), its layers as copies with their owners moved to that mapping (made once
 * per layer and mapping, then reused: store/layers.ts `mappedLowerDirs`), and the user it
 * runs as (U:G unless `--user`) with an /etc/passwd and /etc/group entry when the image has none (as
 * Podman adds them: `name:*:U:G:gecos:home:/bin/sh`, `group:x:G:name`), bound over the image's files.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { childProcess } from '../lib/lazy.js';
import { shimMessage, shimPath } from '../native.js';
import { mappedLowerDirs } from '../store/layers.js';
import { parseColonFile } from './passwd.js';
import { parseUsernsMode } from './namespaces.js';
import { paths } from '../config.js';
import { sha256Hex } from '../oci/digest.js';
import { inUserns } from '../userns/enter.js';
import { formatMap, hostIds, rootlessMappings, shiftedMappings, type IdMap, type ShiftedMappings, type UsernsIds } from '../userns/idmap.js';

export interface ShiftedRoot {
  /** the container's maps over the host's ids, and over those of skiff's own user namespace (when made in there) */
  uidMappings: IdMap[];
  gidMappings: IdMap[];
  innerUidMappings: IdMap[];
  innerGidMappings: IdMap[];
  /** overlay lower dirs, topmost first (undefined: the layers' own) */
  lower?: string[];
}

/** The container's maps and its layers' copies for that mapping (made now when missing). */
export async function shiftedRoot(chainIds: string[], ids: UsernsIds): Promise<ShiftedRoot> {
  const maps = shiftedMappings(ids);
  if (typeof maps === 'string') throw new SkiffError('EINVAL', maps);
  const uidText = formatMap(maps.inner.uid);
  const gidText = formatMap(maps.inner.gid);
  const key = mappingKey(maps);
  // keep-id:uid=0,gid=0 is the standard mapping: the layers as they are
  const identity = [...maps.inner.uid, ...maps.inner.gid].every((m) => m.containerID === m.hostID);
  const lower = identity ? undefined : await mappedLowerDirs(chainIds, key, (src, dst) => idcopy(uidText, gidText, src, dst));
  return { uidMappings: maps.host.uid, gidMappings: maps.host.gid, innerUidMappings: maps.inner.uid, innerGidMappings: maps.inner.gid, lower };
}

type OwnerMap = (uid: number, gid: number) => { uid: number; gid: number };

/**
 * A keep-id container's ids (its HostConfig.UsernsMode) as skiff's user namespace sees its files (where
 * commit, export and cp read and write them), both ways: `inside` gives the owner a file has in the
 * container, `store` the reverse; undefined for any other container (or the standard mapping).
 */
export function keepIdOwners(mode: string | undefined): { inside: OwnerMap; store: OwnerMap; key: string } | undefined {
  const ids = mode?.startsWith('keep-id') && paths().rootless ? parseUsernsMode(mode, true).ids : undefined;
  const maps = ids ? shiftedMappings(ids) : undefined;
  if (!maps || typeof maps === 'string') return undefined;
  if ([...maps.inner.uid, ...maps.inner.gid].every((m) => m.containerID === m.hostID)) return undefined;
  const through = (id: number, m: IdMap[], back: boolean): number => {
    const hit = m.find((x) => (back ? id >= x.hostID && id < x.hostID + x.size : id >= x.containerID && id < x.containerID + x.size));
    if (!hit) return id;
    return back ? hit.containerID + id - hit.hostID : hit.hostID + id - hit.containerID;
  };
  return {
    inside: (uid, gid) => ({ uid: through(uid, maps.inner.uid, true), gid: through(gid, maps.inner.gid, true) }),
    store: (uid, gid) => ({ uid: through(uid, maps.inner.uid, false), gid: through(gid, maps.inner.gid, false) }),
    key: mappingKey(maps),
  };
}

/** The name of a mapping's layer copies (store/layers.ts). */
const mappingKey = (maps: ShiftedMappings): string => sha256Hex(`${formatMap(maps.inner.uid)}|${formatMap(maps.inner.gid)}`).slice(0, 16);

/** For a keep-id container, the owner a file of its upper dir has inside it (commit, export); undefined for any other. */
export const upperOwners = (mode: string | undefined): OwnerMap | undefined => keepIdOwners(mode)?.inside;

/** `skiff-shim idcopy` in skiff's user namespace (entered for it unless we are in it). */
function idcopy(uidText: string, gidText: string, src: string, dst: string): Promise<void> {
  const copy = ['idcopy', uidText, gidText, src, dst];
  const m = rootlessMappings();
  const args = inUserns() ? copy : ['unshare', formatMap(m.uidMappings), formatMap(m.gidMappings), '--', shimPath(), ...copy];
  return new Promise((resolve, reject) => {
    const child = childProcess().spawn(shimPath(), args, { stdio: ['ignore', 'ignore', 'pipe'], argv0: 'skiff-shim' });
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new SkiffError('ERUNTIME', `copying layer ${path.basename(path.dirname(src))} for the user namespace: ${shimMessage(err) || `exit ${code}`}`));
    });
  });
}

function hostEntry(file: string, field: 0 | 2, value: string): string[] | undefined {
  try {
    return parseColonFile(fs.readFileSync(file, 'utf8')).find((e) => e[field] === value);
  } catch {
    return undefined;
  }
}

export interface KeepIdFiles {
  /** /etc/passwd and /etc/group with the user's entries added (undefined: the image has them) */
  passwd?: string;
  group?: string;
  /** the home of the added entry (HOME, unless set) */
  home?: string;
}

/**
 * Podman's entries for the user under keep-id, when the image's files have neither the user's name
 * nor its uid (the group: name nor gid). The home is the user's own where a mount brings it (or a
 * directory above it) into the container, else the working directory.
 */
export function keepIdFiles(ids: UsernsIds, readFile: (p: string) => string | undefined, mountDests: string[], workdir: string): KeepIdFiles {
  const host = hostIds();
  // the host's entry by uid: inside skiff's user namespace (the Engine API's service) os.userInfo() is its root
  const pwEntry = hostEntry('/etc/passwd', 2, String(host.uid));
  const name = pwEntry?.[0] ?? (inUserns() ? (process.env._SKIFF_HOST_USER ?? String(host.uid)) : os.userInfo().username);
  const homedir = pwEntry?.[5] || (inUserns() ? '/' : os.userInfo().homedir);
  const gecos = pwEntry?.[4] ?? '';
  const groupName = hostEntry('/etc/group', 2, String(host.gid))?.[0] ?? name;
  const out: KeepIdFiles = {};
  const passwd = readFile('/etc/passwd');
  const pw = parseColonFile(passwd);
  if (!pw.some((e) => e[0] === name || e[2] === String(ids.uid))) {
    let home = workdir || '/';
    for (let d = homedir; d !== '/' && d !== '.'; d = path.dirname(d)) {
      if (mountDests.includes(d)) {
        home = homedir;
        break;
      }
    }
    out.home = home;
    out.passwd = `${withNewline(passwd)}${name}:*:${ids.uid}:${ids.gid}:${gecos}:${home}:/bin/sh\n`;
  }
  const group = readFile('/etc/group');
  const gr = parseColonFile(group);
  if (!gr.some((e) => e[0] === groupName || e[2] === String(ids.gid))) out.group = `${withNewline(group)}${groupName}:x:${ids.gid}:${name}\n`;
  return out;
}

const withNewline = (text: string | undefined): string => (!text ? '' : text.endsWith('\n') ? text : `${text}\n`);
