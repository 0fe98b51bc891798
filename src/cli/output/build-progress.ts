/**
 * `build --progress rawjson|tty`: views of the builder's step events (builder.ts BuildEvents).
 *
 * rawjson: BuildKit's status stream as `buildx build --progress=rawjson` prints it, one JSON
 * SolveStatus a line: `vertexes` (digest, name, started, completed, cached, error), `logs` (vertex,
 * stream, base64 data, timestamp) and `warnings` (level, base64 short). A line that is no step
 * (exporting, pushing) is a vertex of its own, started and completed at once.
 *
 * tty: a compact view redrawn in place (BuildKit's `[+] Building 1.2s (3/7)` header, one line per
 * step with its time, the last lines of a running step's output), only on a terminal: the caller
 * gives plain lines to anything else. Colours unless NO_COLOR is set.
 */
import crypto from 'node:crypto';
import type { BuildEvents } from '../../builder/builder.js';

export interface BuildView extends BuildEvents {
  /** A line that is not a step's (warnings, exports). */
  log(line: string): void;
  /** The build is over: the last state stays on screen. */
  close(): void;
}

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

/** BuildKit's rawjson: one SolveStatus a line on `out`. */
export function rawJsonView(out: { write(s: string): unknown }): BuildView {
  const build = crypto.randomBytes(16).toString('hex');
  const digest = (no: number | string): string => `sha256:${crypto.createHash('sha256').update(`${build}:${no}`).digest('hex')}`;
  const vertices = new Map<number, { digest: string; name: string; started: string }>();
  let extra = 0;
  const emit = (status: Record<string, unknown>): void => {
    out.write(JSON.stringify(status) + '\n');
  };
  return {
    start(no, where, text) {
      const v = { digest: digest(no), name: `[${where}] ${text}`, started: new Date().toISOString() };
      vertices.set(no, v);
      emit({ vertexes: [v] });
    },
    output(no, data) {
      emit({ logs: [{ vertex: digest(no), stream: 1, data: b64(data), timestamp: new Date().toISOString() }] });
    },
    done(no, cached, error) {
      const v = vertices.get(no);
      if (!v) return;
      emit({ vertexes: [{ ...v, completed: new Date().toISOString(), ...(cached ? { cached: true } : {}), ...(error !== undefined ? { error } : {}) }] });
    },
    log(line) {
      const warning = /^\[Warning\] (.*)$/s.exec(line);
      if (warning) return emit({ warnings: [{ level: 1, short: b64(warning[1]!) }] });
      const now = new Date().toISOString();
      emit({ vertexes: [{ digest: digest(`log-${extra++}`), name: line, started: now, completed: now }] });
    },
    close() {},
  };
}

interface TtyStep {
  no: number;
  name: string;
  start: number;
  end?: number;
  cached?: boolean;
  error?: boolean;
  /** The last lines of its output (shown while it runs). */
  tail: string[];
  partial: string;
}

/** Lines of a running step's output shown under it. */
const TAIL = 6;

/** The live view for a terminal: redrawn in place on each event (at most every 100 ms) and when it closes. */
export function ttyView(out: { write(s: string): unknown; columns?: number }, color: boolean): BuildView {
  const t0 = Date.now();
  const steps: TtyStep[] = [];
  const byNo = new Map<number, TtyStep>();
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  let last = 0;
  const paint = (code: string, s: string): string => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
  const fit = (s: string, width: number): string => (s.length > width ? s.slice(0, Math.max(0, width - 3)) + '...' : s);
  const clear = (): string => (drawn ? `\x1b[${drawn}A\r\x1b[J` : '');
  const frame = (): string[] => {
    const width = Math.max(40, (out.columns || 80) - 1); // a terminal that says 0 columns: 80
    const now = Date.now();
    const done = steps.filter((s) => s.end !== undefined).length;
    const lines = [fit(`[+] Building ${secs(now - t0)} (${done}/${steps.length})`, width)];
    for (const s of steps) {
      const time = secs((s.end ?? now) - s.start);
      const name = `${s.cached ? 'CACHED ' : ''}${s.error ? 'ERROR ' : ''}${s.name}`;
      const text = fit(` => ${name}`, width - time.length - 1);
      const line = `${text}${' '.repeat(Math.max(1, width - text.length - time.length))}${time}`;
      lines.push(s.error ? paint('31', line) : s.end !== undefined ? paint('34', line) : line);
      if (s.end === undefined || s.error) for (const l of s.tail) lines.push(fit(` => => # ${l}`, width));
    }
    return lines;
  };
  const draw = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    last = Date.now();
    const lines = frame();
    out.write(clear() + lines.join('\n') + '\n');
    drawn = lines.length;
  };
  const soon = (): void => {
    if (timer) return;
    timer = setTimeout(draw, Math.max(0, 100 - (Date.now() - last)));
    timer.unref();
  };
  return {
    start(no, where, text) {
      const s: TtyStep = { no, name: `[${where}] ${text}`, start: Date.now(), tail: [], partial: '' };
      steps.push(s);
      byNo.set(no, s);
      soon();
    },
    output(no, data) {
      const s = byNo.get(no);
      if (!s) return;
      const parts = (s.partial + data.toString()).split('\n');
      s.partial = parts.pop()!;
      s.tail.push(...parts.map((l) => l.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '')));
      if (s.tail.length > TAIL) s.tail.splice(0, s.tail.length - TAIL);
      soon();
    },
    done(no, cached, error) {
      const s = byNo.get(no);
      if (!s || s.end !== undefined) return;
      s.end = Date.now();
      s.cached = cached;
      if (error !== undefined) s.error = true;
      soon();
    },
    log(line) {
      // above the live view: the view is drawn again under it
      out.write(clear() + line + '\n');
      drawn = 0;
      draw();
    },
    close() {
      draw();
    },
  };
}
