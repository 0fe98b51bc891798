/**
 * `attach`: a client of the monitor's attach socket (docs/design/monitor.md).
 * Frames [stream, 0, 0, 0, size BE32] + bytes go to stdout (1) or stderr (2); our stdin goes to
 * the container's when it was started with -i. With a tty the host terminal is raw and the
 * detach keys (default ctrl-p,ctrl-q) leave the container running, and our terminal's size is the
 * container's (winsize file + SIGWINCH to the monitor, at once and on every resize). Without a tty, signals we get
 * are passed to the container (--sig-proxy, Docker's default). When the monitor closes the socket
 * the container has exited: the result is its exit code.
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
}

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

/** Attach until the container exits (its exit code) or the user detaches (0). */
export async function attachContainer(rec: ContainerRecord, o: AttachOptions): Promise<number> {
  const st = containerState(rec);
  if (!st.Running || st.Restarting) throw new SkiffError('ESTATE', 'You cannot attach to a stopped container, start it first', 1);
  if (st.Paused) throw new SkiffError('ESTATE', 'You cannot attach to a paused container, unpause it first', 1);
  const keys = parseDetachKeys(o.detachKeys ?? 'ctrl-p,ctrl-q');
  const tty = rec.Config.Tty;
  const useStdin = o.stdin && rec.Config.OpenStdin;
  if (useStdin && tty && !process.stdin.isTTY) throw new SkiffError('EINVAL', 'the input device is not a TTY', 1);
  const sock = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.createConnection({ path: containerFiles(rec.Id).attach, allowHalfOpen: true });
    s.once('connect', () => resolve(s));
    s.once('error', (e) => reject(new SkiffError('ESTATE', `cannot attach to container ${rec.Name}: ${e.message}`, 1)));
  });
  const frames = new FrameReader((stream, data) => (stream === 2 ? process.stderr : process.stdout).write(data));
  let detached = false;
  const rawMode = useStdin && tty && process.stdin.isTTY;
  const restore = (): void => {
    if (rawMode) process.stdin.setRawMode(false);
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
    process.stdin.on('end', () => sock.end());
  }
  await new Promise<void>((resolve) => {
    sock.on('data', (c: Buffer) => frames.push(c));
    sock.on('end', () => {
      sock.end(); // the monitor closed: the container exited
      resolve();
    });
    sock.on('close', () => resolve());
    sock.on('error', () => resolve());
  });
  restore();
  process.stdout.off('resize', resize);
  for (const [sig, h] of proxies) process.off(sig, h);
  if (detached) return 0;
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
