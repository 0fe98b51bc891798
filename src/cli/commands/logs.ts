/** `logs` and `attach`: what the detached container's monitor writes (json-file log) and serves (attach socket). */
import type { CommandModule } from 'yargs';
import { attachContainer } from '../../container/attach.js';
import { fixedNano, parseLogTime, parseTail, readLogs } from '../../container/logs.js';
import { findContainer } from '../../store/containers.js';

export const logs: CommandModule = {
  command: 'logs <container>',
  describe: 'Fetch the logs of a container',
  builder: (y) =>
    y.usage('Usage: skiff logs [OPTIONS] CONTAINER').positional('container', { type: 'string', demandOption: true })
      .option('follow', { alias: 'f', type: 'boolean', default: false, describe: 'Follow log output' })
      .option('tail', { alias: 'n', type: 'string', default: 'all', describe: 'Number of lines to show from the end of the logs' })
      .option('since', { type: 'string', describe: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' })
      .option('until', { type: 'string', describe: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' })
      .option('timestamps', { alias: 't', type: 'boolean', default: false, describe: 'Show timestamps' })
      .option('details', { type: 'boolean', default: false, describe: 'Show extra details provided to logs (no log attributes are recorded: an empty set, then a space, as Docker)' }),
  handler: async (a) => {
    const rec = findContainer(String(a.container));
    // `skiff logs c | head`: a reader that went away ends the command quietly
    for (const out of [process.stdout, process.stderr]) {
      out.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EPIPE') throw e;
        process.exit(0);
      });
    }
    const now = Date.now();
    const entries = readLogs(rec, {
      follow: Boolean(a.follow),
      tail: parseTail(a.tail as string | undefined),
      ...(a.since !== undefined ? { since: parseLogTime('since', String(a.since), now) } : {}),
      ...(a.until !== undefined ? { until: parseLogTime('until', String(a.until), now) } : {}),
    });
    for await (const e of entries) {
      const out = e.stream === 'stderr' ? process.stderr : process.stdout;
      // Docker: timestamp, then the attributes (none here) and a space with --details, then the line
      const text = `${a.timestamps ? `${fixedNano(e.time)} ` : ''}${a.details ? ' ' : ''}${e.log}`;
      if (!out.write(text)) await new Promise((r) => out.once('drain', r));
    }
  },
};

export const attach: CommandModule = {
  command: 'attach <container>',
  describe: "Attach local standard input, output, and error streams to a running container",
  builder: (y) =>
    y.usage('Usage: skiff attach [OPTIONS] CONTAINER').positional('container', { type: 'string', demandOption: true })
      .option('no-stdin', { type: 'boolean', default: false, describe: 'Do not attach STDIN' })
      .option('sig-proxy', { type: 'boolean', default: true, describe: 'Proxy all received signals to the process' })
      .option('detach-keys', { type: 'string', describe: 'Override the key sequence for detaching a container (default "ctrl-p,ctrl-q")' }),
  handler: async (a) => {
    const code = await attachContainer(findContainer(String(a.container)), {
      stdin: !a['no-stdin'],
      sigProxy: a['sig-proxy'] !== false && a['sig-proxy'] !== 'false',
      ...(a['detach-keys'] ? { detachKeys: String(a['detach-keys']) } : {}),
    });
    process.exitCode = code < 0 ? 255 : code;
  },
};

export const logsCommands: CommandModule[] = [logs, attach];
