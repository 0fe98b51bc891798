/**
 * A container's state is derived, never stored as "running": the CLI records when it
 * started (state.json), the shim records the init pid (pid) and the exit (exit.json); a detached
 * container's monitor also keeps monitor.json (its pid, restarts) and health.json. So a crashed
 * monitor, a reboot (new boot id) or a killed CLI never leaves a container that looks running: the
 * init must be alive (and be the process that wrote its pid file, not a reuse of the pid), and the
 * process that records its exit too (the monitor, the shim, or the CLI still starting it).
 * The derivation itself is native, addon/common/state.c (skiff_native's observe): the native `ps`
 * runs the same code, so the two cannot disagree. This module maps its answer to Docker's State.
 */
import { native } from '../native.js';
import { activeHealthcheck, containerFiles, type ContainerRecord, type HealthState } from '../store/containers.js';

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
/** This boot's id, as state.json records it (and state.c compares). */
export function currentBootId(): string {
  return native().bootId();
}

/**
 * Whether `pid` is a monitor of this container (the shim: its command line names the container's
 * bundle), so a pid reused by another process never keeps a container running.
 */
export function isMonitor(pid: number, id: string): boolean {
  return native().isMonitor(pid, id);
}

/**
 * The init pid of a container if that process still runs: the pid file is written right after the
 * init started, so a process that started later is another one that got the pid after ours died.
 */
export function livePid(id: string): number | undefined {
  return native().livePid(containerFiles(id).dir) || undefined;
}

/** A container's state, the monitor's restart count and Docker's STATUS text, from one reading of its files. */
export interface Observed {
  State: DockerState;
  RestartCount: number;
  /** the STATUS column: "Up 3 minutes (healthy)", "Exited (0) 2 seconds ago", "Created", ... */
  StatusText: string;
  /** started, not running, and the shim or monitor that would remove a --rm container is gone */
  Abandoned: boolean;
}

export function containerState(rec: ContainerRecord): DockerState {
  return observeContainer(rec).State;
}

const STARTING: HealthState = { Status: 'starting', FailingStreak: 0, Log: [] };

/**
 * The rules (docs/design/shim-and-state.md, "Container state"; code: addon/common/state.c): running needs a live
 * process that will record the exit (the monitor, the shim, or the CLI starting it), and a Pid is only
 * ever a live init's. Each file is read once, monitor.json before the pid file: a restart writes the
 * new pid file before monitor.json says "running" again, so a restart count comes with the pid of that
 * start, never the previous one's.
 */
export function observeContainer(rec: ContainerRecord): Observed {
  const o = native().observe(containerFiles(rec.Id).dir, rec.Id, activeHealthcheck(rec) !== undefined);
  const health = o.healthStatus === undefined ? undefined : o.healthJson ? (JSON.parse(o.healthJson) as HealthState) : STARTING;
  const State: DockerState = {
    Status: o.status,
    Running: o.status === 'running' || o.status === 'paused' || o.status === 'restarting',
    Paused: o.status === 'paused',
    Restarting: o.status === 'restarting',
    OOMKilled: o.oomKilled,
    Dead: false,
    Pid: o.pid,
    ExitCode: o.exitCode,
    Error: o.error,
    StartedAt: o.startedAt || ZERO_TIME,
    FinishedAt: o.finishedAt || ZERO_TIME,
    ...(health ? { Health: health } : {}),
  };
  return { State, RestartCount: o.restartCount, StatusText: o.statusText, Abandoned: o.abandoned };
}

/**
 * A --rm container nobody will remove: it was started, it does not run, and the shim or monitor that
 * would have removed it after the exit is gone (killed, or the machine rebooted). Whoever sees one
 * removes it (reapAbandoned in lifecycle.ts).
 */
export function isAbandoned(rec: ContainerRecord): boolean {
  return rec.HostConfig.AutoRemove && observeContainer(rec).Abandoned;
}
