/**
 * A container's output (and input) over one client connection: `attach` (hijacked, 101 UPGRADED,
 * or a plain streamed reply) and `logs`. Frames go out in Docker's multiplexed format, or raw for a
 * tty container. Attaching to a running container joins its monitor's attach socket; attaching
 * before the start (what `docker run` does) waits for the start and then follows the json-file log
 * from that start on, so no output of a short-lived container is lost; stdin then goes to the
 * monitor's socket once it exists.
 */
import net from 'node:net';
import { FrameReader } from '../container/attach.js';
import { fixedNano, openForNextStart, readLogs, rfc3339ToNs, type LogsOptions, type StartLog } from '../container/logs.js';
import { containerState } from '../container/state.js';
import { containerFiles, readContainer, readStartState, type ContainerRecord } from '../store/containers.js';
import { frame } from './http.js';

/** Where a stream goes: a hijacked socket or an HTTP response. */
export interface Sink {
  write(b: Buffer): boolean;
  end(): void;
  /** true once the client went away */
  closed(): boolean;
  onClose(fn: () => void): void;
  /** waits until the client reads again */
  drain(): Promise<void>;
  /** a hijacked Unix connection: whether the client has closed it (a silent stream sees no error otherwise) */
  peerGone?(): boolean;
}

export interface StreamSelection {
  stdout: boolean;
  stderr: boolean;
  timestamps?: boolean;
}

/** Docker's log/attach/exec content types: raw with a tty, multiplexed frames otherwise. */
export const streamType = (tty: boolean): string => (tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The bytes of one output chunk for a client: a frame, or the raw bytes with a tty. */
function encode(rec: ContainerRecord, stream: number, data: Buffer, sel: StreamSelection): Buffer | undefined {
  if (stream === 2 ? !sel.stderr : !sel.stdout) return undefined;
  return rec.Config.Tty ? data : frame(stream === 2 ? 2 : 1, data);
}

/** `logs`: the json-file log's entries as frames, following while asked to and the client stays. */
export async function streamLogs(rec: ContainerRecord, o: LogsOptions, sel: StreamSelection, sink: Sink): Promise<void> {
  for await (const e of readLogs(rec, o)) {
    if (sink.closed()) return;
    const text = `${sel.timestamps ? `${fixedNano(e.time)} ` : ''}${e.log}`;
    const out = encode(rec, e.stream === 'stderr' ? 2 : 1, Buffer.from(text, 'utf8'), sel);
    if (out && !sink.write(out)) await sink.drain();
  }
}

function connectMonitor(rec: ContainerRecord): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const s = net.createConnection({ path: containerFiles(rec.Id).attach, allowHalfOpen: true });
    s.once('connect', () => resolve(s));
    s.once('error', () => resolve(undefined));
  });
}

/**
 * Where an attach starts, taken before the client hears back (the 101 or the reply's headers):
 * `docker run` starts the container as soon as it has that answer, so a start made then is the one
 * to follow, not one to wait past. For a container not running: its log opened now and its last start.
 */
export interface AttachPoint {
  running: boolean;
  from?: StartLog | undefined;
  before?: string | undefined;
}

export async function attachPoint(rec: ContainerRecord): Promise<AttachPoint> {
  const st = containerState(rec);
  if (st.Running && !st.Restarting) return { running: true };
  const before = readStartState(rec.Id)?.StartedAt;
  // opened before the start, so that a --rm container that runs, exits and is removed between two
  // looks is still read to its end
  const from = rec.HostConfig.LogConfig?.Type !== 'none' ? await openForNextStart(rec.Id) : undefined;
  return { running: false, from, before };
}

/**
 * Attach until the container exits or the client goes: output as `sel` says; the client's bytes
 * (`input`, when asked for stdin) to the container's stdin. `at` is attachPoint's, taken before the reply.
 */
export async function attachStream(
  rec: ContainerRecord, at: AttachPoint, sel: StreamSelection & { stdin: boolean }, sink: Sink, input?: NodeJS.ReadableStream,
): Promise<void> {
  const useStdin = sel.stdin && rec.Config.OpenStdin && input !== undefined;
  if (at.running) {
    const mon = await connectMonitor(rec);
    if (mon) return pipeMonitor(rec, mon, sel, sink, useStdin ? input : undefined, true);
    sink.end(); // it stopped in between: nothing more to attach to
    return;
  }
  // not started yet (or between restarts): wait for the next start, then follow its log
  const { from, before } = at;
  const logged = rec.HostConfig.LogConfig?.Type !== 'none';
  let started: string | undefined;
  for (;;) {
    if (sink.closed() || !readContainer(rec.Id)) {
      if (from && !sink.closed()) break; // gone already: what it wrote is in the open file
      await from?.fd.close();
      sink.end();
      return;
    }
    started = readStartState(rec.Id)?.StartedAt;
    if (started !== undefined && started !== before) break;
    await sleep(20);
  }
  let mon: net.Socket | undefined;
  if (useStdin) {
    // the monitor's socket appears once the container runs: it takes our input (its output is the log's)
    for (let i = 0; i < 500 && !sink.closed() && !mon; i++) {
      mon = await connectMonitor(rec);
      if (!mon) await sleep(10);
    }
    if (mon) void pipeMonitor(rec, mon, { stdout: false, stderr: false }, sink, input, false);
  }
  if (!logged) {
    // no log to follow: the monitor's live output is all there is
    const live = mon ? undefined : await connectMonitor(rec);
    if (live) await pipeMonitor(rec, live, sel, sink, undefined, true);
  } else {
    const o: LogsOptions = from ? { follow: true, from } : { follow: true, ...(started !== undefined ? { since: rfc3339ToNs(started) } : {}) };
    await streamLogs(rec, o, sel, sink).catch(() => undefined);
  }
  mon?.destroy();
  sink.end();
}

/** Relay between the monitor's attach socket and the client until either side ends. */
function pipeMonitor(
  rec: ContainerRecord, mon: net.Socket, sel: StreamSelection, sink: Sink, input: NodeJS.ReadableStream | undefined, endSink: boolean,
): Promise<void> {
  return new Promise((resolve) => {
    const frames = new FrameReader((stream, data) => {
      const out = encode(rec, stream, data, sel);
      if (out && !sink.write(out)) {
        mon.pause();
        void sink.drain().then(() => mon.resume());
      }
    });
    const finish = (): void => {
      input?.removeListener('data', onInput);
      mon.destroy();
      if (endSink) sink.end();
      resolve();
    };
    const onInput = (d: Buffer): void => void mon.write(d);
    if (input) {
      input.on('data', onInput);
      // a client that closes its sending side leaves the container's stdin open (Docker's, without StdinOnce)
    }
    mon.on('data', (c: Buffer) => frames.push(c));
    mon.on('end', finish);
    mon.on('close', finish);
    mon.on('error', finish);
    sink.onClose(finish);
  });
}
