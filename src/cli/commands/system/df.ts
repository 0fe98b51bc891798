/** `system df`: Docker's TYPE/TOTAL/ACTIVE/SIZE/RECLAIMABLE table, `-v` per object, `--format`. */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'system',
  name: 'df',
  describe: 'Show skiff disk usage',
  positionals: [],
  options: {
    verbose: { alias: 'v', type: 'boolean', default: false, describe: 'Show detailed information on space usage' },
    format: { type: 'string', describe: "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template" },
  },
  // rootless: containers' and volumes' files belong to subordinate ids; their sizes are read in the namespace
  userns: true,
  handler: async (o) => {
    const [{ diskUsage, usageSummary }, { humanSize, createdSince }, { formatOutput, renderTable }] = await Promise.all([
      import('../../../system/df.js'), import('../../../lib/units.js'), import('../../output/table.js'),
    ]);
    const du = await diskUsage();
    const percent = (part: number, whole: number): string => (whole > 0 ? `${humanSize(part)} (${Math.floor((part * 100) / whole)}%)` : humanSize(part));
    const rows = usageSummary(du).map((s) => ({
      Type: s.Type,
      TotalCount: String(s.TotalCount),
      Active: String(s.Active),
      Size: humanSize(s.Size),
      Reclaimable: s.Type === 'Build Cache' ? humanSize(s.Reclaimable) : percent(s.Reclaimable, s.Size),
    }));
    if (!o.verbose || o.format) {
      return formatOutput(rows, {
        format: o.format,
        defaultTable: [
          { header: 'TYPE', field: (r) => r.Type },
          { header: 'TOTAL', field: (r) => r.TotalCount },
          { header: 'ACTIVE', field: (r) => r.Active },
          { header: 'SIZE', field: (r) => r.Size },
          { header: 'RECLAIMABLE', field: (r) => r.Reclaimable },
        ],
        headerNames: { TotalCount: 'TOTAL', Reclaimable: 'RECLAIMABLE' },
      });
    }
    const repoTag = (t: string): [string, string] => {
      const fam = t.replace(/^docker\.io\/(library\/)?/, '');
      const at = fam.lastIndexOf(':');
      return at > fam.lastIndexOf('/') ? [fam.slice(0, at), fam.slice(at + 1)] : [fam, '<none>'];
    };
    const images = du.images.flatMap((i) => (i.tags.length ? i.tags.map(repoTag) : [['<none>', '<none>'] as [string, string]]).map(([repo, tag]) => [
      repo, tag, i.id.slice(7, 19), createdSince(new Date(i.created)), humanSize(i.size), humanSize(i.sharedSize), humanSize(i.size - i.sharedSize), String(i.containers),
    ]));
    const containers = du.containers.map((c) => [
      c.rec.Id.slice(0, 12), c.rec.ImageName, JSON.stringify([c.rec.Path, ...c.rec.Args].join(' ').slice(0, 20)),
      String(c.rec.Mounts.filter((m) => m.Type === 'volume').length), humanSize(c.sizeRw), createdSince(new Date(c.rec.Created)), c.status, c.rec.Name,
    ]);
    const volumes = du.volumes.map((v) => [v.name, String(v.links), humanSize(v.size)]);
    const cache = du.buildCache.map((c) => [c.id.slice(0, 25), c.type, humanSize(c.size), c.created ? createdSince(new Date(c.created)) : '', '', '0', String(c.shared)]);
    const cacheTotal = du.buildCache.reduce((n, c) => n + c.size, 0);
    return [
      'Images space usage:\n\n', renderTable(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS'], images),
      '\nContainers space usage:\n\n', renderTable(['CONTAINER ID', 'IMAGE', 'COMMAND', 'LOCAL VOLUMES', 'SIZE', 'CREATED', 'STATUS', 'NAMES'], containers),
      '\nLocal Volumes space usage:\n\n', renderTable(['VOLUME NAME', 'LINKS', 'SIZE'], volumes),
      `\nBuild cache usage: ${humanSize(cacheTotal)}\n\n`, renderTable(['CACHE ID', 'CACHE TYPE', 'SIZE', 'CREATED', 'LAST USED', 'USAGE', 'SHARED'], cache),
    ].join('');
  },
});
