/**
 * `kube play` / `kube down`: carries out a KubePlan (play.ts) with skiff's own containers and volumes.
 * This is the kube domain's executor (as compose/engine is compose's): the rest of src/kube is pure.
 *
 * A pod is an infra container (`POD-infra`, skiff-init --pause, as Kubernetes' pause container) that
 * holds the pod's network namespace, its hostname and its published ports (the pod's hostPorts and the
 * Services that select it); its init containers (run to completion, in order) and its containers join
 * that network (`--network container:POD-infra`), so they reach each other on localhost. Every container
 * carries the pod's labels and `io.skiff.kube.pod=POD` (so `ps --filter label=...` shows the pod).
 * PersistentVolumeClaims are named volumes (kept by `down`, removed with --force); emptyDir and the
 * files of configMap/secret volumes are volumes of the pod (`POD-VOLUME`), removed with it.
 * A play that fails removes what it made; a pod that exists already is refused without `replace`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import type { ContainerRecord } from '../store/containers.js';
import type { CreateOptions } from '../container/create.js';
import type { PullFn } from '../image/progress.js';
import { hostPathCheck } from './volumes.js';
import type { KubePlan, PlannedContainer, PlannedPod } from './play.js';
import type { MountSpec } from './model.js';

/** The labels skiff puts on what `kube play` makes. */
export const KUBE_LABELS = {
  /** The pod a container or pod volume belongs to. */
  pod: 'io.skiff.kube.pod',
  /** infra | init | container */
  role: 'io.skiff.kube.role',
  /** The absolute path of the played file ('-' for stdin). */
  file: 'io.skiff.kube.file',
} as const;

export interface KubeReporter {
  /** One line of progress (stderr). */
  event(text: string): void;
  warn(text: string): void;
}

export interface PlayRunOptions {
  replace: boolean;
  /** The file's absolute path, or '-'. */
  file: string;
  pull: PullFn;
}

/** What a play made, to undo on failure (containers by id, volumes by name). */
interface Made {
  containers: string[];
  volumes: string[];
}

const infraName = (pod: string): string => `${pod}-infra`;
const goNs = (ns: number | undefined): string | undefined => (ns === undefined || ns === 0 ? undefined : `${ns}ns`);
const safeRelative = (p: string): boolean => p !== '' && !p.startsWith('/') && !p.split('/').includes('..') && !p.includes('\0');

async function podContainers(pods: readonly string[]): Promise<ContainerRecord[]> {
  const { listContainers } = await import('../store/containers.js');
  const wanted = new Set(pods);
  return listContainers().filter((c) => wanted.has(c.Config.Labels?.[KUBE_LABELS.pod] ?? ''));
}

async function removeQuietly(id: string): Promise<void> {
  const { removeContainer } = await import('../container/lifecycle.js');
  await removeContainer(id, { force: true }).catch((e: unknown) => {
    if (!(e instanceof SkiffError && e.code === 'ENOCONTAINER')) throw e;
  });
}

async function removeVolumeQuietly(name: string): Promise<void> {
  const { removeVolume } = await import('../volume/volumes.js');
  await removeVolume(name, true, () => false);
}

/** The data directory of a local volume (where play writes a configMap's files). */
async function volumeData(name: string): Promise<string> {
  const { findVolume, volumeSource } = await import('../volume/volumes.js');
  const src = volumeSource(findVolume(name));
  if (src.kind !== 'bind') throw new SkiffError('EINVAL', `volume ${name} is a tmpfs volume: kube play needs a volume on disk`);
  return src.path;
}

/** A path inside `root` (subPath): refused when it climbs out or resolves (symlinks) outside it. */
function inside(root: string, sub: string, what: string): string {
  if (!safeRelative(sub)) throw new SkiffError('EINVAL', `${what}: subPath ${JSON.stringify(sub)} must be a relative path that does not contain '..'`);
  const p = path.join(root, sub);
  if (!fs.existsSync(p)) fs.mkdirSync(p, { recursive: true, mode: 0o755 });
  const real = fs.realpathSync(p);
  const realRoot = fs.realpathSync(root);
  if (real !== realRoot && !real.startsWith(`${realRoot}/`)) throw new SkiffError('EINVAL', `${what}: subPath ${JSON.stringify(sub)} leads outside its volume`);
  return real;
}

function hostPath(m: Extract<MountSpec, { type: 'bind' }>): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(m.source);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new SkiffError('EINVAL', `hostPath ${m.source}: ${(e as Error).message}`);
  }
  const check = hostPathCheck(m.hostPathType, m.source, st);
  if (typeof check === 'object') throw new SkiffError('EINVAL', check.error);
  if (check === 'mkdir') fs.mkdirSync(m.source, { recursive: true, mode: 0o755 });
  else if (check === 'create-file') {
    fs.mkdirSync(path.dirname(m.source), { recursive: true, mode: 0o755 });
    fs.closeSync(fs.openSync(m.source, 'a', 0o644));
  }
}

/** A mount of the plan as `--mount` text (subPaths as binds of the directory inside the volume). */
async function mountText(m: MountSpec, container: string): Promise<string | undefined> {
  const ro = 'readOnly' in m && m.readOnly ? ',readonly' : '';
  switch (m.type) {
    case 'volume':
    case 'files': {
      const name = m.type === 'volume' ? m.name : m.volume;
      if (m.subPath) return `type=bind,source=${inside(await volumeData(name), m.subPath, `container ${container}: ${m.target}`)},target=${m.target}${ro}`;
      return `type=volume,source=${name},target=${m.target}${ro}`;
    }
    case 'bind': {
      hostPath(m);
      const source = m.subPath ? inside(m.source, m.subPath, `container ${container}: ${m.target}`) : m.source;
      return `type=bind,source=${source},target=${m.target}${ro}`;
    }
    case 'tmpfs':
      return `type=tmpfs,target=${m.target}${m.sizeBytes ? `,tmpfs-size=${m.sizeBytes}` : ''}${m.mode !== undefined ? `,tmpfs-mode=${m.mode.toString(8)}` : ''}`;
    case 'anonymous':
      return `type=volume,target=${m.target}${ro}`;
  }
}

function baseOptions(pod: PlannedPod, name: string, image: string, role: 'infra' | 'init' | 'container', file: string, labels: Record<string, string>): CreateOptions {
  return {
    image,
    command: [],
    name,
    env: [],
    envFile: [],
    tty: false,
    interactive: false,
    rm: false,
    volumes: [],
    mounts: [],
    tmpfs: [],
    privileged: false,
    devices: [],
    deviceCgroupRules: [],
    capAdd: [],
    capDrop: [],
    securityOpt: [],
    readOnly: false,
    init: false,
    labels: Object.entries({ ...labels, [KUBE_LABELS.pod]: pod.name, [KUBE_LABELS.role]: role, [KUBE_LABELS.file]: file }).map(([k, v]) => `${k}=${v}`),
    pull: 'never',
    logOpts: [],
    health: { none: false },
    network: [],
    aliases: [],
    dns: [],
    dnsSearch: [],
    dnsOptions: [],
    addHost: [],
    publish: [],
    publishAll: false,
    expose: [],
  };
}

/** The infra container: skiff-init --pause in the first container's image, holding the pod's network, hostname and ports. */
function infraOptions(pod: PlannedPod, file: string): CreateOptions {
  const image = (pod.initContainers[0] ?? pod.containers[0])!.image;
  const o = baseOptions(pod, infraName(pod.name), image, 'infra', file, pod.labels);
  // skiff-init is mounted at /dev/init by --init: it runs itself in pause mode
  o.init = true;
  o.entrypoint = ['/dev/init'];
  o.command = ['--pause'];
  o.network = pod.hostNetwork ? ['host'] : [];
  o.ipc = 'shareable'; // the pod's containers join it (Podman's infra: shareable)
  if (!pod.hostNetwork) o.hostname = pod.hostname;
  o.addHost = [...pod.extraHosts];
  if (pod.dns) {
    o.dns = pod.dns.nameservers;
    o.dnsSearch = pod.dns.searches;
    o.dnsOptions = pod.dns.options;
  }
  o.publish = pod.ports.map((p) => {
    const host = p.hostIp ? (p.hostIp.includes(':') ? `[${p.hostIp}]:` : `${p.hostIp}:`) : '';
    return `${host}${p.hostPort ? p.hostPort : ''}${host || p.hostPort ? ':' : ''}${p.containerPort}/${p.protocol}`;
  });
  return o;
}

async function containerOptions(pod: PlannedPod, c: PlannedContainer, role: 'init' | 'container', file: string, r: KubeReporter): Promise<CreateOptions> {
  const o = baseOptions(pod, c.name, c.image, role, file, c.labels);
  if (c.entrypoint !== undefined) o.entrypoint = c.entrypoint.length ? c.entrypoint : [''];
  if (c.cmd !== undefined) o.command = c.cmd;
  o.env = Object.entries(c.env).map(([k, v]) => `${k}=${v}`);
  if (c.runtimeEnv.length) r.warn(`container ${c.kubeName} of pod ${pod.name}: ${c.runtimeEnv.map((e) => `${e.name} (${e.fieldPath})`).join(', ')} not known to skiff: left out`);
  if (c.user !== undefined) o.user = c.user;
  if (c.workingDir !== undefined) o.workdir = c.workingDir;
  o.tty = c.tty;
  o.interactive = c.stdin;
  o.privileged = c.privileged;
  o.capAdd = c.capAdd;
  o.capDrop = c.capDrop;
  o.readOnly = c.readOnlyRootfs;
  if (c.noNewPrivileges) o.securityOpt = ['no-new-privileges'];
  o.init = c.init;
  if (role === 'container') o.restart = c.restart.Name === 'on-failure' && c.restart.MaximumRetryCount ? `on-failure:${c.restart.MaximumRetryCount}` : c.restart.Name || 'no';
  if (c.stopSignal) o.stopSignal = c.stopSignal;
  if (c.stopTimeout !== undefined) o.stopTimeout = c.stopTimeout;
  o.resources = {
    ...(c.memory ? { memory: String(c.memory) } : {}),
    ...(c.memoryReservation ? { memoryReservation: String(c.memoryReservation) } : {}),
    ...(c.nanoCpus ? { cpus: String(c.nanoCpus / 1e9) } : {}),
    ...(c.cpuShares ? { cpuShares: String(c.cpuShares) } : {}),
    ...(c.pidsLimit ? { pidsLimit: String(c.pidsLimit) } : {}),
  };
  const h = c.healthcheck;
  if (h?.Test) {
    o.health = {
      none: false,
      test: h.Test,
      ...(goNs(h.Interval) ? { interval: goNs(h.Interval) } : {}),
      ...(goNs(h.Timeout) ? { timeout: goNs(h.Timeout) } : {}),
      ...(goNs(h.StartPeriod) ? { startPeriod: goNs(h.StartPeriod) } : {}),
      ...(h.Retries ? { retries: h.Retries } : {}),
    };
  }
  // the pod's network namespace (its hostname and ports are the infra container's)
  o.network = [`container:${infraName(pod.name)}`];
  o.ipc = `container:${infraName(pod.name)}`;
  o.uts = `container:${infraName(pod.name)}`;
  for (const m of c.mounts) {
    const t = await mountText(m, c.kubeName);
    if (t) o.mounts.push(t);
  }
  // the images were made present before (ensureImage with each container's policy)
  return o;
}

/** The pod's own volumes: emptyDir, and the files of configMap/secret volumes written into theirs. */
async function podVolumes(pod: PlannedPod, file: string, made: Made): Promise<void> {
  const { createVolume } = await import('../volume/volumes.js');
  for (const v of pod.volumes) {
    const r = await createVolume(v.name, { labels: { [KUBE_LABELS.pod]: pod.name, [KUBE_LABELS.file]: file } });
    if (!r.made) throw new SkiffError('ECONFLICT', `volume ${v.name} of pod ${pod.name} exists already: remove it (skiff volume rm ${v.name}) or play with --replace`);
    made.volumes.push(v.name);
    if (!v.files) continue;
    const root = await volumeData(v.name);
    for (const f of v.files.files) {
      if (!safeRelative(f.path)) throw new SkiffError('EINVAL', `${v.files.source.kind} ${v.files.source.name}: file path ${JSON.stringify(f.path)} must be relative and not contain '..'`);
      const dest = path.join(root, f.path);
      fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o755 });
      // the volume was made just now: nothing in it is a link planted by someone else
      fs.writeFileSync(dest, f.content, { mode: f.mode, flag: 'wx' });
      fs.chmodSync(dest, f.mode);
    }
  }
}

async function runPod(pod: PlannedPod, o: PlayRunOptions, r: KubeReporter, made: Made): Promise<void> {
  const { createContainer } = await import('../container/create.js');
  const { startDetached, waitContainer } = await import('../container/lifecycle.js');
  const { findContainer } = await import('../store/containers.js');
  const warn = { warn: (m: string) => r.warn(m) };
  await podVolumes(pod, o.file, made);
  // images first, with each container's pull policy (the infra container uses the first one's)
  for (const c of [...pod.initContainers, ...pod.containers]) {
    const { ensureImage } = await import('../image/ensure.js');
    await ensureImage(c.image, { pull: c.pull }, o.pull);
  }
  const infra = await createContainer(infraOptions(pod, o.file), o.pull, warn);
  made.containers.push(infra.Id);
  await startDetached(infra);
  for (const c of pod.initContainers) {
    const rec = await createContainer(await containerOptions(pod, c, 'init', o.file, r), o.pull, warn);
    made.containers.push(rec.Id);
    nonRootCheck(c, rec);
    await startDetached(rec);
    const code = await waitContainer(findContainer(rec.Id));
    if (code !== 0) throw new SkiffError('EINVAL', `init container ${c.kubeName} of pod ${pod.name} exited with code ${code}`);
  }
  for (const c of pod.containers) {
    const rec = await createContainer(await containerOptions(pod, c, 'container', o.file, r), o.pull, warn);
    made.containers.push(rec.Id);
    nonRootCheck(c, rec);
    await startDetached(rec);
  }
  r.event(`Pod ${pod.name} started (${pod.containers.length} container${pod.containers.length === 1 ? '' : 's'})`);
}

/** securityContext.runAsNonRoot: the user in effect (the image's included) must not be root. */
function nonRootCheck(c: PlannedContainer, rec: ContainerRecord): void {
  if (!c.runAsNonRoot) return;
  const user = (rec.Config.User || '0').split(':')[0]!;
  if (user === '0' || user === 'root') throw new SkiffError('EINVAL', `container ${c.kubeName}: runAsNonRoot is set and the container would run as root (set runAsUser)`);
}

/** Plays a plan: volumes, then each pod. On failure everything made for the file is removed again. */
export async function playPlan(plan: KubePlan, o: PlayRunOptions, r: KubeReporter): Promise<{ pods: string[] }> {
  const { withLock } = await import('../store/lock.js');
  return withLock('kube', async () => {
    const existing = await podContainers(plan.pods.map((p) => p.name));
    if (existing.length) {
      if (!o.replace) {
        const pod = existing[0]!.Config.Labels![KUBE_LABELS.pod]!;
        throw new SkiffError('ECONFLICT', `pod ${pod} already exists: play with --replace, or remove it first with skiff kube down`);
      }
      await removePods(plan, false, r);
    }
    const made: Made = { containers: [], volumes: [] };
    try {
      const { createVolume } = await import('../volume/volumes.js');
      for (const v of plan.volumes) {
        const res = await createVolume(v.name, { labels: v.labels });
        if (res.made) made.volumes.push(v.name);
      }
      for (const pod of plan.pods) await runPod(pod, o, r, made);
    } catch (e) {
      for (const id of made.containers.reverse()) await removeQuietly(id).catch(() => undefined);
      for (const v of made.volumes) await removeVolumeQuietly(v).catch(() => undefined);
      throw e;
    }
    return { pods: plan.pods.map((p) => p.name) };
  });
}

/** Removes the plan's pods (containers, then the pods' own volumes); the claims' volumes too with `force`. */
async function removePods(plan: KubePlan, force: boolean, r: KubeReporter): Promise<string[]> {
  const { volumeExists } = await import('../volume/volumes.js');
  const recs = await podContainers(plan.pods.map((p) => p.name));
  // the pod's containers first, its infra container last
  recs.sort((a, b) => Number(a.Config.Labels?.[KUBE_LABELS.role] === 'infra') - Number(b.Config.Labels?.[KUBE_LABELS.role] === 'infra'));
  for (const c of recs) await removeQuietly(c.Id);
  const gone = [...new Set(recs.map((c) => c.Config.Labels![KUBE_LABELS.pod]!))];
  for (const pod of plan.pods) for (const v of pod.volumes) if (volumeExists(v.name)) await removeVolumeQuietly(v.name);
  if (force) for (const v of plan.volumes) if (v.claim && volumeExists(v.name)) await removeVolumeQuietly(v.name);
  for (const p of gone) r.event(`Pod ${p} removed`);
  return gone;
}

/** `kube down`: what a play of the plan made. */
export async function downPlan(plan: KubePlan, o: { force: boolean }, r: KubeReporter): Promise<string[]> {
  const { withLock } = await import('../store/lock.js');
  return withLock('kube', () => removePods(plan, o.force, r));
}
