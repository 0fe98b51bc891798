/** `compose ps`: the project's containers (running ones; -a all), Docker Compose's columns, --format table|json|TEMPLATE. */
import { defineCommand } from '../../command.js';
import { composeExit, loadFromContext } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'ps',
  describe: 'List containers',
  usage: '[OPTIONS] [SERVICE...]',
  positionals: [{ name: 'service', variadic: true }],
  options: {
    all: { type: 'boolean', alias: 'a', default: false, describe: 'Show all stopped containers (including those created by the run command)' },
    quiet: { type: 'boolean', alias: 'q', default: false, describe: 'Only display IDs' },
    services: { type: 'boolean', default: false, describe: 'Display services' },
    format: { type: 'string', default: 'table', describe: 'Format output using a custom template: \'table\', \'table TEMPLATE\', \'json\', \'TEMPLATE\'' },
    status: { type: 'string', repeat: true, describe: 'Filter services by status. Values: [paused | restarting | removing | running | dead | created | exited]' },
    filter: { type: 'string', repeat: true, describe: 'Filter services by a property (supported filters: status)' },
    'no-trunc': { type: 'boolean', default: false, describe: "Don't truncate output" },
    orphans: { type: 'boolean', default: true, describe: 'Include orphaned services (not declared by project)' },
  },
  handler: (o, { service }, ctx) =>
    composeExit(async () => {
      const project = await loadFromContext(ctx);
      const { serviceContainers } = await import('../../../compose/engine/engine.js');
      const { listContainerRows } = await import('../../../container/list.js');
      const { portMap } = await import('../../../container/network.js');
      const { formatOutput } = await import('../../output/table.js');
      const { SkiffError } = await import('../../../errors.js');
      const statuses = [...o.status];
      for (const f of o.filter) {
        const m = /^status=(.+)$/.exec(f);
        if (!m) throw new SkiffError('EINVAL', `invalid filter ${JSON.stringify(f)}: only status= is supported`, 1);
        statuses.push(m[1]!);
      }
      let list = await serviceContainers(project, service, { oneoff: o.all });
      const known = new Set([...Object.keys(project.services), ...Object.keys(project.disabledServices)]);
      if (!o.orphans) list = list.filter((c) => known.has(c.existing.service));
      list = list.filter((c) => (o.all || statuses.length ? true : c.existing.running) && (statuses.length === 0 || statuses.includes(c.existing.status)));
      list.sort((a, b) => a.existing.name.localeCompare(b.existing.name));
      if (o.services) return [...new Set(list.map((c) => c.existing.service))].map((s) => `${s}\n`).join('');
      if (o.quiet) return list.map((c) => `${c.existing.id}\n`).join('');
      const rows = new Map((await listContainerRows({ all: true, filters: [`label=com.docker.compose.project=${project.name}`], noTrunc: o['no-trunc'] })).map((r) => [r.Names, r] as const));
      const items = list.map((c) => {
        const row = rows.get(c.existing.name);
        const publishers = Object.entries(portMap(c.rec, c.existing.running)).flatMap(([k, v]) => {
          const [port, proto] = k.split('/') as [string, string];
          return (v ?? [{ HostIp: '', HostPort: '0' }]).map((b) => ({ URL: b.HostIp, TargetPort: Number(port), PublishedPort: Number(b.HostPort), Protocol: proto }));
        });
        return {
          Command: row?.Command ?? '',
          CreatedAt: row?.CreatedAt ?? '',
          ExitCode: c.existing.exitCode,
          Health: c.existing.health,
          ID: c.existing.id,
          Image: c.rec.ImageName,
          Labels: row?.Labels ?? '',
          LocalVolumes: String(c.rec.Mounts.filter((m) => m.Type === 'volume').length),
          Mounts: row?.Mounts ?? '',
          Name: c.existing.name,
          Names: c.existing.name,
          Networks: row?.Networks ?? '',
          Ports: row?.Ports ?? '',
          Project: project.name,
          Publishers: publishers,
          RunningFor: row?.RunningFor ?? '',
          Service: c.existing.service,
          Size: '0B',
          State: c.existing.status,
          Status: row?.Status ?? '',
        };
      });
      type Item = (typeof items)[number];
      const col = (header: string, field: (i: Item) => string) => ({ header, field });
      return formatOutput(items, {
        format: o.format,
        defaultTable: [
          col('NAME', (i) => i.Name), col('IMAGE', (i) => i.Image), col('COMMAND', (i) => i.Command), col('SERVICE', (i) => i.Service),
          col('CREATED', (i) => i.RunningFor), col('STATUS', (i) => i.Status), col('PORTS', (i) => i.Ports),
        ],
        headerNames: { RunningFor: 'CREATED', Name: 'NAME', Names: 'NAMES' },
      });
    }),
});
