/**
 * The processes of a running container and what /proc says about them: `top` (Docker's way: the
 * host's `ps`, filtered to the container's pids) and the /proc fallbacks of `stats`.
 * A container's processes are those in its init's pid namespace (/proc/PID/ns/pid).
 */
import fs from 'node:fs';
import { SkiffError } from '../errors.js';
import { childProcess } from '../lib/lazy.js';

function nsOf(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** Host pids of every process in the pid namespace of `initPid` (the init first). */
export function namespacePids(initPid: number): number[] {
  const ns = nsOf(initPid);
  if (!ns) return [];
  const out = [initPid];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid !== initPid && nsOf(pid) === ns) out.push(pid);
  }
  return out;
}

export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

/**
 * Docker's parsing of `ps` output: the header's fields are the titles, the PID column selects the
 * rows of the container's processes, and the last column takes the rest of the line (CMD with its
 * arguments). Thread lines ("-" in the PID column, `ps -m`) follow the process they belong to.
 */
export function parsePsOutput(output: string, pids: Set<number>): TopResult {
  const lines = output.split('\n');
  const titles = (lines[0] ?? '').trim().split(/\s+/).filter(Boolean);
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw new SkiffError('EINVAL', "Couldn't find PID field in ps output");
  const procs: string[][] = [];
  let keepThreads = false;
  for (const line of lines.slice(1)) {
    if (!line.trim()) continue;
    const fields = line.trim().split(/\s+/);
    const add = (): void => {
      procs.push([...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')]);
    };
    if (fields[pidIndex] === '-') {
      if (keepThreads) add();
      continue;
    }
    const p = Number(fields[pidIndex]);
    if (!Number.isInteger(p)) throw new SkiffError('EINVAL', `unexpected pid '${fields[pidIndex]}' in ps output`);
    keepThreads = pids.has(p);
    if (keepThreads) add();
  }
  return { Titles: titles, Processes: procs };
}

/** `top CONTAINER [ps OPTIONS]`: the host's ps (default `-ef`), rows of the container's processes. */
export function topProcesses(initPid: number, psArgs: string[]): TopResult {
  const args = psArgs.length ? psArgs : ['-ef'];
  const r = childProcess().spawnSync('ps', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new SkiffError('ERUNTIME', `ps: ${r.error.message}`);
  if (r.status !== 0) throw new SkiffError('EINVAL', `ps ${args.join(' ')} failed: ${(r.stderr || '').trim().split('\n')[0] ?? ''}`);
  return parsePsOutput(r.stdout, new Set(namespacePids(initPid)));
}

/** Per-process counters from /proc for `stats` when no cgroup gives them (rootless). */
export interface ProcCounters {
  cpuNs: number;
  rss: number;
  readBytes: number;
  writeBytes: number;
}

export function procCounters(pids: number[]): ProcCounters {
  const c: ProcCounters = { cpuNs: 0, rss: 0, readBytes: 0, writeBytes: 0 };
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime, stime: fields 14, 15 (clock ticks, USER_HZ = 100); rss: field 24 (pages)
      c.cpuNs += (Number(f[11]) + Number(f[12])) * 10_000_000;
      c.rss += Number(f[21]) * 4096;
    } catch {
      continue; // gone
    }
    try {
      const io = fs.readFileSync(`/proc/${pid}/io`, 'utf8');
      c.readBytes += Number(/^read_bytes: (\d+)$/m.exec(io)?.[1] ?? 0);
      c.writeBytes += Number(/^write_bytes: (\d+)$/m.exec(io)?.[1] ?? 0);
    } catch {
      /* not ours to read */
    }
  }
  return c;
}

/** Bytes received and sent on the interfaces of the init's network namespace, loopback excluded. */
export function netCounters(initPid: number): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  try {
    for (const line of fs.readFileSync(`/proc/${initPid}/net/dev`, 'utf8').split('\n').slice(2)) {
      const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
      if (!m || m[1] === 'lo') continue;
      const f = m[2]!.trim().split(/\s+/).map(Number);
      rx += f[0] ?? 0;
      tx += f[8] ?? 0;
    }
  } catch {
    /* gone */
  }
  return { rx, tx };
}

/** The host's total CPU time in ns (/proc/stat "cpu" line) and the number of online CPUs. */
export function systemCpu(): { ns: number; cpus: number } {
  const text = fs.readFileSync('/proc/stat', 'utf8');
  const total = (/^cpu\s+(.*)$/m.exec(text)?.[1] ?? '').trim().split(/\s+/).slice(0, 8).reduce((a, b) => a + Number(b), 0);
  const cpus = (text.match(/^cpu\d+ /gm) ?? []).length || 1;
  return { ns: total * 10_000_000, cpus };
}

export function hostMemory(): number {
  const m = /^MemTotal:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}
