/** `top`: the processes of a running container's pid namespace, through the host's `ps` (its options pass through). */
import { topProcesses } from '../../../container/procs.js';
import { containerState } from '../../../container/state.js';
import { SkiffError } from '../../../errors.js';
import { findContainer } from '../../../store/containers.js';
import { defineCommand } from '../../command.js';
import { tabwrite } from '../../output/table.js';

export default defineCommand({
  group: 'container',
  name: 'top',
  aliases: ['top'],
  describe: 'Display the running processes of a container',
  usage: 'CONTAINER [ps OPTIONS]',
  positionals: [{ name: 'container', required: true }, { name: 'ps-options', variadic: true }],
  options: {},
  passthrough: true,
  handler: (_o, args) => {
    const rec = findContainer(args.container);
    const st = containerState(rec);
    if (!st.Running || !st.Pid) throw new SkiffError('ESTATE', `container ${rec.Id} is not running`, 1);
    const r = topProcesses(st.Pid, args['ps-options']);
    const text = [r.Titles, ...r.Processes].map((row) => row.join('\t') + '\n').join('');
    return tabwrite(text, { minwidth: 20, padding: 3 });
  },
});
