/**
 * Starting, exec'ing into and removing containers. Everything between fork and exec happens in
 * the native shim: a foreground start replaces this Node process with the shim (execve), so the
 * container's exit code and signals pass straight through with nothing else on the path.
 */
import { treeSize } from '../lib/du.js';
import { removeAnonymousVolumes } from '../volume/volumes.js';
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { childProcess } from '../lib/lazy.js';
import { mark, traceNet, traceShim } from '../lib/trace.js';
import { native, shimMessage, shimPath } from '../native.js';
import os from 'node:os';
import type { ChildProcess } from 'node:child_process';
import type net from 'node:net';
import type { FrontClient } from './attach.js';
import { makeStagingDir, pidAlive, removeTree, sweepStaging, writeFileAtomic } from '../store/atomic.js';
import {
  activeHealthcheck, containerFiles, findContainer, listContainers, markStopped, readContainer, readMonitor, readStartState,
  removeContainerDir, renameContainer, resetRunFiles, sweepNames, writeStartState, type ContainerRecord, type StartState,
} from '../store/containers.js';
import { withLock } from '../store/lock.js';
import { paths } from '../config.js';
import { inUserns } from '../userns/enter.js';
import { formatMap, rootlessMappings } from '../userns/idmap.js';
import { labelsMatch, parseImageFilters } from '../image/filters.js';
import { containerCgroups, removeCgroupDirs, setFrozen, thawNow } from './cgroup.js';
import { checkContainerName } from './validate.js';
import { userEnv } from './options.js';
import { resolveCapabilities } from './security.js';
import { parseSignal } from './signals.js';
import { containerState, currentBootId, isAbandoned, isMonitor, livePid } from './state.js';
import { processInfo } from '../lib/proc.js';
import { handOver, networkStatus, releaseNetwork, startNetwork } from './network.js';
import { containerEvent } from './events.js';
import { joinSharedNamespaces } from './namespaces.js';
import { ensureMonitorSpec, type OciProcess, type OciSpec } from './spec.js';

function envArray(extra: Record<string, string> = {}): string[] {
  return Object.entries({ ...process.env, ...extra }).map(([k, v]) => `${k}=${v ?? ''}`);
}

async function markStarted(rec: ContainerRecord, detached: boolean, shimPid?: number, st = containerState(rec)): Promise<StartState> {
  if (st.Running) throw new SkiffError('ESTATE', `container ${rec.Name} is already running`);
  // files of an earlier run; a container never started (a fresh `run`) has none
  if (st.Status !== 'created') await resetRunFiles(rec.Id);
  const start: StartState = {
    StartedAt: new Date().toISOString(), BootId: currentBootId(), Detached: detached, ...(shimPid ? { ShimPid: shimPid } : {}),
  };
  await writeStartState(rec.Id, start);
  return start;
}

/** The streams a foreground start shows: `run`'s are the record's (-a, -i); `start -a` shows both outputs, stdin with -i. */
export interface AttachedStreams {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** A `run`'s streams: Config.Attach* (stdin only when the container keeps it open). */
export const recordStreams = (rec: ContainerRecord): AttachedStreams => ({
  stdin: rec.Config.AttachStdin && rec.Config.OpenStdin, stdout: rec.Config.AttachStdout, stderr: rec.Config.AttachStderr,
});

/**
 * Foreground start: this process becomes the shim (execve keeps the pid). Never returns.
 * `beforeExecve`: the caller's last word before the process is replaced (the CLI saves its code cache).
 * Streams not in `streams` are not shown (output still goes to the log; stdin is /dev/null).
 */
export async function startAttached(rec: ContainerRecord, beforeExecve: () => void, streams: AttachedStreams = recordStreams(rec)): Promise<never> {
  mark('created');
  await markStarted(rec, false, process.pid);
  const spec = await joinSharedNamespaces(rec);
  // addresses held by this pid: the shim it becomes (execve keeps the pid and its start time)
  await startNetwork(rec, spec);
  mark('net');
  mark('exec');
  beforeExecve();
  const shown = (['stdin', 'stdout', 'stderr'] as const).filter((k) => streams[k]);
  const attach = shown.length === 3 ? [] : [`--attach=${shown.join(',')}`];
  return native().execve(shimPath(), ['skiff-shim', 'run', ...attach, containerFiles(rec.Id).bundle], envArray());
}

/**
 * Detached start: `skiff-shim run --detach` double-forks the container's monitor and exits once the
 * container runs (0) or failed to start (its one `Error: ...` line and exit code, as a foreground run).
 * Under the container's lock until then, so `rm -f` never races a half-started one; state.json's
 * ShimPid then names the monitor (monitor.json), not the process spawned here. Starting a running
 * container does nothing (Docker's `start`).
 */
export async function startDetached(rec: ContainerRecord, opts: DetachOptions = {}): Promise<void> {
  await startMonitored(rec, false, opts.alone ?? false);
}

export interface DetachOptions {
  /**
   * Nothing else runs in this process meanwhile (a CLI command starting one container): the shim is
   * waited for synchronously. The Engine API's service, compose and kube leave it unset.
   */
  alone?: boolean;
}

/**
 * `run -it`, `start -ai` (a terminal with stdin attached): the container starts under its monitor as
 * `run -d` does, with our end of a socketpair as an attach client from the start (no output is
 * missed); we then attach through it (`attachContainer`): the detach keys leave the container
 * running, and the monitor's exit frame gives the code (also of a --rm container that is gone).
 * Resolves to the exit code, or 0 after a detach.
 */
export async function startInteractive(rec: ContainerRecord, detachKeys: string): Promise<number> {
  const { attachContainer, DETACHED } = await import('./attach.js');
  if (process.stdout.isTTY && process.stdout.rows) await writeFileAtomic(containerFiles(rec.Id).winsize, `${process.stdout.rows} ${process.stdout.columns}\n`, 0o600);
  const front = await startMonitored(rec, true);
  // already running (start -ai): attached as `attach` does (Docker's); a detach ends quietly with 0 (Docker's run and start)
  const code = await attachContainer(rec, { stdin: true, sigProxy: false, detachKeys, ...(front ? { front } : {}) });
  if (code === DETACHED) return 0;
  // Docker's CLI returns once the daemon removed a --rm container: so do we, once its monitor did
  for (let i = 0; i < 500 && rec.HostConfig.AutoRemove && readContainer(rec.Id); i++) await new Promise((r) => setTimeout(r, 20));
  return code;
}

/**
 * `skiff-shim run --detach BUNDLE`, waited for: it exits once the container runs (or failed to start)
 * and its stderr (the monitor keeps none of it) has closed. Synchronously (DetachOptions.alone), by
 * the addon: no streams (node:net sockets, and process.stderr that closing one makes) for the pipe,
 * ~5-8 ms of `run -d`, and no node:child_process (which loads node:net, node:dgram and the streams).
 */
function spawnDetachedSync(bundle: string): { code: number; stderr: string; client?: undefined } {
  const r = native().spawnWait(shimPath(), ['skiff-shim', 'run', '--detach', bundle], envArray());
  return { code: r.status ?? (r.signal ? 125 : 0), stderr: r.stderr };
}

/**
 * The same with the event loop running (a service, several starts at once); with `front` (`run -it`,
 * `start -ai`) fd 4 of the shim is the other end of a socketpair (node's 'pipe'), the monitor's first
 * client; the monitor keeps it, so the shim's end is its exit and its stderr's end.
 */
function spawnDetached(bundle: string, front: boolean): Promise<{ code: number; stderr: string; client?: FrontClient }> {
  return new Promise((resolve, reject) => {
    const child = childProcess().spawn(shimPath(), ['run', '--detach', ...(front ? ['--attach-fd'] : []), bundle], {
      stdio: front ? ['ignore', 'ignore', 'pipe', 'ignore', 'pipe'] : ['ignore', 'ignore', 'pipe'], argv0: 'skiff-shim',
    });
    let err = '';
    let exit: number | undefined;
    let errDone = false;
    const client = front ? { socket: child.stdio[4] as net.Socket, early: [] as Buffer[] } : undefined;
    client?.socket.on('data', (c: Buffer) => client.early.push(c));
    const done = (): void => {
      if (exit !== undefined && errDone) resolve({ code: exit, stderr: err, ...(client ? { client } : {}) });
    };
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stderr!.on('close', () => ((errDone = true), done()));
    child.on('error', reject);
    child.on('exit', (c, sig) => ((exit = c ?? (sig ? 125 : 0)), done()));
  });
}

async function startMonitored(rec: ContainerRecord, front = false, alone = false): Promise<FrontClient | undefined> {
  return withLock(`container-${rec.Id}`, async () => {
    if (!readContainer(rec.Id)) throw new SkiffError('ENOCONTAINER', `No such container: ${rec.Name}`, 1);
    const st = containerState(rec);
    if (st.Running) return undefined;
    // ShimPid: this CLI until the monitor runs (then monitor.json, and ShimPid below, name it): a CLI
    // killed before that leaves no container that looks running
    const start = await markStarted(rec, true, process.pid, st);
    const f = containerFiles(rec.Id);
    // synchronous: `run -d` loads no node:fs/promises and starts no thread pool (docs/design/startup.md)
    fs.mkdirSync(path.dirname(f.attach), { recursive: true, mode: 0o700 });
    const spec = JSON.parse(fs.readFileSync(f.spec, 'utf8')) as OciSpec;
    if (ensureMonitorSpec(spec, rec)) await writeFileAtomic(f.spec, JSON.stringify(spec), 0o644); // created by an older skiff
    const health = activeHealthcheck(rec);
    if (health) {
      // probes run in the container's cgroups, as exec does
      const proc = { ...processFor(spec, { args: health }), ...(rec.CgroupDirs ? { skiffCgroups: rec.CgroupDirs } : {}) };
      await writeFileAtomic(f.healthProcess, JSON.stringify(proc), 0o600);
    }
    let net: Awaited<ReturnType<typeof startNetwork>>;
    try {
      const joined = await joinSharedNamespaces(rec, spec);
      mark('created');
      net = await startNetwork(rec, joined);
      mark('net');
    } catch (e) {
      // nothing ran: the container is as created (Docker's), not running while this process (ShimPid)
      // lives, which for the Engine API's service is for ever
      await fs.promises.rm(f.state, { force: true });
      throw e;
    }
    const { code, stderr, client } = alone && !front ? spawnDetachedSync(f.bundle) : await spawnDetached(f.bundle, front);
    mark('detached');
    if (code !== 0) {
      client?.socket.destroy();
      await releaseNetwork(rec).catch(() => undefined); // the shim undid its part; the addresses are ours
      throw new SkiffError('ERUNTIME', shimMessage(stderr) || `container failed to start (exit ${code})`, code);
    }
    traceShim(stderr);
    if (net.prepared) traceNet(networkStatus(rec)?.timingsUs);
    const mon = readMonitor(rec.Id); // written before the pid file, so present now
    if (mon) {
      await handOver(rec, net, mon.monitorPid);
      // a --rm container may already be gone (its directory too): nothing left to record then
      await writeStartState(rec.Id, { ...start, ShimPid: mon.monitorPid }).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
    }
    return client;
  });
}

/**
 * `run` after `create` (and the Engine API's start): start in the foreground (never returns) or
 * detached. A --rm container that fails to start goes (the shim removes what it started with; this
 * covers a failure before it ran), as Docker's daemon removes it.
 */
export async function runCreated(rec: ContainerRecord, detach: boolean, beforeExecve: () => void, opts: DetachOptions = {}): Promise<void> {
  await removedOnFailure(rec, () => (detach ? startDetached(rec, opts) : startAttached(rec, beforeExecve)));
}

/** `run -it` after `create`: startInteractive (its exit code, 0 after a detach), with runCreated's --rm rule. */
export function runInteractive(rec: ContainerRecord, detachKeys: string): Promise<number> {
  return removedOnFailure(rec, () => startInteractive(rec, detachKeys));
}

async function removedOnFailure<T>(rec: ContainerRecord, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (e) {
    if (rec.HostConfig.AutoRemove) await withLock(`container-${rec.Id}`, () => discard(rec)).catch(() => undefined);
    throw e;
  }
}

/**
 * Remove a container nobody runs any more (under its lock): a stray init killed, the directory and
 * name gone, cgroups a killed shim left removed. Commands that get here (run, ps) do not run in
 * skiff's user namespace: its files are deleted through one (deleteTree).
 */
async function discard(rec: ContainerRecord): Promise<void> {
  await killStray(rec);
  await removeContainerDir(rec.Id, { deleteTree });
  if (rec.CgroupDirs) removeCgroupDirs(rec.CgroupDirs);
}

/**
 * rm -rf of a tree that may hold files of subordinate ids: rootless and outside skiff's user
 * namespace, `rm` runs in one (`skiff-shim unshare`). Never throws: what stays is in a staging
 * entry of this process, which the next sweep removes.
 */
async function deleteTree(dir: string): Promise<void> {
  if (!paths().rootless || inUserns()) {
    await removeTree(dir).catch(() => undefined);
    return;
  }
  const m = rootlessMappings();
  await new Promise<void>((resolve) => {
    const child = childProcess().spawn(shimPath(), ['unshare', formatMap(m.uidMappings), formatMap(m.gidMappings), '--', 'rm', '-rf', '--', dir], {
      stdio: 'ignore', argv0: 'skiff-shim',
    });
    child.on('error', () => resolve());
    child.on('close', () => resolve());
  });
}

/**
 * Remove a --rm container its shim or monitor did not (killed: state.ts isAbandoned); true when it
 * is gone. Whoever sees one calls this (ps, a `run --name` that finds the name taken). A CLI killed
 * while it started the container may also have left a file it was writing (an atomic write's
 * temporary, tmp/<pid>-file-...): the staging of dead processes goes too.
 */
export async function reapAbandoned(id: string): Promise<boolean> {
  const seen = readContainer(id);
  if (!seen) return true;
  if (!isAbandoned(seen) || shimProcessNames(id)) return false;
  const gone = await withLock(`container-${id}`, async () => {
    const rec = readContainer(id);
    if (!rec) return true;
    if (!isAbandoned(rec)) return false;
    await discard(rec);
    return true;
  });
  if (gone) await sweepStaging();
  return gone;
}

/**
 * Whether a shim names the container on its command line (a `skiff-shim run [--detach]` of its
 * bundle): one still starting it, before monitor.json exists (its CLI may have been killed).
 * Read only for a container about to be reaped.
 */
function shimProcessNames(id: string): boolean {
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return false;
  }
  return pids.some((p) => {
    try {
      const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'latin1').split('\0');
      return /(^|\/)skiff-shim$/.test(argv[0] ?? '') && argv.some((a) => a.includes(id)) && pidAlive(Number(p));
    } catch {
      return false;
    }
  });
}

/** The OCI process for one more process in the container (exec, health checks): the init's, with changes. */
function processFor(spec: OciSpec, o: { args: string[]; tty?: boolean; env?: string[]; cwd?: string }): OciProcess & { seccomp?: unknown } {
  return {
    ...spec.process,
    terminal: o.tty ?? false,
    args: o.args,
    env: o.env ?? spec.process.env,
    cwd: o.cwd ?? spec.process.cwd,
    ...(spec.linux.seccomp ? { seccomp: spec.linux.seccomp } : {}),
  };
}

/** `exec`: the shim joins the container's namespaces. Never returns (`beforeExecve`: as for startAttached). */
/** What `exec` runs: the command line and the options of `skiff exec` (and of the API's exec create). */
export interface ExecOptions {
  args: string[];
  tty: boolean;
  interactive: boolean;
  env: string[];
  envFile?: string[];
  user?: string;
  workdir?: string;
  privileged: boolean;
}

/** An exec ready to run: the shim's command line (`skiff-shim exec PID FILE`) and its staging dir. */
export interface PreparedExec {
  args: string[];
  dir: string;
}

/**
 * The process object of an exec (the container's process with the exec's command, env, cwd, user,
 * capabilities and cgroups), written to a staging dir; the container must be running and not paused.
 */
export async function prepareExec(rec: ContainerRecord, opts: ExecOptions): Promise<PreparedExec> {
  const st = containerState(rec);
  if (!st.Running || !st.Pid) throw new SkiffError('ESTATE', `container ${rec.Id} is not running`);
  if (st.Paused) throw new SkiffError('ESTATE', `container ${rec.Id} is paused, unpause the container before exec`, 1);
  const spec = JSON.parse(await fs.promises.readFile(containerFiles(rec.Id).spec, 'utf8')) as OciSpec;
  const proc: OciProcess & { seccomp?: unknown; skiffCgroups?: string[] } = processFor(spec, {
    args: opts.args, tty: opts.tty, env: mergeExecEnv(spec.process.env, userEnv(opts.envFile ?? [], opts.env)), ...(opts.workdir ? { cwd: opts.workdir } : {}),
  });

  const cg = containerCgroups(st.Pid, rec.Id);
  const cgDirs = [...(cg.v2 ? [cg.v2] : []), ...new Set(cg.v1.values())];
  if (cgDirs.length) proc.skiffCgroups = cgDirs;
  if (opts.user !== undefined) {
    const { resolveUser, readLayeredFile } = await import('./passwd.js');
    const { diffDir } = await import('../store/layers.js');
    const diffs = [containerFiles(rec.Id).upper, ...rec.Layers.map(diffDir).reverse()];
    const u = resolveUser(opts.user, (p) => readLayeredFile(diffs, p));
    proc.user = { uid: u.uid, gid: u.gid, ...(u.additionalGids.length ? { additionalGids: u.additionalGids } : {}) };
    if (u.uid !== 0) proc.capabilities = { ...proc.capabilities, effective: [], permitted: [], inheritable: [], ambient: [] };
  }
  // Docker's exec --privileged: every capability for the process, as `run --privileged` gives them
  // (the container's mounts and seccomp profile stay what they are)
  if (opts.privileged) proc.capabilities = resolveCapabilities({ privileged: true, user: proc.user.uid });
  const dir = await makeStagingDir('exec');
  const file = path.join(dir, 'process.json');
  await fs.promises.writeFile(file, JSON.stringify(proc));
  await fs.promises.writeFile(path.join(dir, 'winsize'), ''); // the shim opens it before it enters the container (spawnExec)
  return { args: ['skiff-shim', 'exec', String(st.Pid), file], dir };
}

/**
 * `exec` in the foreground: this process becomes the shim, which runs the process on our stdio.
 * `detachKeys` (exec -it): typed, they leave the process running (the shim's keeper stays its parent).
 */
export async function execInContainer(ref: string, opts: ExecOptions, beforeExecve: () => void, detachKeys?: Buffer): Promise<never> {
  const p = await prepareExec(findContainer(ref), opts);
  // The process file lives in a staging dir named after this pid; execve keeps the pid, so a
  // later sweep removes it once the exec session is over.
  beforeExecve();
  const args = detachKeys?.length ? [p.args[0]!, p.args[1]!, `--detach-keys=${detachKeys.toString('hex')}`, ...p.args.slice(2)] : p.args;
  return native().execve(shimPath(), args, envArray());
}

/**
 * `exec` as a child of this process (the Engine API's exec start): the shim with pipes for stdin
 * (when `stdin`), stdout and stderr (a tty's output comes on stdout); its staging dir goes when it exits.
 */
export function spawnExec(p: PreparedExec, stdin: boolean): ChildProcess {
  const child = childProcess().spawn(shimPath(), p.args.slice(1), {
    argv0: p.args[0], stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: { ...process.env, SKIFF_WINSIZE_FILE: winsizeFile(p) },
  });
  child.once('close', () => void removeTree(p.dir).catch(() => undefined));
  return child;
}

const winsizeFile = (p: PreparedExec): string => path.join(p.dir, 'winsize');

/** A spawned exec's terminal size (its shim reads the file, opened before it entered the container, on SIGWINCH: its stdio are no terminal). */
export function resizeExec(p: PreparedExec, child: ChildProcess, rows: number, cols: number): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  fs.writeFileSync(winsizeFile(p), `${rows} ${cols}\n`);
  child.kill('SIGWINCH');
}

/** The container's environment with the exec's NAME=VALUE entries (userEnv's) over it. */
function mergeExecEnv(base: string[], extra: string[]): string[] {
  const m = new Map(base.map((e) => [e.slice(0, e.indexOf('=')), e] as const));
  for (const e of extra) m.set(e.slice(0, e.indexOf('=')), e);
  return [...m.values()];
}

async function waitGone(rec: ContainerRecord, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (let delay = 5; Date.now() < end; delay = Math.min(delay * 2, 50)) {
    if (!containerState(rec).Running) return true;
    await new Promise((r) => setTimeout(r, delay));
  }
  return !containerState(rec).Running;
}

async function waitPidGone(pid: number | undefined, ms: number): Promise<void> {
  if (pid === undefined) return;
  const end = Date.now() + ms;
  for (let delay = 5; pidAlive(pid) && Date.now() < end; delay = Math.min(delay * 2, 50)) {
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** The monitor of a running container: monitor.json's, else the init's parent if it is our shim. */
function monitorPid(rec: ContainerRecord, initPid: number | undefined): number | undefined {
  const mon = readMonitor(rec.Id);
  if (mon) return mon.monitorPid;
  const shim = readStartState(rec.Id)?.ShimPid;
  if (shim !== undefined && isMonitor(shim, rec.Id)) return shim;
  const ppid = initPid === undefined ? undefined : processInfo(initPid)?.ppid;
  return ppid !== undefined && isMonitor(ppid, rec.Id) ? ppid : undefined;
}

const notRunning = (rec: ContainerRecord): SkiffError => new SkiffError('ESTATE', `container ${rec.Id} is not running`, 1);

/** A monitor waiting to restart its container: wake it so it sees the stop marker at once. */
function wakeMonitor(rec: ContainerRecord): void {
  const m = readMonitor(rec.Id);
  if (!m || !isMonitor(m.monitorPid, rec.Id)) return;
  try {
    process.kill(m.monitorPid, 'SIGTERM');
  } catch {
    /* gone */
  }
}

/**
 * Send a signal to the container's init (a paused one is thawed after SIGKILL, so it dies). A
 * container between an exit and its restart has no init: the monitor is woken instead, to see the
 * stop marker the caller wrote (kill, stop and rm -f end the restart policy).
 */
export async function signalContainer(rec: ContainerRecord, signal: number): Promise<void> {
  const st = containerState(rec);
  if (st.Restarting) {
    markStopped(rec.Id);
    wakeMonitor(rec);
    return;
  }
  if (!st.Running || !st.Pid) throw new SkiffError('ESTATE', `cannot kill container: ${rec.Name}: container ${rec.Id} is not running`, 1);
  try {
    process.kill(st.Pid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
  if (st.Paused && signal === os.constants.signals.SIGKILL) await thaw(rec, st.Pid).catch(() => undefined);
}

/**
 * `kill -s`: the user's stop (the `stopped` marker first: no restart policy applies), then the signal.
 * SIGKILL returns once the container has stopped and its monitor is gone (at most 10 s each), as
 * Docker's kill does: a `start` right after starts it again instead of finding it still running.
 */
export async function killContainer(rec: ContainerRecord, signal: number): Promise<void> {
  const st = containerState(rec);
  if (st.Running) markStopped(rec.Id);
  const waits = st.Running && signal === os.constants.signals.SIGKILL;
  const mon = waits ? monitorPid(rec, st.Pid || undefined) : undefined;
  await signalContainer(rec, signal);
  containerEvent(rec, 'kill', { signal: String(signal) });
  if (waits && (await waitGone(rec, 10_000))) await waitPidGone(mon, 10_000);
}

/**
 * `stop`: STOPSIGNAL (--stop-signal, the image's, else SIGTERM), wait `timeout` seconds
 * (-t, else --stop-timeout, else 10), then SIGKILL. A stopped container stops silently.
 */
export async function stopContainer(rec: ContainerRecord, timeoutSec?: number): Promise<void> {
  const st = containerState(rec);
  if (readStartState(rec.Id)) markStopped(rec.Id);
  if (!st.Running) return killStray(rec);
  const mon = monitorPid(rec, st.Pid || undefined);
  if (st.Restarting) {
    wakeMonitor(rec);
    await waitGone(rec, 10_000);
    return waitPidGone(mon, 10_000);
  }
  const timeout = timeoutSec ?? rec.Config.StopTimeout ?? 10;
  const sig = parseSignal(rec.Config.StopSignal ?? 'SIGTERM');
  await stopRunning(rec, st, mon, timeout, sig);
  containerEvent(rec, 'stop');
}

/** stop's signals and waits (Docker's events: kill with the stop signal, kill again with SIGKILL after the timeout). */
async function stopRunning(rec: ContainerRecord, st: ReturnType<typeof containerState>, mon: number | undefined, timeout: number, sig: number): Promise<void> {
  if (st.Pid && timeout > 0) {
    containerEvent(rec, 'kill', { signal: String(sig) });
    try {
      process.kill(st.Pid, sig);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
    if (st.Paused) await thaw(rec, st.Pid).catch(() => undefined); // the signal is delivered once it runs
    if (await waitGone(rec, timeout * 1000)) return waitPidGone(mon, 10_000);
  }
  containerEvent(rec, 'kill', { signal: String(os.constants.signals.SIGKILL) });
  await signalContainer(rec, os.constants.signals.SIGKILL).catch(() => undefined);
  await waitGone(rec, 10_000);
  await waitPidGone(mon, 10_000);
}

/** An init that outlived its monitor (state "exited"): killed when the container is stopped or removed. */
async function killStray(rec: ContainerRecord): Promise<void> {
  const pid = livePid(rec.Id);
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await waitPidGone(pid, 10_000);
}

/** `rm`: refuses a running container unless forced (then kills it first); `volumes`: its anonymous volumes go too (`rm -v`). */
export async function removeContainer(ref: string, opts: { force: boolean; volumes?: boolean; stopTimeout?: number }): Promise<string> {
  const rec = findContainer(ref);
  // Podman's rm -f -t N: a running container is stopped as `stop -t N` would, not killed at once
  if (opts.force && opts.stopTimeout !== undefined && containerState(rec).Running) await stopContainer(rec, opts.stopTimeout);
  await withLock(`container-${rec.Id}`, async () => {
    const st = containerState(rec);
    if (st.Running) {
      if (!opts.force) {
        throw new SkiffError('ESTATE', `cannot remove container "/${rec.Name}": container is running: stop the container before removing or force remove`, 1);
      }
      markStopped(rec.Id);
      const mon = monitorPid(rec, st.Pid || undefined);
      await signalContainer(rec, os.constants.signals.SIGKILL).catch(() => undefined);
      await waitGone(rec, 10_000);
      await waitPidGone(mon, 10_000);
    }
    await killStray(rec);
    await releaseNetwork(rec);
    if (readContainer(rec.Id)) await removeContainerDir(rec.Id);
    if (rec.CgroupDirs) removeCgroupDirs(rec.CgroupDirs); // left by a monitor that was killed
    containerEvent(rec, 'destroy');
  });
  if (opts.volumes) await removeAnonymousVolumes(rec);
  return rec.Id;
}

// ---- pause, wait, restart, rename, prune --------------------------------------------------------------

function noCgroupReason(rec: ContainerRecord): string {
  return rec.Rootless
    ? `container ${rec.Id} has no cgroup of its own: rootless containers get one only when the user's cgroup v2 group is delegated (writable), as systemd's user@.service does`
    : `container ${rec.Id} has no cgroup of its own`;
}

async function thaw(rec: ContainerRecord, pid: number): Promise<void> {
  await setFrozen(containerCgroups(pid, rec.Id), false, noCgroupReason(rec));
}

/** `pause`: freeze every process of the container (cgroup v2 cgroup.freeze, else the v1 freezer). */
export async function pauseContainer(rec: ContainerRecord): Promise<void> {
  const st = containerState(rec);
  if (st.Restarting) throw new SkiffError('ESTATE', `container ${rec.Id} is restarting, wait until the container is running`, 1);
  if (!st.Running || !st.Pid) throw notRunning(rec);
  if (st.Paused) throw new SkiffError('ESTATE', `container ${rec.Id} is already paused`, 1);
  await setFrozen(containerCgroups(st.Pid, rec.Id), true, `cannot pause: ${noCgroupReason(rec)}`);
  containerEvent(rec, 'pause');
}

export async function unpauseContainer(rec: ContainerRecord): Promise<void> {
  const st = containerState(rec);
  if (!st.Paused || !st.Pid) throw new SkiffError('ESTATE', `container ${rec.Id} is not paused`, 1);
  await thaw(rec, st.Pid);
  containerEvent(rec, 'unpause');
}

/**
 * Run `fn` with the running container frozen (as Docker pauses a container during `cp`), so none of
 * its processes changes its files meanwhile; thawed after, whatever `fn` did. A container without a
 * freezer (rootless without a delegated cgroup) runs on: `fn` must be safe without it.
 * Never left frozen: `freeze-holder` names this process before the freeze (state.c thaws a container
 * whose holder is gone: a SIGKILL), and SIGINT/SIGTERM/SIGHUP thaw before this process dies of them.
 */
export async function whileFrozen<T>(rec: ContainerRecord, fn: () => Promise<T>): Promise<T> {
  const st = containerState(rec);
  if (!st.Running || st.Paused || !st.Pid) return fn();
  const cg = containerCgroups(st.Pid, rec.Id);
  const holder = containerFiles(rec.Id).freezeHolder;
  const release = (): void => fs.rmSync(holder, { force: true });
  const onSignal = (sig: NodeJS.Signals): void => {
    thawNow(cg);
    release();
    for (const s of HOLD_SIGNALS) process.removeAllListeners(s);
    process.kill(process.pid, sig); // die of it, as without us
  };
  const unhold = (): void => {
    for (const s of HOLD_SIGNALS) process.off(s, onSignal);
    release();
  };
  let frozen = false;
  try {
    fs.writeFileSync(holder, String(process.pid));
    for (const s of HOLD_SIGNALS) process.on(s, onSignal);
    await setFrozen(cg, true, noCgroupReason(rec));
    frozen = true;
  } catch {
    thawNow(cg); // a freeze that did not finish in time is undone; without a freezer: see above
    unhold();
  }
  try {
    return await fn();
  } finally {
    try {
      if (frozen) await thaw(rec, st.Pid);
    } finally {
      // a signal that came during synchronous work is dispatched in the next poll phase: let it reach onSignal
      if (frozen) await new Promise((r) => setImmediate(r));
      if (frozen) unhold();
    }
  }
}

const HOLD_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** `wait`: block until the container is not running; its exit code. */
export async function waitContainer(rec: ContainerRecord): Promise<number> {
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    if (!readContainer(rec.Id)) throw new SkiffError('ENOCONTAINER', `No such container: ${rec.Name}`, 1);
    const st = containerState(rec);
    if (!st.Running) return st.ExitCode;
    await new Promise((r) => setTimeout(r, delay));
  }
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/**
 * The Engine API's wait: `not-running` (as `wait`), `next-exit` (the exit of a start after this call,
 * or of the current run), `removed` (the container is gone; its last exit code). The exit of a --rm
 * container is read through a descriptor of its directory, which stays valid while the monitor
 * moves the directory away to delete it. `cancelled` ends the wait early (a client that left).
 */
export async function waitContainerCondition(rec: ContainerRecord, condition: WaitCondition, cancelled: () => boolean = () => false): Promise<number> {
  const f = containerFiles(rec.Id);
  let dirFd: number | undefined;
  try {
    dirFd = fs.openSync(f.dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch {
    throw new SkiffError('ENOCONTAINER', `No such container: ${rec.Name}`, 1);
  }
  const exitViaFd = (): number | undefined => {
    try {
      return (JSON.parse(fs.readFileSync(`/proc/self/fd/${dirFd}/${path.basename(f.exit)}`, 'utf8')) as { exitCode: number }).exitCode;
    } catch {
      return undefined;
    }
  };
  const startedAt = readStartState(rec.Id)?.StartedAt;
  let sawRun = false;
  let last: number | undefined;
  // a --rm container's exit.json lives only until the monitor deletes the directory: read it as it appears
  let watcher: fs.FSWatcher | undefined;
  try {
    watcher = fs.watch(f.dir, (_ev, name) => {
      if (name === path.basename(f.exit)) last = exitViaFd() ?? last;
    });
    watcher.on('error', () => undefined);
  } catch {
    /* gone already */
  }
  try {
    for (let delay = 5; !cancelled(); delay = Math.min(delay * 2, 100)) {
      const gone = !readContainer(rec.Id);
      if (gone) {
        if (condition === 'removed' || sawRun || condition === 'next-exit') return last ?? exitViaFd() ?? 0;
        throw new SkiffError('ENOCONTAINER', `No such container: ${rec.Name}`, 1);
      }
      const st = containerState(rec);
      if (st.Running) sawRun = true;
      else {
        const restarted = readStartState(rec.Id)?.StartedAt !== startedAt;
        const exitedSince = sawRun || restarted;
        if (exitedSince || condition === 'not-running') last = st.ExitCode;
        if (condition === 'not-running' || (condition === 'next-exit' && exitedSince)) return st.ExitCode;
      }
      await new Promise((r) => setTimeout(r, delay));
    }
    return last ?? 0;
  } finally {
    watcher?.close();
    fs.closeSync(dirFd);
  }
}

/** `restart`: stop (as `stop -t`), then start detached. */
export async function restartContainer(rec: ContainerRecord, timeoutSec?: number): Promise<void> {
  await stopContainer(rec, timeoutSec);
  await startDetached(rec);
  containerEvent(rec, 'restart');
}

export async function renameContainerTo(ref: string, newName: string): Promise<void> {
  const rec = findContainer(ref);
  const name = newName.replace(/^\//, '');
  checkContainerName(name, newName);
  if (name === rec.Name) throw new SkiffError('EINVAL', 'Renaming a container with the same name as its current name');
  await renameContainer(rec.Id, name);
  containerEvent({ ...rec, Name: name }, 'rename', { oldName: `/${rec.Name}` });
}

/** `container prune`: remove every container that is not running (filters: until=, label=). */
export async function pruneContainers(filters: string[]): Promise<{ deleted: string[]; reclaimed: number }> {
  const f = parseImageFilters(filters, ['until', 'label']);
  const deleted: string[] = [];
  let reclaimed = 0;
  for (const rec of listContainers()) {
    if (f.until !== undefined && Date.parse(rec.Created) >= f.until) continue;
    if (!labelsMatch(f.label, rec.Config.Labels)) continue;
    await withLock(`container-${rec.Id}`, async () => {
      if (!readContainer(rec.Id) || containerState(rec).Running) return;
      const size = treeSize(containerFiles(rec.Id).upper);
      await killStray(rec);
      await removeContainerDir(rec.Id);
      if (rec.CgroupDirs) removeCgroupDirs(rec.CgroupDirs);
      deleted.push(rec.Id);
      reclaimed += size;
      containerEvent(rec, 'destroy');
    });
  }
  await sweepNames(); // links of containers removed without their name (by an older skiff)
  return { deleted, reclaimed };
}
