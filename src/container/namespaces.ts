/**
 * The PID, IPC and UTS namespaces of a container (the network's is container/network.ts's):
 * Docker's `--pid host|container:X`, `--ipc host|container:X|shareable|private|none`, `--uts host`
 * (and Podman's `--uts container:X`, which `kube play` uses to put a pod's containers into its infra
 * container's IPC and UTS namespaces). Create records them as HostConfig.PidMode / IpcMode / UTSMode
 * (`container:ID`, and the hostname of the UTS namespace's owner, or the host's); the spec leaves a
 * `host` namespace out of linux.namespaces (spec.ts); each start points the spec at the other
 * container's live namespaces (the shim joins a namespace with a path, and sets no hostname in a
 * joined or the host's UTS namespace).
 */
import fs from 'node:fs';
import os from 'node:os';
import { SkiffError } from '../errors.js';
import { containerFiles, findContainer, readContainer, type ContainerRecord } from '../store/containers.js';
import { livePid } from './state.js';
import { fitUserns, type OciSpec } from './spec.js';
import { writeFileAtomic } from '../store/atomic.js';
import { hostIds, shiftedMappings, type UsernsIds } from '../userns/idmap.js';

export interface SharedNamespaceOptions {
  /** `host` or `container:NAME|ID` */
  pid?: string;
  /** `host`, `container:NAME|ID`, `shareable`, `private` or `none` */
  ipc?: string;
  /** `host` or `container:NAME|ID` */
  uts?: string;
}

const KINDS = [
  ['pid', 'PidMode', 'PID'],
  ['ipc', 'IpcMode', 'IPC'],
  ['uts', 'UTSMode', 'UTS'],
] as const;

/** The IPC modes besides host and container:X (Docker's IpcMode.Valid). */
const IPC_OWN = ['private', 'shareable', 'none'];

export interface SharedNamespaces {
  PidMode?: string;
  IpcMode?: string;
  UTSMode?: string;
  /** the hostname of a shared (or the host's) UTS namespace */
  hostname?: string;
}

/** Create: the modes as the record keeps them (`container:ID`), and the hostname a shared UTS namespace has. Docker's words. */
export function resolveSharedNamespaces(o: SharedNamespaceOptions): SharedNamespaces {
  const out: SharedNamespaces = {};
  for (const [key, field, what] of KINDS) {
    const mode = o[key];
    if (mode === undefined || mode === '') continue;
    if (mode === 'host' || (key === 'ipc' && IPC_OWN.includes(mode))) {
      out[field] = mode;
      if (key === 'uts') out.hostname = os.hostname();
      continue;
    }
    if (!mode.startsWith('container:') || mode === 'container:') throw new SkiffError('EINVAL', `--${key}: invalid ${what} mode`);
    let other: ContainerRecord;
    try {
      other = findContainer(mode.slice('container:'.length));
    } catch (e) {
      throw new SkiffError('ENOCONTAINER', (e as Error).message, 125); // Docker's run and create fail with 125 here
    }
    out[field] = `container:${other.Id}`;
    if (key === 'uts') out.hostname = other.Config.Hostname;
  }
  return out;
}

/** `--cgroupns host|private` (Docker's words); the record keeps a given mode. */
export function parseCgroupnsMode(mode: string | undefined): 'host' | 'private' | undefined {
  if (mode === undefined || mode === '') return undefined;
  if (mode !== 'host' && mode !== 'private') throw new SkiffError('EINVAL', '--cgroupns: invalid CGROUP mode');
  return mode;
}

/**
 * `--userns`: `host` (Docker's only mode): rootful containers have no user namespace anyway; rootless
 * each has its own, over the user's subordinate ids (the host's cannot give a root). Podman's rootless
 * `keep-id[:uid=U,gid=G]`: the user's ids are theirs inside too (or U/G; userns/idmap.ts); refused
 * rootful with Podman's words. `mode` is HostConfig.UsernsMode.
 */
export function parseUsernsMode(mode: string | undefined, rootless: boolean): { mode?: string; ids?: UsernsIds } {
  if (mode === undefined || mode === '') return {};
  const [word = '', opts] = splitOnce(mode, ':');
  if (word === 'keep-id') {
    if (!rootless) throw new SkiffError('EINVAL', 'keep-id is only supported in rootless mode');
    const ids: UsernsIds = { mode: word, ...hostIds() };
    for (const o of opts === undefined ? [] : opts.split(',')) {
      const [k, v = ''] = splitOnce(o, '=');
      if ((k !== 'uid' && k !== 'gid') || !/^\d+$/.test(v)) throw new SkiffError('EINVAL', `--userns keep-id: invalid option "${o}" (uid=UID, gid=GID)`);
      ids[k] = Number(v);
    }
    const maps = shiftedMappings(ids);
    if (typeof maps === 'string') throw new SkiffError('EINVAL', maps);
    return { mode, ids };
  }
  if (mode !== 'host') throw new SkiffError('EINVAL', '--userns: invalid USER mode');
  if (rootless) throw new SkiffError('EINVAL', '--userns host: a rootless container needs a user namespace of its own');
  return { mode };
}

/**
 * Rootless, a container that joins another's namespaces (`--pid/--ipc/--uts/--network container:X`)
 * joins its user namespace: its --userns must be that container's, or its layers' owners would be
 * read through the wrong maps (keep-id: userns/idmap.ts).
 */
export function checkJoinedUserns(userns: string | undefined, modes: (string | undefined)[]): void {
  for (const mode of modes) {
    if (!mode?.startsWith('container:')) continue;
    let other: ContainerRecord;
    try {
      other = findContainer(mode.slice('container:'.length));
    } catch {
      continue; // the option's own check says it is missing
    }
    const theirs = other.HostConfig.UsernsMode ?? '';
    if ((userns ?? '') !== theirs) {
      throw new SkiffError('EINVAL', `rootless, a container joins the user namespace of ${other.Name} with its other namespaces: --userns must be the same as that container's (${theirs ? `"${theirs}"` : 'none'})`);
    }
  }
}

const splitOnce = (s: string, sep: string): [string, string | undefined] => {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
};

/**
 * Rootless, each container has a user namespace of its own, and a namespace it owns can be joined only
 * from inside it: a container that joins another's namespaces joins that one's user namespace too
 * (instead of making one), so all the namespaces it joins must belong to one container's.
 */
export function joinOwnerUserns(spec: OciSpec, pid: number): void {
  const user = spec.linux.namespaces.find((n) => n.type === 'user');
  if (!user) return; // rootful, or inside skiff's own user namespace
  const want = `/proc/${pid}/ns/user`;
  if (user.path && user.path !== want && readNs(user.path) !== readNs(want)) {
    throw new SkiffError('EINVAL', 'rootless, a container can join the namespaces of one other container only (each has its own user namespace)');
  }
  user.path = want;
}

const readNs = (p: string): string | undefined => {
  try {
    return fs.readlinkSync(p);
  } catch {
    return undefined;
  }
};

/**
 * Docker's rule for `--ipc container:X`: X's IPC namespace must be shareable, i.e. X was made with
 * `--ipc shareable` or `host`, or joined one that is (`container:Y`). The default, as dockerd's
 * default-ipc-mode, is `private`: not shareable.
 */
function shareableIpc(id: string): boolean {
  for (let depth = 0; depth < 16; depth++) {
    const mode = readContainer(id)?.HostConfig.IpcMode ?? 'private';
    if (mode === 'shareable' || mode === 'host') return true;
    if (!mode.startsWith('container:')) return false;
    id = mode.slice('container:'.length);
  }
  return false;
}

/**
 * `--ipc container:X` shares X's /dev/shm with its IPC namespace, as Docker and Podman do: the spec's
 * /dev/shm becomes a bind of the one in X's root (the shim copies that mount from inside X's mount
 * namespace, where the path cannot leave X's root: mounts.c).
 */
function shareShm(spec: OciSpec, pid: number): void {
  const i = spec.mounts.findIndex((m) => m.destination === '/dev/shm');
  if (i >= 0) spec.mounts[i] = { destination: '/dev/shm', type: 'bind', source: `/proc/${pid}/root/dev/shm`, options: ['rbind', 'nosuid', 'nodev', 'noexec'] };
}

/**
 * Start: the spec's user namespace fitted to where this start runs (`fitUserns`), and its PID, IPC
 * and UTS namespaces set to those of the containers the record names (running).
 */
export async function joinSharedNamespaces(rec: ContainerRecord, read?: OciSpec): Promise<OciSpec> {
  const wanted = KINDS.filter(([, field]) => rec.HostConfig[field]?.startsWith('container:'));
  const file = containerFiles(rec.Id).spec;
  const spec = read ?? (JSON.parse(fs.readFileSync(file, 'utf8')) as OciSpec);
  const fitted = fitUserns(spec);
  // the user namespace joined at the previous start (its container may be another process now)
  const user = spec.linux.namespaces.find((n) => n.type === 'user');
  if (!wanted.length && !user?.path) {
    if (fitted) await writeFileAtomic(file, JSON.stringify(spec), 0o644);
    return spec;
  }
  if (user) delete user.path;
  for (const [key, field, what] of wanted) {
    const id = rec.HostConfig[field]!.slice('container:'.length);
    const pid = livePid(id);
    if (pid === undefined) throw new SkiffError('ESTATE', `cannot join ${what} namespace of a non running container: container ${id} is not running`);
    if (key === 'ipc' && !shareableIpc(id)) throw new SkiffError('EINVAL', `container ${id}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
    const ns = spec.linux.namespaces.find((n) => n.type === key);
    if (ns) ns.path = `/proc/${pid}/ns/${key}`;
    if (key === 'ipc') shareShm(spec, pid);
    joinOwnerUserns(spec, pid);
  }
  await writeFileAtomic(file, JSON.stringify(spec), 0o644);
  return spec;
}
