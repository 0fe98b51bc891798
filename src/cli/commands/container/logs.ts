/** `logs`: what the container's json-file log holds (--tail, --since/--until, -f across rotation); a stream through ctx. */
import { defineCommand } from '../../command.js';
import { latestOption, targets } from '../../targets.js';

export default defineCommand({
  group: 'container',
  name: 'logs',
  aliases: ['logs'],
  describe: 'Fetch the logs of a container',
  usage: '[OPTIONS] CONTAINER',
  positionals: [{ name: 'container' }],
  options: {
    latest: latestOption(),
    follow: { alias: 'f', type: 'boolean', default: false, describe: 'Follow log output' },
    tail: { alias: 'n', type: 'string', default: 'all', describe: 'Number of lines to show from the end of the logs' },
    since: { type: 'string', describe: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
    until: { type: 'string', describe: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
    timestamps: { alias: 't', type: 'boolean', default: false, describe: 'Show timestamps' },
    details: { type: 'boolean', default: false, describe: 'Show extra details provided to logs (no log attributes are recorded: an empty set, then a space, as Docker)' },
  },
  handler: async (o, { container }, ctx) => {
    const [{ fixedNano, parseLogTime, parseTail, readLogs }, { findContainer }] = await Promise.all([
      import('../../../container/logs.js'), import('../../../store/containers.js'),
    ]);
    const [ref] = await targets(o, container === undefined ? [] : [container], ctx.invokedAs, undefined, true);
    const rec = findContainer(ref!);
    // `skiff logs c | head`: a reader that went away ends the command quietly
    for (const out of [ctx.stdout, ctx.stderr]) {
      out.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EPIPE') throw e;
        process.exit(0);
      });
    }
    const now = Date.now();
    const entries = readLogs(rec, {
      follow: o.follow,
      tail: parseTail(o.tail),
      ...(o.since !== undefined ? { since: parseLogTime('since', o.since, now) } : {}),
      ...(o.until !== undefined ? { until: parseLogTime('until', o.until, now) } : {}),
    });
    for await (const e of entries) {
      const out = e.stream === 'stderr' ? ctx.stderr : ctx.stdout;
      // Docker: timestamp, then the attributes (none here) and a space with --details, then the line
      const text = `${o.timestamps ? `${fixedNano(e.time)} ` : ''}${o.details ? ' ' : ''}${e.log}`;
      if (!out.write(text)) await new Promise((r) => out.once('drain', r));
    }
  },
});
