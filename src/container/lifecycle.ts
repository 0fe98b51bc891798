/**
 * Starting, exec'ing into and removing containers. Everything between fork and exec happens in
 * the native shim: a foreground start replaces this Node process with the shim (execve), so the
 * container's exit code and signals pass straight through with nothing else on the path.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { childProcess } from '../lazy.js';
import { mark } from '../trace.js';
import { native, shimPath } from '../native.js';
import { makeStagingDir, writeFileAtomic } from '../store/atomic.js';
import {
  containerFiles, findContainer, markStopped, readContainer, readMonitor, removeContainerDir, resetRunFiles, writeStartState,
  type ContainerRecord,
} from '../store/containers.js';
import { withLock } from '../store/lock.js';
import { containerState, currentBootId } from './state.js';
import { activeHealthcheck, ensureMonitorSpec, type OciProcess, type OciSpec } from './spec.js';

function envArray(extra: Record<string, string> = {}): string[] {
  return Object.entries({ ...process.env, ...extra }).map(([k, v]) => `${k}=${v ?? ''}`);
}

async function markStarted(rec: ContainerRecord, detached: boolean): Promise<void> {
  const st = containerState(rec);
  if (st.Running) throw new SkiffError('ESTATE', `container ${rec.Name} is already running`);
  await resetRunFiles(rec.Id);
  await writeStartState(rec.Id, { StartedAt: new Date().toISOString(), BootId: currentBootId(), Detached: detached });
}

/** Foreground start: this process becomes the shim. Never returns. */
export async function startAttached(rec: ContainerRecord): Promise<never> {
  mark('created');
  await markStarted(rec, false);
  mark('exec');
  return native().execve(shimPath(), ['skiff-shim', 'run', containerFiles(rec.Id).bundle], envArray());
}

/**
 * Detached start: `skiff-shim run --detach` double-forks the container's monitor and exits once the
 * container runs (0) or failed to start (its one `Error: ...` line and exit code, as a foreground run).
 */
export async function startDetached(rec: ContainerRecord): Promise<void> {
  await markStarted(rec, true);
  const f = containerFiles(rec.Id);
  await fsp.mkdir(path.dirname(f.attach), { recursive: true, mode: 0o700 });
  const spec = JSON.parse(await fsp.readFile(f.spec, 'utf8')) as OciSpec;
  if (ensureMonitorSpec(spec, rec)) await writeFileAtomic(f.spec, JSON.stringify(spec), 0o644); // created by an older skiff
  const health = activeHealthcheck(rec);
  if (health) await writeFileAtomic(f.healthProcess, JSON.stringify(processFor(spec, { args: health })), 0o600);
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve, reject) => {
    const child = childProcess().spawn(shimPath(), ['run', '--detach', f.bundle], { stdio: ['ignore', 'ignore', 'pipe'], argv0: 'skiff-shim' });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (c, sig) => resolve({ code: c ?? (sig ? 125 : 0), stderr: err }));
  });
  if (code !== 0) {
    const line = stderr.trim().split('\n').pop() ?? '';
    throw new SkiffError('ERUNTIME', line.replace(/^Error: /, '') || `container failed to start (exit ${code})`, code);
  }
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

/** `exec`: the shim joins the container's namespaces. Never returns. */
export async function execInContainer(
  ref: string,
  opts: { args: string[]; tty: boolean; interactive: boolean; env: string[]; user?: string; workdir?: string; privileged: boolean },
): Promise<never> {
  const rec = findContainer(ref);
  const st = containerState(rec);
  if (!st.Running || !st.Pid) throw new SkiffError('ESTATE', `container ${rec.Id} is not running`);
  if (st.Paused) throw new SkiffError('ESTATE', `container ${rec.Id} is paused, unpause the container before exec`);
  const spec = JSON.parse(await fsp.readFile(containerFiles(rec.Id).spec, 'utf8')) as OciSpec;
  const proc = processFor(spec, {
    args: opts.args, tty: opts.tty, env: mergeExecEnv(spec.process.env, opts.env), ...(opts.workdir ? { cwd: opts.workdir } : {}),
  });
  if (opts.user !== undefined) {
    const { resolveUser, readLayeredFile } = await import('./passwd.js');
    const { diffDir } = await import('../store/layers.js');
    const diffs = [containerFiles(rec.Id).upper, ...rec.Layers.map(diffDir).reverse()];
    const u = resolveUser(opts.user, (p) => readLayeredFile(diffs, p));
    proc.user = { uid: u.uid, gid: u.gid, ...(u.additionalGids.length ? { additionalGids: u.additionalGids } : {}) };
    if (u.uid !== 0) proc.capabilities = { ...proc.capabilities, effective: [], permitted: [], inheritable: [], ambient: [] };
  }
  // The process file lives in a staging dir named after this pid; execve keeps the pid, so a
  // later sweep removes it once the exec session is over.
  const dir = await makeStagingDir('exec');
  const file = path.join(dir, 'process.json');
  await fsp.writeFile(file, JSON.stringify(proc));
  return native().execve(shimPath(), ['skiff-shim', 'exec', String(st.Pid), file], envArray());
}

function mergeExecEnv(base: string[], extra: string[]): string[] {
  const m = new Map(base.map((e) => [e.slice(0, e.indexOf('=')), e] as const));
  for (const e of extra) {
    const eq = e.indexOf('=');
    if (eq < 0) {
      const v = process.env[e];
      if (v !== undefined) m.set(e, `${e}=${v}`);
    } else m.set(e.slice(0, eq), e);
  }
  return [...m.values()];
}

async function waitGone(rec: ContainerRecord, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!containerState(rec).Running) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return !containerState(rec).Running;
}

/** A monitor waiting to restart its container: wake it so it sees the stop marker at once. */
function wakeMonitor(rec: ContainerRecord): void {
  const m = readMonitor(rec.Id);
  if (!m) return;
  try {
    process.kill(m.monitorPid, 'SIGTERM');
  } catch {
    /* gone */
  }
}

/** Send a signal to the container's init. Like Docker's kill, it ends the restart policy. */
export async function signalContainer(rec: ContainerRecord, signal: NodeJS.Signals | number): Promise<void> {
  const st = containerState(rec);
  if (st.Restarting) {
    markStopped(rec.Id);
    wakeMonitor(rec);
    return;
  }
  if (!st.Running || !st.Pid) throw new SkiffError('ESTATE', `cannot kill container: ${rec.Name}: container ${rec.Id} is not running`);
  markStopped(rec.Id);
  try {
    process.kill(st.Pid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/** `stop`: STOPSIGNAL (default SIGTERM), wait `timeout` seconds, then SIGKILL. */
export async function stopContainer(rec: ContainerRecord, timeoutSec: number): Promise<void> {
  const st = containerState(rec);
  if (!st.Running) return;
  if (st.Restarting) {
    await signalContainer(rec, 'SIGKILL');
    await waitGone(rec, 10_000);
    return;
  }
  const sig = (rec.Config.StopSignal ?? 'SIGTERM').toUpperCase();
  await signalContainer(rec, /^\d+$/.test(sig) ? Number(sig) : ((sig.startsWith('SIG') ? sig : `SIG${sig}`) as NodeJS.Signals));
  if (await waitGone(rec, timeoutSec * 1000)) return;
  await signalContainer(rec, 'SIGKILL').catch(() => undefined);
  await waitGone(rec, 10_000);
}

/** `rm`: refuses a running container unless forced (then kills it first). */
export async function removeContainer(ref: string, opts: { force: boolean }): Promise<string> {
  const rec = findContainer(ref);
  await withLock(`container-${rec.Id}`, async () => {
    const st = containerState(rec);
    if (st.Running) {
      if (!opts.force) {
        throw new SkiffError('ESTATE', `cannot remove container "${rec.Name}": container is running: stop the container before removing or force remove`);
      }
      await signalContainer(rec, 'SIGKILL').catch(() => undefined);
      await waitGone(rec, 10_000);
    }
    if (readContainer(rec.Id)) await removeContainerDir(rec.Id);
  });
  return rec.Id;
}
