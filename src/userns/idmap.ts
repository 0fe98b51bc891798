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
