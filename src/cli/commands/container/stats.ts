/** `stats`: a live table of the containers' resource use (a stream through ctx; --no-stream: one sample, returned). */
import type { StatsSample } from '../../../container/stats.js';
import type { ContainerRecord } from '../../../store/containers.js';
import { defineCommand } from '../../command.js';
import type { StatsRow } from '../../output/stats.js';
import { byteOrder } from '../../../lib/order.js';

const STATS_INTERVAL_MS = 1000;

export default defineCommand({
  group: 'container',
  name: 'stats',
  aliases: ['stats'],
  describe: 'Display a live stream of container(s) resource usage statistics',
  positionals: [{ name: 'container', variadic: true }],
  options: {
    all: { alias: 'a', type: 'boolean', default: false, describe: 'Show all containers (default shows just running)' },
    'no-stream': { type: 'boolean', default: false, describe: 'Disable streaming stats and only pull the first result' },
    'no-trunc': { type: 'boolean', default: false, describe: "Don't truncate output" },
    format: { type: 'string', describe: 'Format output using a Go template' },
  },
  handler: async (o, { container: refs }, ctx) => {
    const [{ containerState }, { sampleStats }, { findContainer, listContainers }, { STATS_COLUMNS, STATS_HEADERS, statsRow }, { formatOutput }] = await Promise.all([
      import('../../../container/state.js'), import('../../../container/stats.js'), import('../../../store/containers.js'), import('../../output/stats.js'), import('../../output/table.js'),
    ]);
    const pick = (): { rec: ContainerRecord; given?: string }[] => {
      if (refs.length) return refs.map((r) => ({ rec: findContainer(r), given: r }));
      return listContainers()
        .sort((x, y) => byteOrder(y.Created, x.Created))
        .filter((r) => o.all || containerState(r).Running)
        .map((rec) => ({ rec }));
    };
    const render = (rows: StatsRow[]): string =>
      formatOutput(rows, {
        format: o.format,
        defaultTable: STATS_COLUMNS.map((k) => ({ header: STATS_HEADERS[k]!, field: (r: StatsRow) => r[k] })),
        headerNames: STATS_HEADERS,
      });
    let prev = new Map<string, StatsSample>();
    const sample = (): Map<string, { s: StatsSample; given?: string }> =>
      new Map(pick().map(({ rec, given }) => [rec.Id, { s: sampleStats(rec), ...(given !== undefined ? { given } : {}) }]));
    const rows = (cur: Map<string, { s: StatsSample; given?: string }>): StatsRow[] =>
      [...cur.values()].map(({ s, given }) => {
        const row = statsRow(prev.get(s.id), s, given);
        return o['no-trunc'] ? { ...row, ID: s.id, ...(given === undefined ? { Container: s.id } : {}) } : row;
      });
    let cur = sample();
    prev = new Map([...cur].map(([k, v]) => [k, v.s]));
    await new Promise((r) => setTimeout(r, o['no-stream'] ? STATS_INTERVAL_MS / 2 : 0));
    const tty = ctx.stdout.isTTY;
    for (;;) {
      cur = sample();
      const out = render(rows(cur));
      if (o['no-stream']) return out;
      ctx.stdout.write(tty ? `\x1b[2J\x1b[H${out}` : out);
      prev = new Map([...cur].map(([k, v]) => [k, v.s]));
      await new Promise((r) => setTimeout(r, STATS_INTERVAL_MS));
    }
  },
});
