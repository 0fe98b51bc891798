/**
 * Pull/push progress as `docker pull`/`docker push` print it.
 * Interactive (a TTY, not CI, not TERM=dumb): one line per layer in first-seen order, each redrawn in
 * place with cursor movement (`a3ed95caeb02: Downloading [====>    ]  1.234MB/5.678MB`). Otherwise:
 * a plain `<id>: <status>` line whenever a layer's status changes, never a bar.
 */
import ora from 'ora';
import { humanSize } from '../../lib/units.js';

export interface Progress {
  /** A layer's state; `current`/`total` (bytes) make it a progress bar update. */
  update(id: string, status: string, current?: number, total?: number): void;
  /** A line that is not about one layer (`Digest: ...`); ends the current group of layer lines. */
  line(text: string): void;
  /** Draw anything still pending; the cursor is left below the layer lines. */
  done(): void;
}

export interface ProgressOptions {
  quiet?: boolean;
  /** Override the TTY detection (tests). */
  interactive?: boolean;
}

/** Docker draws the `[===>  ]` bar only on terminals wider than this. */
const BAR_COLUMNS = 110;
/** Bar redraws of one layer closer together than this are coalesced. */
const REDRAW_MS = 100;

export function isInteractive(stream: NodeJS.WriteStream): boolean {
  return Boolean(stream.isTTY) && !process.env.CI && process.env.TERM !== 'dumb';
}

/**
 * Docker's `JSONProgress.String()`: `[=====>    ]  1.234MB/5.678MB` (bar 50 wide, only when the
 * terminal is wider than 110 columns), or just the byte count when the total is unknown.
 */
export function progressBar(current: number, total: number | undefined, columns = 200): string {
  if (current <= 0 && (total ?? 0) <= 0) return '';
  const cur = humanSize(current, 4);
  if (!total || total <= 0) return cur.padStart(8);
  const pct = Math.min(50, Math.trunc(Math.trunc((current / total) * 100) / 2));
  const bar = columns > BAR_COLUMNS ? `[${'='.repeat(pct)}>${' '.repeat(Math.max(0, 50 - pct))}] ` : '';
  return bar + (current > total ? cur.padStart(8) : `${cur.padStart(8)}/${humanSize(total, 4)}`);
}

export function createProgress(stream: NodeJS.WriteStream, o: ProgressOptions = {}): Progress {
  if (o.quiet) return { update: () => undefined, line: () => undefined, done: () => undefined };
  return (o.interactive ?? isInteractive(stream)) ? ttyProgress(stream) : plainProgress(stream);
}

function plainProgress(stream: NodeJS.WriteStream): Progress {
  const last = new Map<string, string>();
  return {
    update(id, status, current) {
      if (current !== undefined || last.get(id) === status) return;
      last.set(id, status);
      stream.write(`${id}: ${status}\n`);
    },
    line(text) {
      stream.write(`${text}\n`);
    },
    done() {},
  };
}

function ttyProgress(stream: NodeJS.WriteStream): Progress {
  const rows = new Map<string, number>(); // layer id → line index in the current group
  const state = new Map<string, { status: string; at: number }>();
  const pending = new Map<string, string>(); // coalesced bar text not drawn yet
  const clip = (s: string): string => {
    const cols = stream.columns;
    return cols && [...s].length >= cols ? [...s].slice(0, cols - 1).join('') : s;
  };
  const draw = (id: string, text: string): void => {
    pending.delete(id);
    let s = '';
    let row = rows.get(id);
    if (row === undefined) {
      row = rows.size;
      rows.set(id, row);
      s += '\n';
    }
    const up = rows.size - row;
    // up to the layer's line, clear it, write, back down below the group
    s += `\x1b[${up}A\x1b[2K\r${clip(`${id}: ${text}`)}\r\x1b[${up}B`;
    stream.write(s);
  };
  const flush = (): void => {
    for (const [id, text] of [...pending]) draw(id, text);
  };
  return {
    update(id, status, current, total) {
      const text = current === undefined ? status : `${status} ${progressBar(current, total, stream.columns ?? 200)}`.trimEnd();
      const now = Date.now();
      const prev = state.get(id);
      const isBar = current !== undefined && current !== total;
      if (isBar && prev?.status === status && now - prev.at < REDRAW_MS) {
        pending.set(id, text);
        return;
      }
      state.set(id, { status, at: now });
      draw(id, text);
    },
    line(text) {
      flush();
      rows.clear();
      stream.write(`${text}\n`);
    },
    done() {
      flush();
      rows.clear();
    },
  };
}

export interface Spinner {
  start(): Spinner;
  /** Change the text while spinning. */
  update(text: string): void;
  succeed(text?: string): void;
  fail(text?: string): void;
  stop(): void;
}

/** An ora spinner on an interactive stream (stderr by default); a silent no-op anywhere else. */
export function spinner(text: string, stream: NodeJS.WriteStream = process.stderr): Spinner {
  if (!isInteractive(stream)) {
    const noop: Spinner = { start: () => noop, update: () => undefined, succeed: () => undefined, fail: () => undefined, stop: () => undefined };
    return noop;
  }
  const o = ora({ text, stream, discardStdin: false });
  const s: Spinner = {
    start: () => {
      o.start();
      return s;
    },
    update: (t) => {
      o.text = t;
    },
    succeed: (t) => void o.succeed(t),
    fail: (t) => void o.fail(t),
    stop: () => void o.stop(),
  };
  return s;
}
