/**
 * `logs`: reading Docker's json-file log that the monitor writes (containers/<id>/<id>-json.log and
 * its rotated copies .1 … .N-1, oldest last), with Docker's --tail, --since/--until and --follow
 * semantics. Following survives rotation and ends once the container stopped and its monitor is gone.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { SkiffError } from '../errors.js';
import { parseGoDuration } from '../lib/duration.js';
import { containerFiles, readMonitor, type ContainerRecord } from '../store/containers.js';
import { containerState, isMonitor } from './state.js';

export interface LogEntry {
  log: string;
  stream: 'stdout' | 'stderr';
  /** RFC3339Nano, as written */
  time: string;
}

export interface LogsOptions {
  follow: boolean;
  /** last N entries; undefined: all */
  tail?: number;
  /** ns since the epoch */
  since?: bigint;
  until?: bigint;
  /**
   * Read only this start's entries from the current file opened before the start (openForNextStart):
   * a --rm container removed right after it exits is still read to its end through the fd.
   */
  from?: StartLog;
}

/** The current log file, opened (made if need be) before a start, and its size then. */
export interface StartLog {
  fd: fsp.FileHandle;
  pos: number;
}

/** Open a container's current log file before starting it (attach before start); undefined if it cannot be. */
export async function openForNextStart(id: string): Promise<StartLog | undefined> {
  const { O_RDONLY, O_CREAT, O_NOFOLLOW } = fs.constants;
  const fd = await fsp.open(containerFiles(id).log, O_RDONLY | O_CREAT | O_NOFOLLOW, 0o640).catch(() => undefined);
  return fd && { fd, pos: (await fd.stat()).size };
}

/** One json-file line → its entry; undefined for a line that is not one (torn or foreign). */
export function parseLogLine(line: string): LogEntry | undefined {
  if (!line) return undefined;
  try {
    const j = JSON.parse(line) as Partial<LogEntry>;
    if (typeof j.log !== 'string' || typeof j.time !== 'string') return undefined;
    return { log: j.log, stream: j.stream === 'stderr' ? 'stderr' : 'stdout', time: j.time };
  } catch {
    return undefined;
  }
}

const TIME_RE = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?$/;

/** An RFC 3339 date or date-time with up to 9 fraction digits → ns since the epoch (no zone: local time). */
export function rfc3339ToNs(t: string): bigint | undefined {
  const m = TIME_RE.exec(t);
  if (!m) return undefined;
  const [, date, clock = '00:00:00', frac = '', zone = ''] = m;
  const ms = Date.parse(`${date}T${clock.length === 5 ? `${clock}:00` : clock}${zone}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((frac + '000000000').slice(0, 9));
}

/** Docker's timetypes.GetTimestamp for --since/--until: RFC 3339, Unix seconds[.nanos], or a Go duration back from now. */
export function parseLogTime(flag: string, value: string, now = Date.now()): bigint {
  const unix = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value);
  if (unix) return BigInt(unix[1]!) * 1_000_000_000n + BigInt(((unix[2] ?? '') + '000000000').slice(0, 9));
  const d = parseGoDuration(value);
  if (d !== undefined) return BigInt(Math.round((now - d) * 1e6));
  const t = rfc3339ToNs(value);
  if (t !== undefined) return t;
  throw new SkiffError('EINVAL', `invalid value for "${flag}": failed to parse value as time or duration: "${value}"`);
}

/** `logs -t`: Docker prints RFC3339Nano with a fixed 9-digit fraction. */
export function fixedNano(t: string): string {
  const m = /^([^.Z+]+?)(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(t);
  if (!m) return t;
  return `${m[1]}.${((m[2] ?? '') + '000000000').slice(0, 9)}${m[3]}`;
}

/** Entries kept by --since/--until (Docker: since inclusive, until inclusive). */
export function inWindow(e: LogEntry, o: Pick<LogsOptions, 'since' | 'until'>): boolean {
  if (o.since === undefined && o.until === undefined) return true;
  const t = rfc3339ToNs(e.time);
  if (t === undefined) return true;
  return (o.since === undefined || t >= o.since) && (o.until === undefined || t <= o.until);
}

/** --tail: "all" or a number (negative means all, as Docker). */
export function parseTail(v: string | undefined): number | undefined {
  if (v === undefined || v === 'all' || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw new SkiffError('EINVAL', `invalid value for "tail": "${v}" (want a number or "all")`);
  const n = Number(v);
  return n < 0 ? undefined : n;
}

/** The log files, oldest first: <id>-json.log.N … .1, <id>-json.log. */
export function logFiles(id: string): string[] {
  const base = containerFiles(id).log;
  const rotated: { n: number; file: string }[] = [];
  let names: string[] = [];
  try {
    names = fs.readdirSync(containerFiles(id).dir);
  } catch {
    return [];
  }
  const prefix = `${id}-json.log.`;
  for (const n of names) {
    if (n.startsWith(prefix) && /^\d+$/.test(n.slice(prefix.length))) rotated.push({ n: Number(n.slice(prefix.length)), file: `${base}.${n.slice(prefix.length)}` });
  }
  rotated.sort((a, b) => b.n - a.n);
  return [...rotated.map((r) => r.file), base];
}

function entriesOf(text: string): LogEntry[] {
  const out: LogEntry[] = [];
  for (const line of text.split('\n')) {
    const e = parseLogLine(line);
    if (e) out.push(e);
  }
  return out;
}

const CHUNK = 1 << 16;

/** Reads a log file forward from `pos` in chunks, whole lines only: a torn last line waits for its end. */
class LogReader {
  private partial = Buffer.alloc(0);
  constructor(readonly fd: fsp.FileHandle, public pos = 0) {}
  /** Every complete entry from pos to the current end, chunk by chunk (a big log is never held whole). */
  async *drain(): AsyncGenerator<LogEntry> {
    const buf = Buffer.alloc(CHUNK);
    for (;;) {
      const { bytesRead } = await this.fd.read(buf, 0, CHUNK, this.pos);
      if (bytesRead === 0) return;
      this.pos += bytesRead;
      const data = this.partial.length ? Buffer.concat([this.partial, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
      const nl = data.lastIndexOf(10);
      this.partial = Buffer.from(data.subarray(nl + 1));
      if (nl >= 0) yield* entriesOf(data.subarray(0, nl).toString('utf8'));
    }
  }
  close(): Promise<void> {
    return this.fd.close().catch(() => undefined);
  }
}

/** Every entry of a whole (rotated) file; none when it was rotated away meanwhile. */
async function* fileEntries(file: string): AsyncGenerator<LogEntry> {
  const fd = await fsp.open(file, 'r').catch(() => undefined);
  if (!fd) return;
  const r = new LogReader(fd);
  try {
    yield* r.drain();
  } finally {
    await r.close();
  }
}

/** The last `want` entries before `end` of a file, read backwards in chunks; oldest first. */
async function lastEntries(fd: fsp.FileHandle, end: number, want: number): Promise<LogEntry[]> {
  const rev: LogEntry[] = [];
  let head = Buffer.alloc(0); // the start of a line that began before the chunk read last
  let at = end;
  while (at > 0 && rev.length < want) {
    const len = Math.min(CHUNK, at);
    at -= len;
    const buf = Buffer.alloc(len);
    await fd.read(buf, 0, len, at);
    let data = Buffer.concat([buf, head]);
    // the bytes before the first newline may continue before `at` (unless this is the file's start):
    // split in bytes, so a multi-byte character cut by the chunk is decoded whole later
    if (at > 0) {
      const nl = data.indexOf(10);
      head = nl < 0 ? data : Buffer.from(data.subarray(0, nl));
      data = nl < 0 ? Buffer.alloc(0) : data.subarray(nl + 1);
    } else head = Buffer.alloc(0);
    const lines = data.toString('utf8').split('\n');
    for (let i = lines.length - 1; i >= 0 && rev.length < want; i--) {
      const e = parseLogLine(lines[i]!);
      if (e) rev.push(e);
    }
  }
  return rev.reverse();
}

async function fileEnd(fd: fsp.FileHandle): Promise<number> {
  // up to the last newline: a torn last line is not an entry yet (-f reads it once it is whole)
  const size = (await fd.stat()).size;
  const buf = Buffer.alloc(1);
  let end = size;
  while (end > 0) {
    await fd.read(buf, 0, 1, end - 1);
    if (buf[0] === 10) break;
    end--;
  }
  return end;
}

/** True while the container may still write to its log. */
function stillWriting(rec: ContainerRecord): boolean {
  const m = readMonitor(rec.Id);
  if (m) return isMonitor(m.monitorPid, rec.Id);
  return containerState(rec).Running;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The entries `logs` prints, in order; with follow, until the container's monitor is gone. */
export async function* readLogs(rec: ContainerRecord, o: LogsOptions): AsyncGenerator<LogEntry> {
  if (rec.HostConfig.LogConfig?.Type === 'none') {
    throw new SkiffError('EINVAL', 'configured logging driver does not support reading', 1);
  }
  const files = logFiles(rec.Id);
  const current = files[files.length - 1]!;
  // The current file is read through one fd: what we read of it and what -f follows are the same bytes.
  let cur: LogReader | undefined = o.from && new LogReader(o.from.fd, o.from.pos);
  if (!cur) {
    try {
      cur = new LogReader(await fsp.open(current, 'r'));
    } catch {
      /* never ran detached (or not yet written) */
    }
  }
  let beyond = false; // an entry after --until: nothing later can be printed
  const emit = (e: LogEntry): boolean => {
    if (o.until !== undefined && !inWindow(e, { until: o.until })) beyond = true;
    return !beyond && inWindow(e, o);
  };
  try {
    if (o.from) {
      for await (const e of cur!.drain()) if (emit(e)) yield e;
    } else if (o.tail !== undefined) {
      // newest first, backwards, until N entries are found (Docker: tail first, then --since/--until)
      const picked: LogEntry[][] = [];
      let need = o.tail;
      if (cur) {
        cur.pos = await fileEnd(cur.fd);
        const got = need > 0 ? await lastEntries(cur.fd, cur.pos, need) : [];
        picked.unshift(got);
        need -= got.length;
      }
      for (const f of files.slice(0, -1).reverse()) {
        if (need <= 0) break;
        const fd = await fsp.open(f, 'r').catch(() => undefined);
        if (!fd) continue;
        const got = await lastEntries(fd, (await fd.stat()).size, need);
        await fd.close();
        picked.unshift(got);
        need -= got.length;
      }
      for (const e of picked.flat()) if (emit(e)) yield e;
    } else {
      for (const f of files.slice(0, -1)) {
        for await (const e of fileEntries(f)) if (emit(e)) yield e;
        if (beyond) return;
      }
      if (cur) for await (const e of cur.drain()) if (emit(e)) yield e;
    }
    if (!o.follow || beyond) return;
    for (;;) {
      const alive = stillWriting(rec);
      // rotated: finish the old file, then continue with the new one from its start
      let rotated = false;
      if (cur) {
        try {
          const [a, b] = await Promise.all([cur.fd.stat(), fsp.stat(current)]);
          rotated = a.ino !== b.ino;
        } catch {
          rotated = false;
        }
      } else {
        const fd = await fsp.open(current, 'r').catch(() => undefined);
        if (fd) cur = new LogReader(fd);
      }
      if (cur) for await (const e of cur.drain()) if (emit(e)) yield e;
      if (beyond) return;
      if (rotated && cur) {
        // Rotations may have come faster than we looked: the files newer than the one we
        // followed (found by its inode among .1, .2, ...; all of them if it was dropped) come next.
        const ino = (await cur.fd.stat()).ino;
        await cur.close();
        cur = undefined;
        const older = logFiles(rec.Id).slice(0, -1);
        let from = 0;
        for (let i = 0; i < older.length; i++) {
          if ((await fsp.stat(older[i]!).catch(() => undefined))?.ino === ino) from = i + 1;
        }
        for (const f of older.slice(from)) {
          for await (const e of fileEntries(f)) if (emit(e)) yield e;
          if (beyond) return;
        }
        const fd = await fsp.open(current, 'r').catch(() => undefined);
        if (fd) cur = new LogReader(fd);
        continue;
      }
      if (!alive) return;
      await sleep(100);
    }
  } finally {
    await cur?.close();
  }
}
