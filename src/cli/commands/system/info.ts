/** `info` / `system info`: Docker's client and server sections, or --format over Docker's fields. */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'system',
  name: 'info',
  aliases: ['info'],
  describe: 'Display system-wide information',
  positionals: [],
  options: {
    format: { alias: 'f', type: 'string', describe: "Format output using a custom template: 'json' or a Go template" },
  },
  handler: async (o) => {
    const [{ systemInfo }, { goArch, skiffVersion }, { bytesSize }] = await Promise.all([
      import('../../../system/info.js'), import('../../../lib/version.js'), import('../../../lib/units.js'),
    ]);
    const server = await systemInfo();
    const info = { ...server, ClientInfo: { Debug: false, Version: skiffVersion(), GoOs: 'linux', GoArch: goArch(), Context: 'default', Plugins: [], Warnings: null } };
    if (o.format) {
      const format = o.format === 'json' ? '{{json .}}' : o.format;
      return `${(await import('../../output/template.js')).compileTemplate(format).render(info)}\n`;
    }
    const i = server as Record<string, never> & {
      DriverStatus: [string, string][]; Plugins: { Volume: string[]; Network: string[]; Log: string[] }; SecurityOptions: string[];
      RegistryConfig: { InsecureRegistryCIDRs: string[] }; Warnings: string[]; Runtimes: Record<string, unknown>;
    };
    const security = i.SecurityOptions.flatMap((s) => {
      const kv = Object.fromEntries(s.split(',').map((p) => p.split('=') as [string, string]));
      return [`  ${kv.name}`, ...Object.entries(kv).filter(([k]) => k !== 'name').map(([k, v]) => `   ${k[0]!.toUpperCase()}${k.slice(1)}: ${v}`)];
    });
    const lines = [
      'Client:', ` Version:    ${skiffVersion()}`, ' Context:    default', ' Debug Mode: false', '',
      'Server:', ` Containers: ${i.Containers}`, `  Running: ${i.ContainersRunning}`, `  Paused: ${i.ContainersPaused}`, `  Stopped: ${i.ContainersStopped}`,
      ` Images: ${i.Images}`, ` Server Version: ${i.ServerVersion}`, ` Storage Driver: ${i.Driver}`, ...i.DriverStatus.map(([k, v]) => `  ${k}: ${v}`),
      ` Logging Driver: ${i.LoggingDriver}`, ` Cgroup Driver: ${i.CgroupDriver}`, ` Cgroup Version: ${i.CgroupVersion}`,
      ' Plugins:', `  Volume: ${i.Plugins.Volume.join(' ')}`, `  Network: ${i.Plugins.Network.join(' ')}`, `  Log: ${i.Plugins.Log.join(' ')}`,
      ` Runtimes: ${Object.keys(i.Runtimes).join(' ')}`, ` Default Runtime: ${i.DefaultRuntime}`, ` Init Binary: ${i.InitBinary}`,
      ' Security Options:', ...security,
      ` Kernel Version: ${i.KernelVersion}`, ` Operating System: ${i.OperatingSystem}`, ` OSType: ${i.OSType}`, ` Architecture: ${i.Architecture}`,
      ` CPUs: ${i.NCPU}`, ` Total Memory: ${bytesSize(i.MemTotal)}`, ` Name: ${i.Name}`, ` ID: ${i.ID}`, ` Docker Root Dir: ${i.DockerRootDir}`,
      ' Debug Mode: false', ' Experimental: false', ' Insecure Registries:', ...i.RegistryConfig.InsecureRegistryCIDRs.map((c) => `  ${c}`),
      ` Live Restore Enabled: ${i.LiveRestoreEnabled}`, '',
    ];
    return { stdout: `${lines.join('\n')}\n`, stderr: i.Warnings.map((w) => `${w}\n`).join('') };
  },
});
