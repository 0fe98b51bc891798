/** `top` (old style: its `ps` options pass through argv.ts until dispatch reads the registry; its descriptor: container/top.ts). */
import type { CommandModule } from 'yargs';
import { topProcesses } from '../../container/procs.js';
import { containerState } from '../../container/state.js';
import { SkiffError } from '../../errors.js';
import { findContainer } from '../../store/containers.js';
import { passthrough, registerPassthrough } from '../argv.js';
import { tabwrite } from '../output/table.js';

registerPassthrough('top', ['root', 'runroot']);
export const top: CommandModule = {
  command: 'top <container>',
  describe: 'Display the running processes of a container',
  builder: (y) => y.usage('Usage: skiff top CONTAINER [ps OPTIONS]').positional('container', { type: 'string', demandOption: true }),
  handler: async (a) => {
    const rec = findContainer(String(a.container));
    const st = containerState(rec);
    if (!st.Running || !st.Pid) throw new SkiffError('ESTATE', `container ${rec.Id} is not running`, 1);
    const r = topProcesses(st.Pid, passthrough());
    const text = [r.Titles, ...r.Processes].map((row) => row.join('\t') + '\n').join('');
    process.stdout.write(tabwrite(text, { minwidth: 20, padding: 3 }));
  },
};
