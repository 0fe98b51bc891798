/**
 * A container's state is derived, never stored as "running": the CLI records when it
 * started (state.json), the shim records the init pid (pid) and the exit (exit.json); a detached
 * container's monitor also keeps monitor.json (its pid, restarts) and health.json. So a crashed
 * monitor, a reboot (new boot id) or a killed CLI never leaves a container that looks running: the
 * init must be alive (and be the process that wrote its pid file, not a reuse of the pid), and the
 * process that records its exit too (the monitor, the shim, or the CLI still starting it).
 */
import fs from 'node:fs';
import { pidAlive } from '../store/atomic.js';
import {
  activeHealthcheck, containerFiles, readExit, readHealth, readMonitor, readStartState, type ContainerRecord, type HealthState,
  type StartState,
} from '../store/containers.js';
import { containerCgroups, isFrozen } from './cgroup.js';

export type Status = 'created' | 'running' | 'exited' | 'paused' | 'restarting' | 'removing' | 'dead';

export interface DockerState {
  Status: Status;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  /** Docker's Health object (health.json), only when a health check is configured and a monitor runs it */
  Health?: HealthState;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';
let bootId: string | undefined;

export function currentBootId(): string {
  return (bootId ??= fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
}

let bootTimeMs: number | undefined;
function bootTime(): number {
  if (bootTimeMs === undefined) {
    const m = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'));
    bootTimeMs = m ? Number(m[1]) * 1000 : 0;
  }
  return bootTimeMs;
}

/** When a process started (ms since the epoch, ±1 s) and its parent, from /proc/PID/stat. */
export function processInfo(pid: number): { startMs: number; ppid: number } | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // after the comm: state, ppid, ...; field 22 (starttime, clock ticks: USER_HZ is 100) is the 20th
  const ticks = Number(fields[19]);
  return Number.isFinite(ticks) ? { startMs: bootTime() + ticks * 10, ppid: Number(fields[1]) } : undefined;
}

/**
 * Whether `pid` is the process a file written at `writtenMs` recorded: it runs and did not start
 * after the file was written (a pid reused since is another process).
 */
function recordedProcessAlive(pid: number, writtenMs: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || !pidAlive(pid)) return false;
  const info = processInfo(pid);
  return info === undefined || info.startMs <= writtenMs + 2000;
}

/**
 * Whether `pid` is a monitor of this container (the shim: its command line names the container's
 * bundle), so a pid reused by another process never keeps a container running.
 */
export function isMonitor(pid: number, id: string): boolean {
  if (!pidAlive(pid)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(id);
  } catch {
    return false;
  }
}

const mtimeMs = (file: string): number | undefined => {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
};

/**
 * The init pid of a container if that process still runs: the pid file is written right after the
 * init started, so a process that started later is another one that got the pid after ours died.
 */
export function livePid(id: string): number | undefined {
  const file = containerFiles(id).pid;
  let pid: number;
  try {
    pid = Number(fs.readFileSync(file, 'utf8').trim());
  } catch {
    return undefined;
  }
  const written = mtimeMs(file);
  return written !== undefined && recordedProcessAlive(pid, written) ? pid : undefined;
}

/**
 * Whether the process state.json names as the container's shim (ShimPid: the CLI that starts it, which
 * becomes the shim of a foreground run by execve; a detached one's monitor once it runs) still runs.
 */
function shimAlive(id: string, start: StartState): boolean {
  const written = start.ShimPid === undefined ? undefined : mtimeMs(containerFiles(id).state);
  return written !== undefined && recordedProcessAlive(start.ShimPid!, written);
}

/** Whether a pid file exists (the container got as far as running its init). */
function pidFileTime(id: string): string | undefined {
  const t = mtimeMs(containerFiles(id).pid);
  return t === undefined ? undefined : new Date(t).toISOString();
}

/** A container's state and the monitor's restart count, from one reading of its files. */
export interface Observed {
  State: DockerState;
  RestartCount: number;
}

export function containerState(rec: ContainerRecord): DockerState {
  return observeContainer(rec).State;
}

/**
 * The rules (docs/design/shim-and-state.md, "Container state"): running needs a live process that will record the
 * exit (the monitor, the shim, or the CLI starting it), and a Pid is only ever a live init's. Each
 * file is read once, monitor.json before the pid file: a restart writes the new pid file before
 * monitor.json says "running" again, so a restart count comes with the pid of that start, never the
 * previous one's.
 */
export function observeContainer(rec: ContainerRecord): Observed {
  const st: DockerState = {
    Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
    Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME,
  };
  const start = readStartState(rec.Id);
  if (!start) return { State: st, RestartCount: 0 };
  const hc = activeHealthcheck(rec);
  const withHealth = (s: DockerState): DockerState => {
    if (!hc) return s; // none, or one the monitor does not run (NONE, a CMD without a command)
    // before the monitor's first probe: "starting", as Docker reports it (a foreground run has no
    // monitor, so nobody probes it: no Health)
    const health = readHealth(rec.Id) ?? (start.Detached ? { Status: 'starting' as const, FailingStreak: 0, Log: [] } : undefined);
    return health ? { ...s, Health: health } : s;
  };
  st.StartedAt = start.StartedAt;
  const exit = readExit(rec.Id);
  const exited = (): DockerState =>
    withHealth({ ...st, Status: 'exited', ExitCode: exit!.exitCode, FinishedAt: exit!.finishedAt, Error: exit!.error });
  const lost = (why: string): DockerState =>
    withHealth({ ...st, Status: 'exited', ExitCode: -1, Error: why, FinishedAt: pidFileTime(rec.Id) ?? ZERO_TIME });
  const monitorLost = 'container monitor exited without recording an exit code';
  if (start.BootId !== currentBootId()) return { State: exit ? exited() : lost('container state lost: the machine rebooted'), RestartCount: 0 };
  const mon = readMonitor(rec.Id);
  const state = ((): DockerState => {
    if (mon) {
      // A monitor is recorded: it owns the container (restarts rewrite pid; exit.json is the last exit).
      if (!isMonitor(mon.monitorPid, rec.Id)) return exit ? exited() : lost(monitorLost);
      if (mon.restarting) {
        return withHealth({
          ...st, Status: 'restarting', Running: true, Restarting: true,
          ExitCode: exit?.exitCode ?? 0, FinishedAt: exit?.finishedAt ?? ZERO_TIME, Error: exit?.error ?? '',
        });
      }
      const pid = livePid(rec.Id);
      if (pid !== undefined) return withHealth(running(rec, st, pid));
      if (exit && fileNewer(containerFiles(rec.Id).exit, containerFiles(rec.Id).pid)) return exited();
      // between a (re)start and its pid file, or an exit and its exit file: the (live) monitor is on it
      return withHealth({ ...st, Status: 'running', Running: true });
    }
    if (exit) return exited();
    // The shim that started the init monitors it: an init without it is not managed, and while the
    // shim lives a missing exit is still to be written (the init just exited, or is still starting).
    // Older states lack ShimPid: then the init's parent must be a shim.
    const shim = start.ShimPid !== undefined ? shimAlive(rec.Id, start) : undefined;
    const pid = livePid(rec.Id);
    if (pid !== undefined) {
      const ppid = processInfo(pid)?.ppid;
      const managed = shim ?? (ppid !== undefined && isMonitor(ppid, rec.Id));
      return managed ? withHealth(running(rec, st, pid)) : lost(monitorLost);
    }
    if (shim) return withHealth({ ...st, Status: 'running', Running: true });
    // Nobody runs the container and nobody recorded an exit: the shim (or the CLI starting it) died.
    return lost(monitorLost);
  })();
  return { State: state, RestartCount: mon?.restartCount ?? 0 };
}

/**
 * A --rm container nobody will remove: it was started, it does not run, and the shim or monitor that
 * would have removed it after the exit is gone (killed, or the machine rebooted). Whoever sees one
 * removes it (reapAbandoned in lifecycle.ts).
 */
export function isAbandoned(rec: ContainerRecord): boolean {
  if (!rec.HostConfig.AutoRemove) return false;
  const start = readStartState(rec.Id);
  if (!start || containerState(rec).Running || livePid(rec.Id) !== undefined) return false;
  if (start.BootId !== currentBootId()) return true;
  const mon = readMonitor(rec.Id);
  return mon ? !isMonitor(mon.monitorPid, rec.Id) : !shimAlive(rec.Id, start);
}

function running(rec: ContainerRecord, st: DockerState, pid: number): DockerState {
  const frozen = isFrozen(containerCgroups(pid, rec.Id));
  return { ...st, Status: frozen ? 'paused' : 'running', Running: true, Paused: frozen, Pid: pid };
}

function fileNewer(a: string, b: string): boolean {
  try {
    const ta = fs.statSync(a).mtimeMs;
    try {
      return ta >= fs.statSync(b).mtimeMs;
    } catch {
      return true;
    }
  } catch {
    return false;
  }
}

/** Docker's health suffix of the STATUS column. */
function healthSuffix(h: HealthState | undefined): string {
  if (!h) return '';
  return h.Status === 'starting' ? ' (health: starting)' : ` (${h.Status})`;
}

/**
 * Docker's STATUS column: "Up 3 minutes (healthy)", "Up 5 seconds (Paused)", "Restarting (1) 2
 * seconds ago", "Exited (0) 2 seconds ago", "Created".
 */
export function statusText(st: DockerState, since: (iso: string) => string, ago: (iso: string) => string): string {
  switch (st.Status) {
    case 'running':
      return `Up ${since(st.StartedAt)}${healthSuffix(st.Health)}`;
    case 'paused':
      return `Up ${since(st.StartedAt)} (Paused)`;
    case 'restarting':
      return st.FinishedAt === ZERO_TIME ? `Restarting (${st.ExitCode})` : `Restarting (${st.ExitCode}) ${ago(st.FinishedAt)}`;
    case 'exited':
      return st.FinishedAt === ZERO_TIME ? `Exited (${st.ExitCode})` : `Exited (${st.ExitCode}) ${ago(st.FinishedAt)}`;
    case 'created':
      return 'Created';
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    default:
      return st.Status;
  }
}
