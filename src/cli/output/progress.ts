/**
 * Pull/push progress. On a TTY: one redrawn line per layer like `docker pull`; otherwise plain
 * lines on state changes only (parseable, no bars). `quiet` prints nothing.
 */
import { humanSize } from './units.js';

export interface Progress {
  update(id: string, status: string, current?: number, total?: number): void;
  line(text: string): void;
  done(): void;
}

export function createProgress(stream: NodeJS.WriteStream, o: { quiet?: boolean } = {}): Progress {
  if (o.quiet) return { update: () => undefined, line: () => undefined, done: () => undefined };
  const tty = Boolean(stream.isTTY) && !process.env.CI && process.env.TERM !== 'dumb';
  const order: string[] = [];
  const lines = new Map<string, string>();
  const last = new Map<string, string>();
  let drawn = 0;
  let lastDraw = 0;
  const bar = (cur: number, total: number): string => {
    const w = 50;
    const n = total > 0 ? Math.min(w, Math.floor((cur / total) * w)) : 0;
    return `[${'='.repeat(Math.max(0, n - 1))}${n > 0 ? '>' : ''}${' '.repeat(w - n)}] ${humanSize(cur)}/${humanSize(total)}`;
  };
  const redraw = (force = false): void => {
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    let s = drawn ? `\x1b[${drawn}A` : '';
    for (const id of order) s += `\x1b[2K${id}: ${lines.get(id)}\n`;
    drawn = order.length;
    stream.write(s);
  };
  return {
    update(id, status, current, total) {
      if (!lines.has(id)) order.push(id);
      const text = current !== undefined && total ? `${status.padEnd(12)}${bar(current, total)}` : status;
      lines.set(id, text);
      if (tty) redraw(current === undefined);
      else if (last.get(id) !== status) {
        last.set(id, status);
        if (status !== 'Downloading' && status !== 'Pushing') stream.write(`${id}: ${status}\n`);
      }
    },
    line(text) {
      if (tty && drawn) redraw(true);
      stream.write(text + '\n');
      if (tty) drawn = 0;
    },
    done() {
      if (tty && order.length) redraw(true);
      drawn = 0;
    },
  };
}
