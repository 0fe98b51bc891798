/** `cp`: copy files between a container and the host (Docker's `docker cp`). */
import fs from 'node:fs';
import { SkiffError } from '../../../errors.js';
import { defineCommand } from '../../command.js';

/** Docker's reading of an argument: a path when it starts with `/` or `.` or has no `:`, else CONTAINER:PATH. */
function split(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  const i = arg.indexOf(':');
  if (i < 0) return { path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

/** Set for the command run in the user namespace: the pid whose /proc/PID/root it got as fd 3. */
const ROOT_PID = '_SKIFF_CP_ROOT_PID';

export default defineCommand({
  group: 'container',
  name: 'cp',
  aliases: ['cp'],
  describe: 'Copy files/folders between a container and the local filesystem',
  usage: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n       skiff cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  positionals: [{ name: 'src', required: true }, { name: 'dest', required: true }],
  options: {
    archive: { alias: 'a', type: 'boolean', describe: 'Archive mode (copy all uid/gid information)' },
    'follow-link': { alias: 'L', type: 'boolean', describe: 'Always follow symbol link in SRC_PATH' },
    quiet: { alias: 'q', type: 'boolean', describe: 'Suppress progress output during copy (accepted: there is none)' },
  },
  userns: true,
  // rootless: a running container's root is opened as the user, who owns its user namespace (from
  // skiff's own namespace, a sibling of the container's, /proc/PID/root is refused)
  usernsFds: async (_o, a) => {
    const ref = split(a.src).container ?? split(a.dest).container;
    if (!ref) return [];
    const [{ findContainer }, { containerState }] = await Promise.all([import('../../../store/containers.js'), import('../../../container/state.js')]);
    let pid: number;
    try {
      const st = containerState(findContainer(ref));
      if (!st.Running || !st.Pid) return [];
      pid = st.Pid;
    } catch {
      return []; // the command inside says what is wrong
    }
    process.env[ROOT_PID] = String(pid);
    return [fs.openSync(`/proc/${pid}/root`, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY)];
  },
  handler: async (o, a, ctx) => {
    const src = split(a.src);
    const dest = split(a.dest);
    if (src.container !== undefined && dest.container !== undefined) throw new SkiffError('EINVAL', 'copying between containers is not supported', 1);
    if (src.container === undefined && dest.container === undefined) throw new SkiffError('EINVAL', 'must specify at least one container source', 1);
    const handed = process.env[ROOT_PID];
    const opts = { archive: o.archive ?? false, followLink: o['follow-link'] ?? false, ...(handed ? { liveRoot: { pid: Number(handed), dir: '/proc/self/fd/3' } } : {}) };
    const cp = await import('../../../builder/cp.js');
    if (src.container !== undefined) {
      if (!src.container || !src.path) throw new SkiffError('EINVAL', `invalid source "${a.src}": CONTAINER:PATH needs both`, 1);
      await cp.copyFromContainer(src.container, src.path, dest.path, opts, ctx.stdout);
    } else {
      if (!dest.container || !dest.path) throw new SkiffError('EINVAL', `invalid destination "${a.dest}": CONTAINER:PATH needs both`, 1);
      await cp.copyToContainer(src.path, dest.container!, dest.path, opts, ctx.stdin);
    }
  },
});
