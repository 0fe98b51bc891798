/**
 * User-namespace id mappings for rootless mode: the invoking user becomes root in the
 * container, and its /etc/subuid and /etc/subgid range maps ids 1..n (written by newuidmap/newgidmap).
 * Without a range only the user's own id is mapped (one id in the container) and we say so.
 */
import fs from 'node:fs';
import os from 'node:os';

export interface IdMap {
  containerID: number;
  hostID: number;
  size: number;
}

export interface IdMappings {
  uidMappings: IdMap[];
  gidMappings: IdMap[];
  /** true when newuidmap/newgidmap must write the maps (subordinate ranges). */
  helpers: boolean;
}

function subRange(file: string, user: string, id: number): IdMap | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [who, start, count] = line.trim().split(':');
    if ((who === user || who === String(id)) && start && count) {
      return { containerID: 1, hostID: Number(start), size: Number(count) };
    }
  }
  return undefined;
}

let cached: IdMappings | undefined;

export function rootlessMappings(): IdMappings {
  if (cached) return cached;
  // Inside skiff's own user namespace (rootless store work) we are "root": use the host identity.
  const env = process.env;
  const inNs = env._SKIFF_IN_USERNS === '1' && env._SKIFF_HOST_UID !== undefined;
  const uid = inNs ? Number(env._SKIFF_HOST_UID) : process.getuid!();
  const gid = inNs ? Number(env._SKIFF_HOST_GID) : process.getgid!();
  const user = inNs ? (env._SKIFF_HOST_USER ?? '') : os.userInfo().username;
  const su = subRange('/etc/subuid', user, uid);
  const sg = subRange('/etc/subgid', user, uid);
  const haveHelpers = fs.existsSync('/usr/bin/newuidmap') && fs.existsSync('/usr/bin/newgidmap');
  if (su && sg && haveHelpers) {
    cached = {
      uidMappings: [{ containerID: 0, hostID: uid, size: 1 }, su],
      gidMappings: [{ containerID: 0, hostID: gid, size: 1 }, sg],
      helpers: true,
    };
  } else {
    if (!process.env._SKIFF_WARNED_IDMAP) {
      process.stderr.write(
        `Warning: no subordinate id range for ${user} in /etc/subuid and /etc/subgid (or newuidmap missing): ` +
          'containers get a single uid/gid mapping\n',
      );
      process.env._SKIFF_WARNED_IDMAP = '1';
    }
    cached = {
      uidMappings: [{ containerID: 0, hostID: uid, size: 1 }],
      gidMappings: [{ containerID: 0, hostID: gid, size: 1 }],
      helpers: false,
    };
  }
  return cached;
}

export const formatMap = (m: IdMap[]): string => m.map((x) => `${x.containerID}:${x.hostID}:${x.size}`).join(',');

/**
 * Podman's rootless `--userns keep-id[:uid=U,gid=G]`: a user namespace over the same ids as the
 * standard one (the user's own and the subordinate range), arranged otherwise: the user at U (default:
 * the user's uid, gid alike), the subordinate ids around it (0..U-1 and U+1..).
 * `inner` maps a container id to the id of skiff's own user namespace (where 0 is the user and 1.. the
 * subordinate range: the owners of the store's layers), which is also what a layer copy for the
 * container must change each owner to (a layer's owner is the standard container's id);
 * `host` is the same composed with the rootless mapping: the container's maps.
 */
export interface UsernsIds {
  mode: 'keep-id';
  uid: number;
  gid: number;
}

export interface ShiftedMappings {
  inner: { uid: IdMap[]; gid: IdMap[] };
  host: { uid: IdMap[]; gid: IdMap[] };
}

/** The map of one kind of id; undefined when `at` lies outside the namespace's ids. */
function shifted(at: number, maps: IdMap[]): { inner: IdMap[]; host: IdMap[] } | undefined {
  const own = maps[0]!;
  const sub = maps[1];
  if (!sub) return undefined;
  const n = sub.size; // the inner namespace holds 0 (the user) and 1..n (the subordinate range)
  if (at > n) return undefined;
  const inner = [
    { containerID: 0, hostID: 1, size: at },
    { containerID: at, hostID: 0, size: 1 },
    { containerID: at + 1, hostID: at + 1, size: n - at },
  ].filter((m) => m.size > 0);
  const host = inner.map((m) => ({ containerID: m.containerID, hostID: m.hostID === 0 ? own.hostID : sub.hostID + m.hostID - 1, size: m.size }));
  return { inner, host };
}

/** The maps of a keep-id container; an error (the words say why) when the ids cannot be placed. */
export function shiftedMappings(ids: UsernsIds): ShiftedMappings | string {
  const m = rootlessMappings();
  if (!m.helpers) return '--userns keep-id needs a subordinate id range for the user (/etc/subuid, /etc/subgid) and newuidmap';
  const u = shifted(ids.uid, m.uidMappings);
  const g = shifted(ids.gid, m.gidMappings);
  if (!u) return `--userns keep-id: uid ${ids.uid} is outside the ${m.uidMappings[1]!.size + 1} ids of the user namespace`;
  if (!g) return `--userns keep-id: gid ${ids.gid} is outside the ${m.gidMappings[1]!.size + 1} ids of the user namespace`;
  return { inner: { uid: u.inner, gid: g.inner }, host: { uid: u.host, gid: g.host } };
}

/** The invoking user's uid and gid on the host (also from inside skiff's user namespace). */
export function hostIds(): { uid: number; gid: number } {
  const m = rootlessMappings();
  return { uid: m.uidMappings[0]!.hostID, gid: m.gidMappings[0]!.hostID };
}
