/** `compose cp`: files between a service's container and the host (`skiff cp` on the service's containers: into every one, out of #index). */
import fs from 'node:fs';
import { SkiffError } from '../../../errors.js';
import { defineCommand } from '../../command.js';
import { composeExit, loadFromContext } from './project.js';

/** Docker's reading of an argument: a path when it starts with `/` or `.` or has no `:`, else SERVICE:PATH. */
function split(arg: string): { service?: string; path: string } {
  if (arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  const i = arg.indexOf(':');
  return i < 0 ? { path: arg } : { service: arg.slice(0, i), path: arg.slice(i + 1) };
}

/** Set for the command run in the user namespace: the pids whose /proc/PID/root it got as fds 3, 4, ... */
const ROOT_PIDS = '_SKIFF_CP_ROOT_PIDS';

export default defineCommand({
  group: 'compose',
  name: 'cp',
  describe: 'Copy files/folders between a service container and the local filesystem',
  usage: '[OPTIONS] SERVICE:SRC_PATH DEST_PATH|-\n       skiff compose cp [OPTIONS] SRC_PATH|- SERVICE:DEST_PATH',
  positionals: [{ name: 'src', required: true }, { name: 'dest', required: true }],
  options: {
    all: { type: 'boolean', default: false, hidden: true, describe: 'Include containers created by the run command' },
    archive: { type: 'boolean', alias: 'a', default: false, describe: 'Archive mode (copy all uid/gid information)' },
    'follow-link': { type: 'boolean', alias: 'L', default: false, describe: 'Always follow symbol link in SRC_PATH' },
    index: { type: 'int', default: 0, describe: 'Index of the container if service has multiple replicas' },
  },
  userns: true,
  // rootless: running containers' roots are opened as the user (see container/cp.ts)
  usernsFds: async (o, a, group) => {
    const service = split(a.src).service ?? split(a.dest).service;
    if (!service || !group) return [];
    const [{ serviceTargets }, { containerState }] = await Promise.all([import('../../../compose/engine/access.js'), import('../../../container/state.js')]);
    const pids: number[] = [];
    try {
      const project = await loadFromContext({ group, stderr: { write: () => true } } as never);
      for (const rec of await serviceTargets(project, service, { index: split(a.src).service ? o.index || 1 : o.index })) {
        const st = containerState(rec);
        pids.push(st.Running && st.Pid ? st.Pid : 0);
      }
    } catch {
      return []; // the command inside says what is wrong
    }
    if (!pids.some(Boolean)) return [];
    process.env[ROOT_PIDS] = pids.join(',');
    return pids.map((pid) => fs.openSync(pid ? `/proc/${pid}/root` : '/dev/null', fs.constants.O_RDONLY | (pid ? fs.constants.O_DIRECTORY : 0)));
  },
  handler: (o, a, ctx) =>
    composeExit(async () => {
      const src = split(a.src);
      const dest = split(a.dest);
      if (src.service !== undefined && dest.service !== undefined) throw new SkiffError('EINVAL', 'copying between services is not supported', 1);
      if (src.service === undefined && dest.service === undefined) throw new SkiffError('EINVAL', 'source or destination must be a service', 1);
      const project = await loadFromContext(ctx);
      const [{ serviceTargets }, cp] = await Promise.all([import('../../../compose/engine/access.js'), import('../../../builder/cp.js')]);
      const handed = (process.env[ROOT_PIDS] ?? '').split(',').filter(Boolean).map(Number);
      const opts = (i: number) => ({
        archive: o.archive, followLink: o['follow-link'], ...(handed[i] ? { liveRoot: { pid: handed[i]!, dir: `/proc/self/fd/${3 + i}` } } : {}),
      });
      if (src.service !== undefined) {
        if (!src.service || !src.path) throw new SkiffError('EINVAL', `invalid source "${a.src}": SERVICE:PATH needs both`, 1);
        // out of one container: #index, else the first
        const [rec] = await serviceTargets(project, src.service, { index: o.index || 1 });
        await cp.copyFromContainer(rec!.Id, src.path, dest.path, opts(0), ctx.stdout);
        return;
      }
      if (!dest.service || !dest.path) throw new SkiffError('EINVAL', `invalid destination "${a.dest}": SERVICE:PATH needs both`, 1);
      // into every container of the service (Docker Compose's), or #index
      const recs = await serviceTargets(project, dest.service, { index: o.index });
      if (dest.path && src.path === '-' && recs.length > 1) throw new SkiffError('EINVAL', 'an archive on stdin can be copied into one container only: give --index', 1);
      for (const [i, rec] of recs.entries()) await cp.copyToContainer(src.path, rec.Id, dest.path, opts(i), ctx.stdin);
    }),
});
