/**
 * `attach`: a client of the monitor's attach socket (docs/design/monitor.md).
 * Frames [stream, 0, 0, 0, size BE32] + bytes go to stdout (1) or stderr (2); our stdin goes to
 * the container's when it was started with -i. With a tty the host terminal is raw and the
 * detach keys (default ctrl-p,ctrl-q) leave the container running, and our terminal's size is the
 * container's (winsize file + SIGWINCH to the monitor, at once and on every resize). Without a tty, signals we get
 * are passed to the container (--sig-proxy, Docker's default). When the monitor closes the socket
 * the container has exited: the result is its exit code, or DETACHED when the user typed the detach
 * keys (callers word it: Docker's attach fails with "read escape sequence", run -it and start -ai
 * end quietly with 0). `socket`: a client the monitor took from the start (`run -it`, `start -ai`,
 * lifecycle's startInteractive), which gets the exit code as a last frame (stream 0xff); a terminal
 * that hangs up under it hangs up the container's (SIGHUP to the monitor), as a foreground run's shim does.
 */
import fs from 'node:fs';
import net from 'node:net';
import { SkiffError } from '../errors.js';
import { containerFiles, readExit, readMonitor, type ContainerRecord } from '../store/containers.js';
import { containerState } from './state.js';

export interface AttachOptions {
  /** attach our stdin (only effective when the container has an open stdin) */
  stdin: boolean;
  sigProxy: boolean;
  detachKeys?: string;
  /** already connected (the monitor's front client): the container may have exited meanwhile */
  front?: FrontClient;
}

/**
 * The monitor's first client (`skiff-shim run --detach --attach-fd`), and what it received before
 * attachContainer took it over: node resumes a child's stdio streams when the child exits, so
 * the spawner keeps the bytes until then.
 */
export interface FrontClient {
  socket: net.Socket;
  early: Buffer[];
}

/** attachContainer's result when the user detached (the container runs on). */
export const DETACHED = 'detached';

/** The monitor's last frame to a front client: the exit code in decimal (addon/shim/attach.c). */
const EXIT_STREAM = 0xff;

/** Docker's --detach-keys: "ctrl-p,ctrl-q", "a,ctrl-[" → the bytes. */
export function parseDetachKeys(spec: string): Buffer {
  const out: number[] = [];
  for (const k of spec.split(',')) {
    const key = k.trim();
    if (key.length === 1) out.push(key.charCodeAt(0));
    else if (/^ctrl-[a-z@[\\\]^_]$/i.test(key)) {
      const c = key[5]!.toLowerCase();
      out.push(c >= 'a' && c <= 'z' ? c.charCodeAt(0) - 96 : '@[\\]^_'.indexOf(c) === 0 ? 0 : 26 + '@[\\]^_'.indexOf(c));
    } else throw new SkiffError('EINVAL', `Invalid detach keys (${spec}) provided`);
  }
  return Buffer.from(out);
}

/** Splits Docker's multiplexed stream into (stream, bytes) as frames complete. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly onFrame: (stream: number, data: Buffer) => void) {}
  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) break;
      this.onFrame(this.buf[0]!, this.buf.subarray(8, 8 + size));
      this.buf = this.buf.subarray(8 + size);
    }
  }
}

const PROXIED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** Attach until the container exits (its exit code) or the user detaches (DETACHED). */
export async function attachContainer(rec: ContainerRecord, o: AttachOptions): Promise<number | typeof DETACHED> {
  if (!o.front) {
    const st = containerState(rec);
    if (!st.Running || st.Restarting) throw new SkiffError('ESTATE', 'You cannot attach to a stopped container, start it first', 1);
    if (st.Paused) throw new SkiffError('ESTATE', 'You cannot attach to a paused container, unpause it first', 1);
  }
  const keys = parseDetachKeys(o.detachKeys ?? 'ctrl-p,ctrl-q');
  const tty = rec.Config.Tty;
  const useStdin = o.stdin && rec.Config.OpenStdin;
  if (useStdin && tty && !process.stdin.isTTY) throw new SkiffError('EINVAL', 'the input device is not a TTY', 1);
  const sock = o.front?.socket ?? await new Promise<net.Socket>((resolve, reject) => {
    const s = net.createConnection({ path: containerFiles(rec.Id).attach, allowHalfOpen: true });
    s.once('connect', () => resolve(s));
    s.once('error', (e) => reject(new SkiffError('ESTATE', `cannot attach to container ${rec.Name}: ${e.message}`, 1)));
  });
  let exitCode: number | undefined;
  const frames = new FrameReader((stream, data) => {
    if (stream === EXIT_STREAM) exitCode = Number(data.toString('latin1'));
    else (stream === 2 ? process.stderr : process.stdout).write(data);
  });
  let detached = false;
  let hungUp = false;
  const rawMode = useStdin && tty && process.stdin.isTTY;
  const restore = (): void => {
    try {
      if (rawMode) process.stdin.setRawMode(false);
    } catch {
      /* the terminal hung up */
    }
    if (useStdin) process.stdin.pause();
  };
  const proxies: [NodeJS.Signals, () => void][] = [];
  if (o.sigProxy && !tty) {
    for (const sig of PROXIED) {
      const h = (): void => {
        const pid = containerState(rec).Pid;
        if (pid) {
          try {
            process.kill(pid, sig);
          } catch {
            /* gone */
          }
        }
      };
      process.on(sig, h);
      proxies.push([sig, h]);
    }
  }
  // the front client's terminal went away: the container's shell goes with it
  const front = o.front !== undefined && tty && useStdin;
  const hangup = (): void => {
    if (hungUp || detached) return;
    hungUp = true;
    process.stdout.on('error', () => undefined);
    // the monitor hangs up the container's terminal (a shell as pid 1 ignores a SIGHUP)
    const mon = readMonitor(rec.Id);
    try {
      if (mon) process.kill(mon.monitorPid, 'SIGHUP');
    } catch {
      /* gone */
    }
    sock.destroy();
  };
  if (front) {
    process.on('SIGHUP', hangup);
    proxies.push(['SIGHUP', hangup]);
    // the container's output written to a terminal already gone (EIO) may come before that SIGHUP:
    // it is the same hangup (without a listener the error would end this process, the monitor untold)
    process.stdout.on('error', hangup);
  }
  const resize = (): void => {
    if (process.stdout.rows) resizeTerminal(rec, process.stdout.rows, process.stdout.columns);
  };
  if (tty && process.stdout.isTTY) {
    resize();
    process.stdout.on('resize', resize);
  }
  if (useStdin) {
    if (rawMode) process.stdin.setRawMode(true);
    let matched = 0;
    process.stdin.on('data', (d: Buffer) => {
      if (!tty) {
        sock.write(d);
        return;
      }
      // detach keys: hold a partial match back; send it when the sequence breaks
      const out: number[] = [];
      for (const b of d) {
        if (b === keys[matched]) {
          if (++matched === keys.length) {
            detached = true;
            sock.destroy();
            return;
          }
          continue;
        }
        out.push(...keys.subarray(0, matched), b);
        matched = 0;
      }
      if (out.length) sock.write(Buffer.from(out));
    });
    process.stdin.on('end', () => (front ? hangup() : sock.end()));
    if (front) process.stdin.on('error', hangup);
  }
  await new Promise<void>((resolve) => {
    if (o.front) {
      sock.removeAllListeners('data');
      for (const c of o.front.early.splice(0)) frames.push(c);
    }
    sock.on('data', (c: Buffer) => frames.push(c));
    sock.on('end', () => {
      sock.end(); // the monitor closed: the container exited
      resolve();
    });
    sock.on('close', () => resolve());
    sock.on('error', () => resolve());
    // a front client whose container ended before we took it over: its end came and went
    if (sock.readableEnded || sock.destroyed) resolve();
  });
  restore();
  process.stdout.off('resize', resize);
  for (const [sig, h] of proxies) process.off(sig, h);
  if (detached) return DETACHED;
  if (hungUp) return 129;
  if (exitCode !== undefined && Number.isInteger(exitCode)) return exitCode;
  return readExit(rec.Id)?.exitCode ?? containerState(rec).ExitCode;
}

/** A tty container's terminal size (the winsize file, then SIGWINCH to its monitor); nothing when it is not running. */
export function resizeTerminal(rec: ContainerRecord, rows: number, cols: number): void {
  const mon = readMonitor(rec.Id);
  if (!mon) return;
  try {
    fs.writeFileSync(containerFiles(rec.Id).winsize, `${rows} ${cols}\n`);
    process.kill(mon.monitorPid, 'SIGWINCH');
  } catch {
    /* the container is gone */
  }
}
