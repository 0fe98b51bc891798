/** `port CONTAINER [PRIVATE_PORT[/PROTO]]`: Docker's lines. */
import { SkiffError } from '../../../errors.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'container',
  name: 'port',
  aliases: ['port'],
  describe: 'List port mappings or a specific mapping for the container',
  usage: 'CONTAINER [PRIVATE_PORT[/PROTO]]',
  positionals: [{ name: 'container', required: true }, { name: 'port' }],
  options: {},
  handler: async (_o, a) => {
    const [{ portMap }, { containerState }, { splitProtoPort }, { findContainer }] = await Promise.all([
      import('../../../container/network.js'), import('../../../container/state.js'), import('../../../network/ports.js'), import('../../../store/containers.js'),
    ]);
    const rec = findContainer(a.container);
    const map = portMap(rec, containerState(rec).Running);
    const addr = (b: { HostIp: string; HostPort: string }): string => `${b.HostIp.includes(':') ? `[${b.HostIp}]` : b.HostIp}:${b.HostPort}`;
    if (a.port !== undefined) {
      const [proto, p] = splitProtoPort(a.port);
      const key = `${p}/${proto}`;
      const binds = map[key];
      if (!binds?.length) throw new SkiffError('EINVAL', `No public port '${key}' published for ${a.container}`, 1);
      return binds.map((b) => `${addr(b)}\n`).join('');
    }
    const lines: string[] = [];
    for (const [key, binds] of Object.entries(map).sort(([x], [y]) => parseInt(x, 10) - parseInt(y, 10))) {
      for (const b of binds ?? []) lines.push(`${key} -> ${addr(b)}\n`);
    }
    return lines.join('');
  },
});
