/**
 * The event log (GUIDE.md §8, Podman's file events backend): whoever changes state appends one JSON
 * line (Docker's events.Message) to `events/events.log`; the CLI here, the shim (`addon/shim/events.c`)
 * for what happens when no CLI runs (die, oom, a restart's start, --rm's destroy). No daemon collects
 * them. Appends are atomic: O_APPEND and one write(2) of a line under PIPE_BUF, so concurrent writers
 * never interleave. At `maxEventsSize()` the file is renamed to `events.log.1` (the older one goes) by
 * the writer that holds `locks/events`; readers read `.1` then the current file, and followers notice
 * the rename by the inode and finish the old file first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { native } from '../native.js';
import { canonical, parseReference } from '../oci/reference.js';
import { eventsFile, lockFile } from './layout.js';

export type EventType = 'container' | 'image' | 'volume' | 'network' | 'builder';

export interface EventActor {
  ID: string;
  Attributes: Record<string, string>;
}

/** Docker's events.Message (status/id/from: its deprecated fields, set for containers and images). */
export interface EventMessage {
  status?: string;
  id?: string;
  from?: string;
  Type: EventType;
  Action: string;
  Actor: EventActor;
  scope: 'local';
  time: number;
  /** Nanoseconds since the epoch (an int64 in Docker's JSON; a bigint here so no digit is lost). */
  timeNano: bigint;
}

/** One line must stay under PIPE_BUF to be written whole by one write(2). */
export const MAX_EVENT_LINE = 4096;

/** Podman's default events_logfile_max_size (1 MB); SKIFF_EVENTS_MAX_SIZE (bytes) overrides it. */
export function maxEventsSize(): number {
  const v = Number(process.env.SKIFF_EVENTS_MAX_SIZE);
  return Number.isInteger(v) && v > 0 ? v : 1_000_000;
}

let lastNano = 0n;
/** Now in nanoseconds: milliseconds from the clock, the rest from hrtime, never going back within a process. */
function nowNano(): bigint {
  let t = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  if (t <= lastNano) t = lastNano + 1n;
  lastNano = t;
  return t;
}

export function eventMessage(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): EventMessage {
  const timeNano = nowNano();
  const deprecated = type === 'container' ? { status: action, id, ...(attributes.image !== undefined ? { from: attributes.image } : {}) } : type === 'image' ? { status: action, id } : {};
  return { ...deprecated, Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: 'local', time: Number(timeNano / 1_000_000_000n), timeNano };
}

/** The JSON line of a message (timeNano as an integer literal), shortened to fit MAX_EVENT_LINE: labels go first, then long values are cut. */
export function eventLine(m: EventMessage): string {
  const encode = (x: EventMessage): string => `${JSON.stringify({ ...x, timeNano: '@@NANO@@' }).replace('"@@NANO@@"', x.timeNano.toString())}\n`;
  let line = encode(m);
  if (Buffer.byteLength(line) < MAX_EVENT_LINE) return line;
  const keep = ['name', 'image', 'exitCode', 'signal', 'container', 'type', 'driver', 'oldName'];
  const cut = (x: EventMessage, n: number, attrs: Record<string, string>): EventMessage => ({
    ...x, ...(x.id !== undefined ? { id: x.id.slice(0, n) } : {}), ...(x.from !== undefined ? { from: x.from.slice(0, n) } : {}),
    Actor: { ID: x.Actor.ID.slice(0, n), Attributes: Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, v.slice(0, n)])) },
  });
  line = encode(cut(m, 512, Object.fromEntries(Object.entries(m.Actor.Attributes).filter(([k]) => keep.includes(k)))));
  return Buffer.byteLength(line) < MAX_EVENT_LINE ? line : encode(cut(m, 128, {}));
}

/** Parse one line of the log (undefined for a line that is not an event: a torn or foreign line is skipped, never fatal). */
export function parseEventLine(line: string): EventMessage | undefined {
  if (!line.trim()) return undefined;
  try {
    const j = JSON.parse(line) as Partial<EventMessage> & { timeNano?: unknown };
    if (typeof j.Type !== 'string' || typeof j.Action !== 'string' || !j.Actor || typeof j.Actor.ID !== 'string') return undefined;
    const nano = /"timeNano":(\d+)/.exec(line);
    const timeNano = nano ? BigInt(nano[1]!) : BigInt(Math.round(Number(j.time ?? 0))) * 1_000_000_000n;
    return { ...(j as EventMessage), Actor: { ID: j.Actor.ID, Attributes: j.Actor.Attributes ?? {} }, timeNano };
  } catch {
    return undefined;
  }
}

/**
 * Append an event. Recording is best effort: a command whose work is done does not fail because its
 * event could not be written; the reason goes to stderr as a warning.
 */
export function recordEvent(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): void {
  const file = eventsFile();
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    rotateIfFull(file);
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o600);
    try {
      fs.writeSync(fd, eventLine(eventMessage(type, action, id, attributes)));
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    process.stderr.write(`Warning: cannot record the ${type} ${action} event in ${file}: ${(e as Error).message}\n`);
  }
}

/** Rename a full log to `.1` under locks/events; a writer that cannot take the lock at once leaves it to the one that holds it. */
function rotateIfFull(file: string): void {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (!st || st.size < maxEventsSize()) return;
  const fd = fs.openSync(lockFile('events'), fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  try {
    if (!native().flock(fd, true, true)) return;
    const again = fs.statSync(file, { throwIfNoEntry: false });
    if (again && again.size >= maxEventsSize()) fs.renameSync(file, `${file}.1`);
  } finally {
    fs.closeSync(fd);
  }
}

function readLines(file: string): EventMessage[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return text.split('\n').flatMap((l) => parseEventLine(l) ?? []);
}

/** Every event the log holds, oldest first (the rotated file, then the current one). */
export function readEvents(): EventMessage[] {
  const file = eventsFile();
  return [...readLines(`${file}.1`), ...readLines(file)];
}

/**
 * Events appended from now on (with `all`, every event the log holds first, with no gap between the
 * two), until `stop()` says so (checked between polls, every `intervalMs`). Follows the file across
 * rotation: a renamed file is read to its end before the new one is opened.
 */
export async function* followEvents(stop: () => boolean, o: { all?: boolean; intervalMs?: number } = {}): AsyncGenerator<EventMessage> {
  const file = eventsFile();
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const open = (): { fd: number; ino: number } => {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_CREAT, 0o600);
    return { fd, ino: fs.fstatSync(fd).ino };
  };
  let cur = open();
  let pos = fs.fstatSync(cur.fd).size;
  if (o.all) {
    yield* readLines(`${file}.1`);
    pos = 0;
  }
  let partial = '';
  const buf = Buffer.alloc(64 * 1024);
  const drain = function* (): Generator<EventMessage> {
    for (;;) {
      const n = fs.readSync(cur.fd, buf, 0, buf.length, pos);
      if (n <= 0) return;
      pos += n;
      const lines = (partial + buf.subarray(0, n).toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        const m = parseEventLine(l);
        if (m) yield m;
      }
    }
  };
  try {
    // drained before stop() is asked: what the log holds when a follower starts is read even when it
    // is to stop at once (an --until that passed while it was opening the file)
    for (;;) {
      yield* drain();
      if (stop()) break;
      const st = fs.statSync(file, { throwIfNoEntry: false });
      if (!st || st.ino !== cur.ino) {
        yield* drain(); // what was appended before the rename
        fs.closeSync(cur.fd);
        cur = open();
        pos = 0;
        partial = '';
        continue;
      }
      await new Promise((r) => setTimeout(r, o.intervalMs ?? 100));
    }
  } finally {
    fs.closeSync(cur.fd);
  }
}

/** The log's path for a writer outside this process (the shim's skiff.events.file), its directory made. */
export function eventLogPath(): string {
  const file = eventsFile();
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  return file;
}

/** Docker's `events --filter` keys skiff records events for. */
export const EVENT_FILTERS = ['type', 'event', 'container', 'image', 'label', 'volume', 'network', 'scope'] as const;
export type EventFilters = Map<(typeof EVENT_FILTERS)[number], string[]>;

/** `--filter key=value` (repeatable): one key's values are alternatives, different keys must all match (Docker's). */
export function parseEventFilters(list: readonly string[]): EventFilters {
  const f: EventFilters = new Map();
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new SkiffError('EINVAL', `bad format of filter (expected name=value): ${item}`);
    const key = item.slice(0, eq).trim().toLowerCase() as (typeof EVENT_FILTERS)[number];
    if (!EVENT_FILTERS.includes(key)) throw new SkiffError('EINVAL', `invalid filter '${item.slice(0, eq)}'`);
    f.set(key, [...(f.get(key) ?? []), item.slice(eq + 1)]);
  }
  return f;
}

const stripTag = (name: string): string => name.replace(/(@.*|:[^/:]*)$/, '');
const canonicalOf = (name: string): string | undefined => {
  try {
    return canonical(parseReference(name));
  } catch {
    return undefined;
  }
};

function imageMatches(want: string, m: EventMessage): boolean {
  const name = m.Actor.Attributes[m.Type === 'image' ? 'name' : 'image'] ?? '';
  const have = [m.Actor.ID, name].filter(Boolean);
  if (have.includes(want) || have.map(stripTag).includes(want)) return true;
  // busybox, docker.io/library/busybox and busybox:latest name one repository; without a tag any tag matches
  const tagged = /[:@]/.test(want.slice(want.lastIndexOf('/') + 1));
  const key = (r: string): string | undefined => (tagged ? canonicalOf(r) : (c => c && stripTag(c))(canonicalOf(r)));
  const w = key(want);
  return w !== undefined && have.some((h) => key(h) === w);
}

function labelMatches(want: string, attrs: Record<string, string>): boolean {
  const eq = want.indexOf('=');
  return eq < 0 ? want in attrs : attrs[want.slice(0, eq)] === want.slice(eq + 1);
}

/** Whether an event passes the filters. */
export function eventMatches(f: EventFilters, m: EventMessage): boolean {
  const a = m.Actor.Attributes;
  const byIdOrName = (type: EventType, v: string): boolean => m.Type === type && (m.Actor.ID === v || (v.length > 0 && m.Actor.ID.startsWith(v)) || a.name === v);
  const tests: Record<(typeof EVENT_FILTERS)[number], (v: string) => boolean> = {
    type: (v) => m.Type === v,
    event: (v) => m.Action === v || m.Action.startsWith(`${v}:`),
    container: (v) => byIdOrName('container', v) || (m.Type === 'network' && a.container === v),
    image: (v) => (m.Type === 'image' || m.Type === 'container') && imageMatches(v, m),
    label: (v) => labelMatches(v, a),
    volume: (v) => byIdOrName('volume', v),
    network: (v) => byIdOrName('network', v),
    scope: (v) => v === 'local',
  };
  for (const [key, values] of f) if (!values.some(tests[key])) return false;
  return true;
}

/**
 * `events` (CLI and Engine API): the events in [since, until] that pass the filters. With `until` in
 * the past the log is read once; otherwise it is followed until `until` passes or `stop()` says so.
 */
export async function* streamEvents(o: { filters: EventFilters; since?: bigint; until?: bigint; stop: () => boolean }): AsyncGenerator<EventMessage> {
  const nowNano = (): bigint => BigInt(Date.now()) * 1_000_000n;
  const keep = (m: EventMessage): boolean =>
    (o.since === undefined || m.timeNano >= o.since) && (o.until === undefined || m.timeNano <= o.until) && eventMatches(o.filters, m);
  const source = o.until !== undefined && o.until <= nowNano()
    ? readEvents()
    : followEvents(() => o.stop() || (o.until !== undefined && nowNano() > o.until), { all: o.since !== undefined });
  for await (const m of source) if (keep(m)) yield m;
}
