/**
 * Namespaces a container shares with another container besides the network (container/network.ts owns
 * `--network container:X`): Docker's `--ipc container:X` and Podman's `--uts container:X`, which
 * `kube play` uses to put a pod's containers into its infra container's IPC and UTS namespaces. Not
 * (yet) command-line options. Create records them as HostConfig.IpcMode / UTSMode `container:ID` (and
 * the hostname of the UTS namespace's owner); each start points the spec at that container's live
 * namespaces (the shim joins a namespace with a path, and sets no hostname in a joined UTS namespace).
 */
import fs from 'node:fs';
import { SkiffError } from '../errors.js';
import { containerFiles, findContainer, type ContainerRecord } from '../store/containers.js';
import { livePid } from './state.js';
import type { OciSpec } from './spec.js';
import { writeFileAtomic } from '../store/atomic.js';

export interface SharedNamespaceOptions {
  /** `container:NAME|ID` */
  ipc?: string;
  /** `container:NAME|ID` */
  uts?: string;
}

const KINDS = [
  ['ipc', 'IpcMode', 'IPC'],
  ['uts', 'UTSMode', 'UTS'],
] as const;

/** Create: the modes as the record keeps them (`container:ID`), and the hostname a shared UTS namespace has. */
export function resolveSharedNamespaces(o: SharedNamespaceOptions): { IpcMode?: string; UTSMode?: string; hostname?: string } {
  const out: { IpcMode?: string; UTSMode?: string; hostname?: string } = {};
  for (const [key, field, what] of KINDS) {
    const mode = o[key];
    if (mode === undefined) continue;
    if (!mode.startsWith('container:') || mode === 'container:') throw new SkiffError('EINVAL', `invalid ${what} mode ${JSON.stringify(mode)}: only container:<name|id> is supported`);
    const other = findContainer(mode.slice('container:'.length));
    out[field] = `container:${other.Id}`;
    if (key === 'uts') out.hostname = other.Config.Hostname;
  }
  return out;
}

/** Start: the spec's IPC and UTS namespaces set to those of the containers the record names (running). */
export async function joinSharedNamespaces(rec: ContainerRecord): Promise<void> {
  const wanted = KINDS.filter(([, field]) => rec.HostConfig[field]?.startsWith('container:'));
  if (!wanted.length) return;
  const file = containerFiles(rec.Id).spec;
  const spec = JSON.parse(fs.readFileSync(file, 'utf8')) as OciSpec;
  for (const [key, field, what] of wanted) {
    const id = rec.HostConfig[field]!.slice('container:'.length);
    const pid = livePid(id);
    if (pid === undefined) throw new SkiffError('ESTATE', `cannot join ${what} namespace of a non running container: container ${id} is not running`);
    const ns = spec.linux.namespaces.find((n) => n.type === key);
    if (ns) ns.path = `/proc/${pid}/ns/${key}`;
  }
  await writeFileAtomic(file, JSON.stringify(spec), 0o644);
}
