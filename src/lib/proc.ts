/** What /proc says of a process: when it started and its parent (leases and state tie records to live processes). */
import fs from 'node:fs';

let bootTimeMs: number | undefined;
function bootTime(): number {
  if (bootTimeMs === undefined) {
    const m = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'));
    bootTimeMs = m ? Number(m[1]) * 1000 : 0;
  }
  return bootTimeMs;
}

/** When a process started (ms since the epoch, ±1 s), its parent and whether it is a zombie (exited, not reaped yet), from /proc/PID/stat. */
export function processInfo(pid: number): { startMs: number; ppid: number; zombie: boolean } | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // after the comm: state, ppid, ...; field 22 (starttime, clock ticks: USER_HZ is 100) is the 20th
  const ticks = Number(fields[19]);
  return Number.isFinite(ticks) ? { startMs: bootTime() + ticks * 10, ppid: Number(fields[1]), zombie: fields[0] === 'Z' } : undefined;
}
