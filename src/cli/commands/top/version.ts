/** `version`: the client's and the engine's versions (`skiff --version` is answered by the launcher). */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'top',
  name: 'version',
  describe: 'Show the skiff version information',
  positionals: [],
  options: {
    format: { alias: 'f', type: 'string', describe: "Format output using a custom template: 'json' or a Go template" },
  },
  handler: async (o) => {
    const { clientVersion, engineVersion } = await import('../../../lib/version.js');
    // daemonless: the engine is this same program, as Podman's local `version` shows it
    const v = { Client: clientVersion(), Server: engineVersion() };
    if (o.format === 'json') return JSON.stringify(v) + '\n';
    if (o.format) return (await import('../../output/template.js')).compileTemplate(o.format).render(v) + '\n';
    const c = v.Client;
    const s = v.Server;
    const line = (k: string, val: unknown): string => ` ${`${k}:`.padEnd(18)} ${String(val)}\n`;
    return (
      'Client: skiff\n' + line('Version', c.Version) + line('API version', c.ApiVersion) + line('Node', process.version) + line('OS/Arch', `${c.Os}/${c.Arch}`) + line('Context', c.Context) +
      '\nServer: skiff (daemonless: this program)\n' + line('Version', s.Version) + line('API version', `${String(s.ApiVersion)} (minimum version ${String(s.MinAPIVersion)})`) + line('OS/Arch', `${s.Os}/${s.Arch}`) + line('Kernel Version', s.KernelVersion)
    );
  },
});
