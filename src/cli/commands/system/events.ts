/** `events`: the store's event log (src/store/events.ts), read back and followed; a stream through ctx. */
import { defineCommand, type CommandContext } from '../../command.js';
import { whileHandlingInterrupts } from '../../../lib/interrupt.js';

/** Docker's RFC3339NanoFixed in local time (`2006-01-02T15:04:05.000000000Z07:00`). */
export function fixedNanoLocal(nano: bigint): string {
  const ms = Number(nano / 1_000_000n);
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  const frac = (nano % 1_000_000_000n).toString().padStart(9, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${frac}${zone}`;
}

/**
 * Write what `source` yields (rendered) to stdout until it ends: a reader that goes away (`| head`)
 * ends the command (0); SIGINT/SIGTERM stop the source (then exit 0, as Docker's `events`).
 */
export async function followToStdout<T>(ctx: CommandContext, source: (stop: () => boolean) => AsyncIterable<T>, render: (m: T) => string): Promise<void> {
  ctx.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(0); // `skiff events | head`: the reader went away
  });
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
  };
  await whileHandlingInterrupts(onSignal, async () => {
    for await (const m of source(() => interrupted)) {
      if (!ctx.stdout.write(render(m))) await new Promise((r) => ctx.stdout.once('drain', r));
    }
  });
}

export default defineCommand({
  group: 'system',
  name: 'events',
  aliases: ['events'],
  describe: 'Get real time events from the server',
  positionals: [],
  options: {
    filter: { alias: 'f', type: 'string', repeat: true, describe: 'Filter output based on conditions provided (type=, event=, container=, image=, label=, volume=, network=)' },
    format: { type: 'string', describe: "Format output using a custom template: 'json' or a Go template ('{{json .}}')" },
    since: { type: 'string', describe: 'Show all events created since timestamp (RFC 3339, Unix seconds or a duration such as 10m)' },
    until: { type: 'string', describe: 'Stream events until this timestamp (without it: follow until interrupted)' },
  },
  handler: async (o, _args, ctx) => {
    const [{ eventLine, parseEventFilters, streamEvents }, { parseLogTime }, { compileTemplate }] = await Promise.all([
      import('../../../store/events.js'), import('../../../container/logs.js'), import('../../output/template.js'),
    ]);
    const filters = parseEventFilters(o.filter);
    const now = Date.now();
    const since = o.since !== undefined ? parseLogTime('since', o.since, now) : undefined;
    const until = o.until !== undefined ? parseLogTime('until', o.until, now) : undefined;
    const format = o.format === 'json' ? '{{json .}}' : o.format;
    const template = format && format !== '{{json .}}' ? compileTemplate(format) : undefined;
    type Message = Parameters<typeof eventLine>[0];
    const render = (m: Message): string => {
      if (format === '{{json .}}') return eventLine(m); // timeNano keeps every digit
      if (template) return `${template.render({ ...m, timeNano: Number(m.timeNano) })}\n`;
      const attrs = Object.keys(m.Actor.Attributes).sort().map((k) => `${k}=${m.Actor.Attributes[k]}`);
      return `${fixedNanoLocal(m.timeNano)} ${m.Type} ${m.Action} ${m.Actor.ID}${attrs.length ? ` (${attrs.join(', ')})` : ''}\n`;
    };
    await followToStdout(ctx, (stop) => streamEvents({ filters, since, until, stop }), render);
  },
});
