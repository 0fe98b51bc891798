/**
 * Compose's log printing (`logs`, and the foreground `up`): each container's lines with Docker
 * Compose's prefix (`web-1  | `: the names padded to the longest + 1), from the containers' json-file
 * logs (the monitor writes them; following ends when a container's monitor is gone).
 */
import type { ContainerRecord } from '../../../store/containers.js';
import type { CommandContext } from '../../command.js';
import { shortName } from './project.js';

export interface PrintLogsOptions {
  follow: boolean;
  timestamps: boolean;
  tail?: number;
  since?: bigint;
  until?: bigint;
  prefix: boolean;
  /** Called when a followed container's log ends (foreground up: `web-1 exited with code 0`). */
  onEnd?: (rec: ContainerRecord, label: string) => Promise<void> | void;
  /** Stop reading (Ctrl-C). */
  cancelled?: () => boolean;
}

/** Prefixes of the containers' names as compose shows them. */
export function prefixes(project: string, names: string[]): Map<string, string> {
  const short = names.map((n) => shortName(project, n));
  const width = Math.max(0, ...short.map((s) => s.length)) + 1;
  return new Map(names.map((n, i) => [n, `${short[i]!.padEnd(width)}| `]));
}

export async function printLogs(ctx: CommandContext, project: string, recs: ContainerRecord[], o: PrintLogsOptions): Promise<void> {
  const { readLogs, fixedNano } = await import('../../../container/logs.js');
  const pre = prefixes(project, recs.map((r) => r.Name));
  for (const out of [ctx.stdout, ctx.stderr]) {
    out.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      process.exit(0);
    });
  }
  const one = async (rec: ContainerRecord): Promise<void> => {
    const p = o.prefix ? pre.get(rec.Name)! : '';
    const opts = { follow: o.follow, ...(o.tail !== undefined ? { tail: o.tail } : {}), ...(o.since !== undefined ? { since: o.since } : {}), ...(o.until !== undefined ? { until: o.until } : {}) };
    for await (const e of readLogs(rec, opts)) {
      if (o.cancelled?.()) break;
      const out = e.stream === 'stderr' ? ctx.stderr : ctx.stdout;
      const text = e.log.endsWith('\n') ? e.log : `${e.log}\n`;
      const line = `${p}${o.timestamps ? `${fixedNano(e.time)} ` : ''}${text}`;
      if (!out.write(line)) await new Promise((r) => out.once('drain', r));
    }
    await o.onEnd?.(rec, shortName(project, rec.Name));
  };
  if (o.follow) await Promise.all(recs.map(one));
  else for (const r of recs) await one(r);
}
