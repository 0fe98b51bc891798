/** `system service`: the Docker Engine API on a socket (src/api/) until idle. */
import { SkiffError } from '../../../errors.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'system',
  name: 'service',
  describe: 'Serve the Docker Engine API on a socket (default: <runroot>/docker.sock) until idle',
  usage: '[OPTIONS] [URI]',
  positionals: [{ name: 'uri' }],
  options: {
    time: { alias: 't', type: 'int', default: 5, describe: 'Seconds without a connection before exiting (0: never)' },
  },
  // rootless: not `userns`: the listener stays outside, as `run`/`start`/`exec`, and hands store work
  // and user-network starts to workers inside the namespaces (src/api/workers.ts)
  handler: async (o, { uri }) => {
    if (o.time < 0) throw new SkiffError('EINVAL', `invalid --time ${o.time}: want seconds (0: never)`);
    const { serve } = await import('../../../api/server.js');
    await serve({ idleSec: o.time, ...(uri ? { uri } : {}) });
  },
});
