/**
 * The compose verbs over a project's existing containers (start, stop, restart, kill, pause, unpause,
 * rm), its images (build, pull, push) and the views of it (top, images, port), plus `ls` over every
 * project in the store. Each is one of skiff's own container or image functions applied to the
 * services' containers in Docker Compose's order (engine.ts eachContainer: dependents first when
 * stopping), reported as Docker's progress events; nothing is printed here.
 */
import { SkiffError } from '../../errors.js';
import type { Project } from '../model.js';
import { serviceImage } from './convert.js';
import { buildService, eachContainer, projectContainers, serviceContainers, startInOrder, waitCondition, type ImageOptions, type Reporter } from './engine.js';
import { L, type Existing } from './labels.js';
import { selectServices, withDependents } from './plan.js';

export { selectServices };

const running = (e: Existing): boolean => e.running && e.status !== 'paused';

/** `start`: the services' stopped containers, in dependency order (waiting on depends_on conditions as `up`). */
export async function startServices(project: Project, services: string[], o: { wait?: boolean; waitTimeout?: number }, r: Reporter): Promise<void> {
  const order = selectServices(project, services, true);
  const all = (await serviceContainers(project, order)).map((c) => c.existing);
  for (const n of order) if (!all.some((c) => c.service === n)) throw new SkiffError('ENOCONTAINER', `service ${JSON.stringify(n)} has no container to start`, 1);
  const toStart = new Map(order.map((n) => [n, all.filter((c) => c.service === n && !c.running)] as const));
  await startInOrder(project, order, all, toStart, r);
  if (o.wait) {
    const deadline = o.waitTimeout ? Date.now() + o.waitTimeout * 1000 : Infinity;
    await Promise.all(all.map((c) => waitCondition(c.name, c.id, 'wait', r, deadline)));
  }
}

/** `stop [-t]`: the services' containers, dependents first. */
export async function stopServices(project: Project, services: string[], o: { timeout?: number }, r: Reporter): Promise<number> {
  const { stopContainer } = await import('../../container/lifecycle.js');
  return eachContainer(project, services, { stopping: true, pending: 'Stopping', done: 'Stopped' }, (rec) => stopContainer(rec, o.timeout), r);
}

/** `restart [-t] [--no-deps]`: the services' containers (and their dependents' unless noDeps), in dependency order. */
export async function restartServices(project: Project, services: string[], o: { timeout?: number; noDeps?: boolean }, r: Reporter): Promise<number> {
  const { restartContainer } = await import('../../container/lifecycle.js');
  return eachContainer(project, withDependents(project, services, o.noDeps), { stopping: false, pending: 'Restarting', done: 'Started' }, (rec) => restartContainer(rec, o.timeout), r);
}

/** `kill [-s]`: a signal to the services' running containers. */
export async function killServices(project: Project, services: string[], signal: number, r: Reporter): Promise<number> {
  const { killContainer } = await import('../../container/lifecycle.js');
  return eachContainer(project, services, { stopping: true, pending: 'Killing', done: 'Killed' }, (rec) => killContainer(rec, signal), r, (e) => e.running);
}

/** `pause`: freeze the services' running containers. */
export async function pauseServices(project: Project, services: string[], r: Reporter): Promise<number> {
  const { pauseContainer } = await import('../../container/lifecycle.js');
  return eachContainer(project, services, { stopping: false, pending: 'Pausing', done: 'Paused' }, pauseContainer, r, running);
}

/** `unpause`: thaw the services' paused containers. */
export async function unpauseServices(project: Project, services: string[], r: Reporter): Promise<number> {
  const { unpauseContainer } = await import('../../container/lifecycle.js');
  return eachContainer(project, services, { stopping: false, pending: 'Unpausing', done: 'Unpaused' }, unpauseContainer, r, (e) => e.status === 'paused');
}

export interface RemoveOptions {
  /** -s: stop running containers first (else only stopped ones are removed). */
  stop?: boolean;
  /** -v: their anonymous volumes too. */
  volumes?: boolean;
  timeout?: number;
  /** Asked with the names before anything is removed (`rm` without -f); false: nothing is removed. */
  confirm?: (names: string[]) => Promise<boolean>;
}

/** `rm [-s] [-v]`: the services' stopped containers; how many were removed (0: none was stopped, or not confirmed). */
export async function removeServices(project: Project, services: string[], o: RemoveOptions, r: Reporter): Promise<number> {
  if (o.stop) await stopServices(project, services, o, r);
  const stopped = (await serviceContainers(project, services)).filter((c) => !c.existing.running).map((c) => c.existing);
  if (stopped.length === 0) return 0;
  if (o.confirm && !(await o.confirm(stopped.map((c) => c.name).sort()))) return 0;
  const ids = new Set(stopped.map((c) => c.id));
  const { removeContainer } = await import('../../container/lifecycle.js');
  return eachContainer(project, services, { stopping: true, pending: 'Removing', done: 'Removed' }, async (rec) => void (await removeContainer(rec.Id, { force: false, volumes: o.volumes ?? false })), r, (e) => ids.has(e.id));
}

// ---- images -------------------------------------------------------------------------------------

/** `build [SERVICE...]`: build the services that have a build section (named ones must have one: Docker skips the others quietly). */
export async function buildServices(project: Project, services: string[], o: ImageOptions, r: Reporter): Promise<string[]> {
  const order = selectServices(project, services, true);
  const built: string[] = [];
  for (const n of order) {
    const s = project.services[n]!;
    if (!s.build) continue;
    await buildService(project, s, o, r);
    built.push(n);
  }
  return built;
}

export interface TransferOptions {
  /** --ignore-pull-failures / --ignore-push-failures: a warning, and the next service. */
  ignoreFailures?: boolean;
}

/** Run `fn` for each of `services` with an image to transfer; a failure ends it unless ignored. */
async function eachImage(project: Project, services: string[], which: (n: string) => boolean, o: TransferOptions, verb: { pending: string; done: string }, fn: (image: string, n: string) => Promise<void>, r: Reporter): Promise<void> {
  for (const n of selectServices(project, services, true).filter(which)) {
    const image = serviceImage(project, project.services[n]!);
    r.event(n, verb.pending);
    try {
      await fn(image, n);
    } catch (e) {
      if (!o.ignoreFailures) throw e;
      r.warn(`${n}: ${(e as Error).message}`);
      continue;
    }
    r.event(n, verb.done);
  }
}

/**
 * `pull [SERVICE...]`: the services' images (those with `image:`; a service with only a build section
 * has nothing to pull, and one with `pull_policy: build` is built, never pulled).
 */
export async function pullServices(project: Project, services: string[], o: TransferOptions & Pick<ImageOptions, 'pullFn'>, r: Reporter): Promise<void> {
  const pullable = (n: string): boolean => {
    const s = project.services[n]!;
    return s.image !== undefined && s.pullPolicy !== 'build';
  };
  await eachImage(project, services, pullable, o, { pending: 'Pulling', done: 'Pulled' }, (image, n) => o.pullFn(image, { platform: project.services[n]!.platform, missing: false }), r);
}

/** `push [SERVICE...]`: the images of the services that have both a build section and an image name, as Docker Compose. */
export async function pushServices(project: Project, services: string[], o: TransferOptions & { push: (image: string) => Promise<void> }, r: Reporter): Promise<void> {
  const pushable = (n: string): boolean => project.services[n]!.build !== undefined && project.services[n]!.image !== undefined;
  await eachImage(project, services, pushable, o, { pending: 'Pushing', done: 'Pushed' }, (image) => o.push(image), r);
}

// ---- views --------------------------------------------------------------------------------------

/** `top`: the processes of the services' running containers, by container name. */
export async function topServices(project: Project, services: string[]): Promise<{ name: string; titles: string[]; processes: string[][] }[]> {
  const { topProcesses } = await import('../../container/procs.js');
  const { containerState } = await import('../../container/state.js');
  const out: { name: string; titles: string[]; processes: string[][] }[] = [];
  for (const c of await serviceContainers(project, services)) {
    const st = containerState(c.rec);
    if (!st.Running || !st.Pid) continue;
    const t = topProcesses(st.Pid, []);
    out.push({ name: c.existing.name, titles: t.Titles, processes: t.Processes });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export interface ServiceImage {
  Container: string;
  Repository: string;
  Tag: string;
  /** The image's full id (sha256:...). */
  ID: string;
  Size: number;
}

/** `images`: the image of each of the services' containers (Docker Compose's rows: the tag the container was made from, else the image's first). */
export async function serviceImages(project: Project, services: string[]): Promise<ServiceImage[]> {
  const { getImage, tagsById } = await import('../../store/images.js');
  const { splitRepoTag } = await import('../../image/manage.js');
  const { canonical, parseReference } = await import('../../oci/reference.js');
  const tags = await tagsById();
  const out: ServiceImage[] = [];
  for (const c of await serviceContainers(project, services)) {
    const img = await getImage(c.rec.Image);
    const own = (tags.get(c.rec.Image) ?? []).sort();
    let ref: string | undefined;
    try {
      ref = canonical(parseReference(c.rec.ImageName));
    } catch {
      ref = undefined;
    }
    const tag = ref !== undefined && own.includes(ref) ? ref : own[0];
    const { repo, tag: t } = tag ? splitRepoTag(tag) : { repo: '<none>', tag: '<none>' };
    out.push({ Container: c.existing.name, Repository: repo, Tag: t, ID: c.rec.Image, Size: img?.size ?? 0 });
  }
  return out.sort((a, b) => a.Container.localeCompare(b.Container));
}

/** `port SERVICE PRIVATE_PORT`: the host address a port of the service's container (--index, default 1) is published on. */
export async function servicePort(project: Project, service: string, privatePort: number, o: { protocol: string; index: number }): Promise<string> {
  const { portMap } = await import('../../container/network.js');
  const list = (await serviceContainers(project, [service], { index: o.index })).filter((c) => !c.existing.oneoff);
  const c = list[0];
  if (!c) throw new SkiffError('ENOCONTAINER', `service "${service}" is not running container #${o.index}`, 1);
  const key = `${privatePort}/${o.protocol}`;
  const b = portMap(c.rec, c.existing.running)[key]?.[0];
  if (!b) throw new SkiffError('EINVAL', `no port ${key} for container ${c.existing.name}`, 1);
  return `${b.HostIp.includes(':') ? `[${b.HostIp}]` : b.HostIp}:${b.HostPort}`;
}

export interface ProjectSummary {
  Name: string;
  /** Docker Compose's combined state: `running(2)`, `exited(1), running(2)`. */
  Status: string;
  ConfigFiles: string;
  /** Whether a container of it runs (ls without -a shows these only). */
  running: boolean;
}

/** `ls`: the projects that have containers in the store (from their com.docker.compose.* labels), by name. */
export async function listProjects(): Promise<ProjectSummary[]> {
  const byProject = new Map<string, { states: Map<string, number>; files: string; running: boolean }>();
  for (const { existing, rec } of await projectContainers()) {
    const name = rec.Config.Labels[L.project]!;
    let p = byProject.get(name);
    if (!p) byProject.set(name, (p = { states: new Map(), files: rec.Config.Labels[L.configFiles] ?? '', running: false }));
    p.states.set(existing.status, (p.states.get(existing.status) ?? 0) + 1);
    if (existing.running) p.running = true;
  }
  return [...byProject.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, p]) => ({
      Name: name,
      Status: [...p.states.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}(${n})`).join(', '),
      ConfigFiles: p.files,
      running: p.running,
    }));
}
