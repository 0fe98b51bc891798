/** `compose port SERVICE PRIVATE_PORT`: the public address of a port of the service's container. */
import { defineCommand } from '../../command.js';
import { withProject } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'port',
  describe: 'Print the public port for a port binding',
  usage: '[OPTIONS] SERVICE PRIVATE_PORT',
  positionals: [{ name: 'service', required: true }, { name: 'private-port', required: true }],
  options: {
    index: { type: 'int', default: 1, describe: 'Index of the container if service has multiple replicas' },
    protocol: { type: 'string', choices: ['tcp', 'udp', 'sctp'], default: 'tcp', describe: 'tcp or udp' },
  },
  handler: (o, a, ctx) =>
    withProject(ctx, async (project) => {
      const [{ servicePort }, { SkiffError }] = await Promise.all([import('../../../compose/engine/verbs.js'), import('../../../errors.js')]);
      const port = Number(a['private-port']);
      if (!/^\d+$/.test(a['private-port']) || port < 1 || port > 65535) throw new SkiffError('EINVAL', `invalid port ${JSON.stringify(a['private-port'])}: expected a number 1-65535`, 1);
      return `${await servicePort(project, a.service, port, { protocol: o.protocol, index: o.index })}\n`;
    }),
});
