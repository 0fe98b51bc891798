/**
 * RUN: the command runs through the same shim as `skiff run`, on an overlay of the stage's layers
 * with a fresh upper dir under tmp/, which becomes the step's diff. Mount points the runtime had
 * to create in the image (/proc, /sys, /dev, /etc/hosts, ...) are removed again when they were not
 * there before, as BuildKit does, so they do not end up in the layer.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { paths } from '../config.js';
import { SkiffError } from '../errors.js';
import { planStepCgroups } from '../container/cgroup.js';
import { resolveUser } from '../container/passwd.js';
import { parseSecurityOpts } from '../container/security.js';
import { buildSpec, type SpecFiles } from '../container/spec.js';
import { shimPath } from '../native.js';
import type { NetworkPlan } from '../network/plan.js';
import type { ContainerRecord, MountPoint } from '../store/containers.js';
import type { LayeredTree } from './tree.js';

export interface RunStep {
  argv: string[];
  env: string[];
  user: string;
  workdir: string;
  /** default: the store's default network as Docker's RUN gets (a bridge rootful, pasta rootless) */
  network: 'none' | 'host' | 'default';
  /** Chain ids of the stage's layers, bottom first. */
  layers: string[];
  /** overlay lower dirs for them (top first) */
  lower: string[];
  root: LayeredTree;
  /** A fresh directory under tmp/ for this step. */
  dir: string;
  /** Where the command's output goes. */
  output: Writable;
  /** Kills the step when aborted (the build was cancelled). */
  signal?: AbortSignal;
  /** RUN --mount binds and tmpfs mounts (their targets are removed again if they were made for them). */
  mounts: MountPoint[];
  /** --add-host lines ("IP\tNAME") appended to /etc/hosts. */
  extraHosts?: string[];
  /** --ulimit and --shm-size (the container record's fields, as `run` sets them). */
  limits?: Pick<ContainerRecord['HostConfig'], 'Ulimits' | 'ShmSize'>;
  /** RUN --security=insecure (with --allow security.insecure): the container is `run --privileged`'s. */
  privileged?: boolean;
}

const hostname = 'buildkitsandbox';
const STUBS = ['proc', 'sys', 'dev', 'etc/hosts', 'etc/hostname', 'etc/resolv.conf', 'etc'];

/** Runs the step; resolves with the exit code and the upper dir (the diff) when it is 0. */
export async function runStep(s: RunStep): Promise<{ code: number; diff: string }> {
  const f: SpecFiles = {
    dir: s.dir,
    rootfs: path.join(s.dir, 'bundle', 'rootfs'),
    upper: path.join(s.dir, 'upper'),
    work: path.join(s.dir, 'work'),
    hosts: path.join(s.dir, 'hosts'),
    hostname: path.join(s.dir, 'hostname'),
    resolv: path.join(s.dir, 'resolv.conf'),
    exit: path.join(s.dir, 'exit.json'),
    pid: path.join(s.dir, 'pid'),
  };
  await fsp.mkdir(f.rootfs, { recursive: true });
  await fsp.mkdir(f.upper, { mode: 0o755 });
  await fsp.mkdir(f.work, { mode: 0o700 });
  await fsp.writeFile(f.hostname, `${hostname}\n`, { mode: 0o644 });
  await fsp.writeFile(f.hosts, `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t${hostname}\n${(s.extraHosts ?? []).map((l) => l + '\n').join('')}`, { mode: 0o644 });
  // a network id of its own (interface and lease names are made from it)
  const networked = s.network === 'default';
  const id = networked ? randomBytes(32).toString('hex') : path.basename(s.dir);
  const net = networked ? await stepNetwork(id) : undefined;
  try {
    await fsp.writeFile(f.resolv, s.network === 'host' ? readOr('/etc/resolv.conf') : (net?.resolv ?? ''), { mode: 0o644 });
    return await runIn(s, f, id, net?.plan);
  } finally {
    await net?.release();
  }
}

/**
 * RUN on the default network: the backend's plan for the step (addresses held by this process, so
 * a killed build leaves a lease the next sweep frees), executed by the shim; the step's resolv.conf.
 */
async function stepNetwork(id: string): Promise<{ plan: NetworkPlan; resolv: string; release: () => Promise<void> }> {
  const [{ backendFor }, { defaultNetwork }, { holderOf }, rs] = await Promise.all([
    import('../network/backends.js'), import('../network/store.js'), import('../network/ipam.js'), import('../network/resolv.js'),
  ]);
  const backend = await backendFor();
  await backend.sweep();
  const prepared = await backend.prepare({ containerId: id, name: hostname, networks: [{ network: await defaultNetwork(), aliases: [] }], forwards: [], holder: holderOf() });
  const release = () => backend.teardown(id);
  try {
    const hostPath = rs.hostResolvPath();
    const host = rs.parseResolvConf(readOr(hostPath), hostPath);
    const { mode, internalNs } = prepared.resolv;
    const resolv = rs.containerResolvConf(host, { mode, ...(internalNs ? { internalNs } : {}), dns: [], dnsSearch: [], dnsOptions: [], ipv6: false }).content;
    return { plan: prepared.plan, resolv, release };
  } catch (e) {
    await release().catch(() => undefined);
    throw e;
  }
}

async function runIn(s: RunStep, f: SpecFiles, id: string, plan: NetworkPlan | undefined): Promise<{ code: number; diff: string }> {
  let lower = s.lower;
  if (lower.length === 0) {
    const empty = path.join(s.dir, 'empty');
    await fsp.mkdir(empty, { mode: 0o755 });
    lower = [empty];
  }
  const user = resolveUser(s.user, (p) => s.root.readFile(p));
  const rec: ContainerRecord = {
    Id: id,
    Name: path.basename(s.dir),
    Created: new Date().toISOString(),
    Path: s.argv[0]!,
    Args: s.argv.slice(1),
    Image: '',
    ImageName: '',
    Config: {
      Hostname: hostname, Domainname: '', User: s.user, AttachStdin: false, AttachStdout: true, AttachStderr: true,
      Tty: false, OpenStdin: false, Env: s.env, Cmd: null, Image: '', Volumes: null, WorkingDir: s.workdir,
      Entrypoint: null, Labels: {},
    },
    HostConfig: {
      Binds: null, NetworkMode: s.network === 'host' ? 'host' : plan ? 'bridge' : 'none', AutoRemove: false, Privileged: s.privileged ?? false, CapAdd: null,
      CapDrop: null, ReadonlyRootfs: false, SecurityOpt: null, Init: false, MaskedPaths: [], ReadonlyPaths: [], Tmpfs: null,
      ...s.limits,
    },
    Mounts: s.mounts,
    Rootless: false,
    Layers: s.layers,
  };
  // the device policy needs cgroups of its own (the shim removes them when the step ends; the next
  // build sweeps those of a killed one by the pid in their name)
  const cgroups = planStepCgroups(`${process.pid}-${path.basename(s.dir)}`, paths().rootless);
  const spec = buildSpec({ rec, user, env: s.env, security: parseSecurityOpts([]), files: f, lower, cgroups });
  spec.skiff.dieWithParent = true; // a killed build takes its RUN with it
  delete spec.skiff.events; // a build step is no container of the store: no events (as BuildKit's)
  delete spec.skiff.monitor.logFile; // nor a container log: its output goes to the build's progress
  if (plan) spec.skiff.network = plan;
  await fsp.writeFile(path.join(s.dir, 'bundle', 'config.json'), JSON.stringify(spec));
  // mount targets and the parents made for them, deepest first
  const targets = s.mounts.flatMap((m) => {
    const parts = s.root.resolve(m.Destination.replace(/^\/+/, '')).split('/');
    return parts.map((_, i) => parts.slice(0, parts.length - i).join('/'));
  });
  const stubs = [...new Set([...targets, ...STUBS])].filter(Boolean);
  const before = new Set(stubs.filter((p) => s.root.entry(p) !== undefined));
  let interrupted: NodeJS.Signals | undefined;
  let cancelled = false;
  const handlers: [NodeJS.Signals, () => void][] = [];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(shimPath(), ['run', path.join(s.dir, 'bundle')], { stdio: ['ignore', 'pipe', 'pipe'], argv0: 'skiff-shim' });
    // an interrupted build kills its RUN (as BuildKit cancels a step: a PID 1 ignores SIGTERM) and cleans up
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      const h = (): void => {
        interrupted = sig;
        child.kill('SIGKILL'); // the container's init dies with the shim (parent-death signal)
      };
      process.on(sig, h);
      handlers.push([sig, h]);
    }
    const cancel = (): void => {
      cancelled = true;
      child.kill('SIGKILL');
    };
    if (s.signal?.aborted) cancel();
    s.signal?.addEventListener('abort', cancel, { once: true });
    child.once('close', () => s.signal?.removeEventListener('abort', cancel));
    child.stdout.pipe(s.output, { end: false });
    child.stderr.pipe(s.output, { end: false });
    child.on('error', reject);
    child.on('close', (c, sig) => resolve(c ?? 128 + (sig ? os.constants.signals[sig] : 0)));
  }).finally(() => {
    for (const [sig, h] of handlers) process.off(sig, h);
  });
  if (interrupted) throw new SkiffError('ERUNTIME', `build interrupted by ${interrupted}`, 128 + os.constants.signals[interrupted]);
  if (cancelled) throw new SkiffError('ERUNTIME', 'build cancelled');
  await fsp.rm(f.work, { recursive: true, force: true });
  if (code === 0) removeStubs(f.upper, stubs, before);
  return { code, diff: f.upper };
}

function readOr(p: string): string {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

/** Remove mount points the runtime created (empty files and dirs that were not in the image). */
function removeStubs(upper: string, candidates: string[], existed: Set<string>): void {
  for (const rel of candidates) {
    if (existed.has(rel)) continue;
    const p = path.join(upper, rel);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory() ? fs.readdirSync(p).length === 0 : st.isFile() && st.size === 0) fs.rmSync(p, { recursive: true });
  }
}
