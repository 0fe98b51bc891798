/** `top`: the container's processes (ps options after the container are passed to ps's columns). */
import { SkiffError } from '../../../errors.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'container',
  name: 'top',
  aliases: ['top'],
  describe: 'Display the running processes of a container',
  usage: 'CONTAINER [ps OPTIONS]',
  positionals: [{ name: 'container', required: true }, { name: 'ps-options', variadic: true }],
  options: {},
  passthrough: true,
  handler: async (_o, a) => {
    const [{ topProcesses }, { containerState }, { findContainer }, { tabwrite }] = await Promise.all([
      import('../../../container/procs.js'), import('../../../container/state.js'), import('../../../store/containers.js'), import('../../output/table.js'),
    ]);
    const rec = findContainer(a.container);
    const st = containerState(rec);
    if (!st.Running || !st.Pid) throw new SkiffError('ESTATE', `container ${rec.Id} is not running`, 1);
    const r = topProcesses(st.Pid, a['ps-options']);
    const text = [r.Titles, ...r.Processes].map((row) => row.join('\t') + '\n').join('');
    return tabwrite(text, { minwidth: 20, padding: 3 });
  },
});
