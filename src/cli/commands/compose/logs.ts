/** `compose logs`: the services' container logs with Docker Compose's `web-1  | ` prefixes. */
import { defineCommand } from '../../command.js';
import { composeExit, loadFromContext } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'logs',
  describe: 'View output from containers',
  usage: '[OPTIONS] [SERVICE...]',
  positionals: [{ name: 'service', variadic: true }],
  options: {
    follow: { type: 'boolean', alias: 'f', default: false, describe: 'Follow log output' },
    timestamps: { type: 'boolean', alias: 't', default: false, describe: 'Show timestamps' },
    tail: { type: 'string', alias: 'n', default: 'all', describe: 'Number of lines to show from the end of the logs for each container' },
    since: { type: 'string', describe: 'Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)' },
    until: { type: 'string', describe: 'Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)' },
    'no-log-prefix': { type: 'boolean', default: false, describe: "Don't print prefix in logs" },
    'no-color': { type: 'boolean', default: false, describe: 'Produce monochrome output' },
    index: { type: 'int', default: 0, describe: 'index of the container if service has multiple replicas' },
  },
  handler: (o, { service }, ctx) =>
    composeExit(async () => {
      const project = await loadFromContext(ctx);
      const { serviceContainers } = await import('../../../compose/engine/engine.js');
      const { parseLogTime, parseTail } = await import('../../../container/logs.js');
      const { printLogs } = await import('./streams.js');
      const list = await serviceContainers(project, service, { ...(o.index ? { index: o.index } : {}) });
      const now = Date.now();
      const tail = parseTail(o.tail);
      await printLogs(ctx, project.name, list.map((c) => c.rec), {
        follow: o.follow, timestamps: o.timestamps, prefix: !o['no-log-prefix'],
        ...(tail !== undefined ? { tail } : {}),
        ...(o.since !== undefined ? { since: parseLogTime('since', o.since, now) } : {}),
        ...(o.until !== undefined ? { until: parseLogTime('until', o.until, now) } : {}),
      });
    }),
});
