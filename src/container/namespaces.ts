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
import type { OciSpec } from './spec.js';
import { writeFileAtomic } from '../store/atomic.js';

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
 * `--userns host` (Docker's only mode): rootful containers have no user namespace anyway; rootless
 * each has its own, over the user's subordinate ids (the host's cannot give a root).
 */
export function parseUsernsMode(mode: string | undefined, rootless: boolean): 'host' | undefined {
  if (mode === undefined || mode === '') return undefined;
  if (mode === 'keep-id') throw new SkiffError('EINVAL', '--userns keep-id (Podman\'s) is not supported yet');
  if (mode !== 'host') throw new SkiffError('EINVAL', '--userns: invalid USER mode');
  if (rootless) throw new SkiffError('EINVAL', '--userns host: a rootless container needs a user namespace of its own');
  return mode;
}

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

/** Start: the spec's PID, IPC and UTS namespaces set to those of the containers the record names (running). */
export async function joinSharedNamespaces(rec: ContainerRecord): Promise<void> {
  const wanted = KINDS.filter(([, field]) => rec.HostConfig[field]?.startsWith('container:'));
  const file = containerFiles(rec.Id).spec;
  const spec = JSON.parse(fs.readFileSync(file, 'utf8')) as OciSpec;
  // the user namespace joined at the previous start (its container may be another process now)
  const user = spec.linux.namespaces.find((n) => n.type === 'user');
  if (!wanted.length && !user?.path) return;
  if (user) delete user.path;
  for (const [key, field, what] of wanted) {
    const id = rec.HostConfig[field]!.slice('container:'.length);
    const pid = livePid(id);
    if (pid === undefined) throw new SkiffError('ESTATE', `cannot join ${what} namespace of a non running container: container ${id} is not running`);
    if (key === 'ipc' && !shareableIpc(id)) throw new SkiffError('EINVAL', `container ${id}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
    const ns = spec.linux.namespaces.find((n) => n.type === key);
    if (ns) ns.path = `/proc/${pid}/ns/${key}`;
    joinOwnerUserns(spec, pid);
  }
  await writeFileAtomic(file, JSON.stringify(spec), 0o644);
}
