/**
 * A container's state is derived, never stored as "running": the CLI records when it
 * started (state.json), the shim records the init pid (pid) and the exit (exit.json).
 * So a crashed monitor, a reboot (new boot id) or a killed CLI can never leave a
 * container that looks running forever.
 */
import fs from 'node:fs';
import { pidAlive } from '../store/atomic.js';
import {
  containerFiles, readExit, readHealth, readMonitor, readPid, readStartState, type ContainerRecord, type HealthState,
} from '../store/containers.js';

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
  /** Docker's Health object (health.json), when the container has a health check */
  Health?: HealthState;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';
let bootId: string | undefined;

export function currentBootId(): string {
  return (bootId ??= fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
}

/** Grace period in which a started container may not have written its pid yet. */
const START_GRACE_MS = 10_000;

export function containerState(rec: ContainerRecord): DockerState {
  const st = baseState(rec);
  const health = rec.Config.Healthcheck && readHealth(rec.Id);
  return health ? { ...st, Health: health } : st;
}

function baseState(rec: ContainerRecord): DockerState {
  const st: DockerState = {
    Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
    Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME,
  };
  const start = readStartState(rec.Id);
  if (!start) return st;
  st.StartedAt = start.StartedAt;
  const exit = readExit(rec.Id);
  // Between an exit and the restart the policy asked for (the monitor waits out its backoff).
  const mon = start.Detached ? readMonitor(rec.Id) : undefined;
  if (mon?.restarting && start.BootId === currentBootId() && isMonitor(mon.monitorPid, rec.Id)) {
    return {
      ...st, Status: 'restarting', Running: true, Restarting: true,
      ExitCode: exit?.exitCode ?? 0, FinishedAt: exit?.finishedAt ?? ZERO_TIME, Error: exit?.error ?? '',
    };
  }
  if (exit) {
    return { ...st, Status: 'exited', ExitCode: exit.exitCode, FinishedAt: exit.finishedAt, Error: exit.error };
  }
  const lost = (why: string): DockerState => ({ ...st, Status: 'exited', ExitCode: -1, Error: why });
  if (start.BootId !== currentBootId()) return lost('container state lost: the machine rebooted');
  const pid = readPid(rec.Id);
  if (pid !== undefined && pidAlive(pid)) {
    const frozen = isFrozen(rec.Id);
    return { ...st, Status: frozen ? 'paused' : 'running', Running: true, Paused: frozen, Pid: pid };
  }
  if (pid === undefined && Date.now() - Date.parse(start.StartedAt) < START_GRACE_MS) {
    return { ...st, Status: 'running', Running: true };
  }
  // A live monitor is about to record the exit (it reads the last output first): still running.
  if (mon && isMonitor(mon.monitorPid, rec.Id)) return { ...st, Status: 'running', Running: true };
  // The init is gone and nobody recorded an exit: the monitor died with it.
  let finished = ZERO_TIME;
  try {
    finished = fs.statSync(containerFiles(rec.Id).pid).mtime.toISOString();
  } catch {
    /* never got a pid */
  }
  return { ...lost('container monitor exited without recording an exit code'), FinishedAt: finished };
}

/** The container's monitor is alive (its pid not reused: its command line names the container's bundle). */
export function isMonitor(pid: number, id: string): boolean {
  if (!pidAlive(pid)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(id);
  } catch {
    return false;
  }
}

function isFrozen(_id: string): boolean {
  return false; // pause/unpause (freezer cgroup) is not implemented yet
}

/** Docker's STATUS column: "Up 3 minutes", "Exited (0) 2 seconds ago", "Created". */
export function statusText(st: DockerState, since: (iso: string) => string, ago: (iso: string) => string): string {
  switch (st.Status) {
    case 'running':
      return `Up ${since(st.StartedAt)}`;
    case 'paused':
      return `Up ${since(st.StartedAt)} (Paused)`;
    case 'exited':
      return st.FinishedAt === ZERO_TIME ? `Exited (${st.ExitCode})` : `Exited (${st.ExitCode}) ${ago(st.FinishedAt)}`;
    case 'created':
      return 'Created';
    default:
      return st.Status;
  }
}
