/**
 * stdout text written straight to fd 1, synchronously, while no process.stdout has been made: its
 * first use builds a stream (on a pipe a node:net socket, ~0.5-1 ms of a short command such as
 * `run -d`). Once one exists, text goes through it, after what it may still hold (a full pipe makes
 * node queue writes), so the order of the output never changes.
 */
import fs from 'node:fs';

let streamMade = false;
// process.stdout is a lazy getter: wrapped (this module is evaluated before any command runs) to
// learn whether a stream has been made; the stream itself is node's, unchanged
const made = Object.getOwnPropertyDescriptor(process, 'stdout');
if (made?.get && made.configurable) {
  const get = made.get;
  Object.defineProperty(process, 'stdout', { ...made, get: () => ((streamMade = true), get.call(process)) });
} else streamMade = true;

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Write all of `text` to stdout; a reader that has gone (EPIPE) ends the writing silently. */
export function writeStdout(text: string): void {
  if (streamMade) {
    process.stdout.write(text);
    return;
  }
  const buf = Buffer.from(text, 'utf8');
  for (let off = 0; off < buf.length; ) {
    try {
      off += fs.writeSync(1, buf, off, buf.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return;
      if (code !== 'EAGAIN') throw e;
      Atomics.wait(pause, 0, 0, 1); // a non-blocking descriptor that is full: its reader drains it
    }
  }
}
