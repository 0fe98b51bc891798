/**
 * The compose engine: carries out plans (plan.ts) with skiff's own container, image, network, volume
 * and builder functions — no second engine, no daemon, never the store's files (its lock only: one
 * `up`/`down` of a project at a time, so two `up`s never make a service's container twice).
 * What it does is reported as Docker's progress events (`Container p-web-1 Started`) through the
 * caller's Reporter; nothing is printed here.
 *
 * Failure: an `up` that fails removes the containers, networks and volumes this invocation made
 * (Docker leaves them; skiff's rule is nothing half-made left behind), and leaves what existed before.
 */
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { ContainerRecord } from '../../store/containers.js';
import type { PullFn } from '../../image/progress.js';
import { SkiffError } from '../../errors.js';
import { withLock } from '../../store/lock.js';
import type { Project, Service } from '../model.js';
import { createOptionsFor, serviceImage, type ConvertOptions } from './convert.js';
import { existingOf, L, COMPOSE_VERSION, type Existing } from './labels.js';
import { dependencyOrder, planUp, selectServices, stopOrder, type Action, type UpPlan } from './plan.js';

/** Where the engine says what it does (the CLI prints Docker's lines). */
export interface Reporter {
  /** A progress event: `Container p-web-1` + `Started`. */
  event(id: string, text: string): void;
  warn(message: string): void;
}

const containerId = (name: string): string => `Container ${name}`;

/** A project's containers (one-off `run` containers too), from their labels; every project's without a name (`ls`). */
export async function projectContainers(project?: string): Promise<{ existing: Existing; rec: ContainerRecord }[]> {
  const { selectContainers } = await import('../../container/list.js');
  const rows = await selectContainers({ all: true, filters: [project === undefined ? `label=${L.project}` : `label=${L.project}=${project}`] });
  const out: { existing: Existing; rec: ContainerRecord }[] = [];
  for (const { rec, obs } of rows) {
    const e = existingOf({
      id: rec.Id, name: rec.Name, labels: rec.Config.Labels, imageId: rec.Image, running: obs.State.Running, status: obs.State.Status,
      health: obs.State.Health?.Status ?? '', exitCode: obs.State.ExitCode, created: rec.Created,
    });
    if (e) out.push({ existing: e, rec });
  }
  return out.sort((a, b) => a.existing.service.localeCompare(b.existing.service) || a.existing.number - b.existing.number);
}

/** The state of one container now (after a start: running, health). */
async function stateOf(id: string): Promise<{ running: boolean; status: string; health: string; exitCode: number } | undefined> {
  const { readContainer } = await import('../../store/containers.js');
  const { containerState } = await import('../../container/state.js');
  const rec = readContainer(id);
  if (!rec) return undefined;
  const st = containerState(rec);
  return { running: st.Running, status: st.Status, health: st.Health?.Status ?? '', exitCode: st.ExitCode };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- networks, volumes, images ------------------------------------------------------------------

/** What an invocation made: undone when it fails. */
interface Made {
  containers: string[];
  networks: string[];
  volumes: string[];
}

async function ensureNetworks(project: Project, services: string[], r: Reporter, made: Made): Promise<void> {
  const keys = new Set<string>();
  for (const n of services) for (const net of Object.keys(project.services[n]!.networks)) keys.add(net);
  if (keys.size === 0) return;
  const { readNetwork } = await import('../../network/store.js');
  const { createNetwork } = await import('../../network/store.js');
  for (const key of [...keys].sort()) {
    const n = project.networks[key];
    if (!n) continue;
    if (n.external) {
      if (!readNetwork(n.name)) throw new SkiffError('ENONETWORK', `network ${n.name} declared as external, but could not be found`, 1);
      continue;
    }
    if (readNetwork(n.name)) continue;
    if (n.driver && n.driver !== 'bridge') throw new SkiffError('EINVAL', `network ${key}: driver ${JSON.stringify(n.driver)} is not supported by skiff (bridge only)`, 1);
    const cfg = n.ipam?.config[0];
    r.event(`Network ${n.name}`, 'Creating');
    await createNetwork({
      name: n.name,
      ...(cfg?.subnet ? { subnet: cfg.subnet } : {}),
      ...(cfg?.gateway ? { gateway: cfg.gateway } : {}),
      ...(cfg?.ipRange ? { ipRange: cfg.ipRange } : {}),
      internal: n.internal,
      labels: { ...n.labels, [L.project]: project.name, [L.network]: key, [L.version]: COMPOSE_VERSION },
      options: n.driverOpts,
    });
    made.networks.push(n.name);
    r.event(`Network ${n.name}`, 'Created');
  }
}

async function ensureVolumes(project: Project, services: string[], r: Reporter, made: Made): Promise<void> {
  const keys = new Set<string>();
  for (const n of services) for (const v of project.services[n]!.volumes) if (v.type === 'volume' && v.source !== undefined && project.volumes[v.source]) keys.add(v.source);
  if (keys.size === 0) return;
  const { volumeExists, createVolume } = await import('../../volume/volumes.js');
  for (const key of [...keys].sort()) {
    const v = project.volumes[key]!;
    if (v.external) {
      if (!volumeExists(v.name)) throw new SkiffError('ENOVOLUME', `external volume "${v.name}" not found`, 1);
      continue;
    }
    if (volumeExists(v.name)) continue;
    r.event(`Volume "${v.name}"`, 'Creating');
    const res = await createVolume(v.name, {
      ...(v.driver ? { driver: v.driver } : {}),
      labels: { ...v.labels, [L.project]: project.name, [L.volume]: key, [L.version]: COMPOSE_VERSION },
      options: v.driverOpts,
    });
    if (res.made) made.volumes.push(v.name);
    r.event(`Volume "${v.name}"`, 'Created');
  }
}

export interface ImageOptions {
  /** --build: build every service that has `build` first. */
  build?: boolean;
  /** --no-build: never build (a missing image is an error). */
  noBuild?: boolean;
  /** --pull always|missing|never (policy of the command line over pull_policy). */
  pull?: 'always' | 'missing' | 'never';
  pullFn: PullFn;
  /** Build output (RUN steps) and progress lines go here. */
  buildLog?: (line: string) => void;
  noCache?: boolean;
  /** `build --pull`: pull newer base images (over build.pull). */
  pullBase?: boolean;
  /** `build --build-arg KEY[=VALUE]`: after (over) the file's build.args. */
  buildArgs?: string[];
}

/** Build one service's image (`PROJECT-SERVICE` or its `image:`). */
export async function buildService(project: Project, s: Service, o: ImageOptions, r: Reporter): Promise<string> {
  const b = s.build;
  if (!b) throw new SkiffError('EINVAL', `service ${s.name} has no build section`, 1);
  if (/^[a-z]+:\/\//.test(b.context) || b.context.startsWith('git@')) throw new SkiffError('EINVAL', `service ${s.name}: remote build contexts are not supported by skiff`, 1);
  const { build } = await import('../../builder/builder.js');
  const image = serviceImage(project, s);
  r.event(`Service ${s.name}`, 'Building');
  const output = new PassThrough();
  output.on('data', (d: Buffer) => o.buildLog?.(d.toString('utf8').replace(/\n$/, '')));
  const res = await build({
    context: b.context,
    ...(b.dockerfile ? { file: path.resolve(b.context, b.dockerfile) } : {}),
    stdin: () => process.stdin,
    tags: [image, ...b.tags],
    buildArgs: [...Object.entries(b.args).map(([k, v]) => (v === null ? k : `${k}=${v}`)), ...(o.buildArgs ?? [])],
    ...(b.target ? { target: b.target } : {}),
    noCache: o.noCache ?? b.noCache,
    pull: o.pullBase || b.pull,
    labels: Object.entries(b.labels).map(([k, v]) => `${k}=${v}`),
    ...(b.network ? { network: b.network } : {}),
    pullImage: o.pullFn,
    progress: 'plain',
    log: (line) => o.buildLog?.(line),
    output,
  });
  r.event(`Service ${s.name}`, 'Built');
  return res.id;
}

/** Make each service's image present (built, pulled or local, as the options and pull_policy say); their ids. */
export async function ensureImages(project: Project, services: string[], o: ImageOptions, r: Reporter): Promise<Record<string, string>> {
  const { findImage, imageComplete } = await import('../../image/local.js');
  const ids: Record<string, string> = {};
  for (const n of services) {
    const s = project.services[n]!;
    const image = serviceImage(project, s);
    const policy = o.pull ?? s.pullPolicy ?? 'missing';
    const local = async (): Promise<string | undefined> => {
      const rec = await findImage(image);
      return rec && imageComplete(rec) ? rec.id : undefined;
    };
    if (s.build && (o.build || policy === 'build' || (!(await local()) && !o.noBuild))) {
      if (o.noBuild && !(await local())) throw new SkiffError('ENOIMAGE', `service ${n}: image ${image} not found and --no-build given`, 1);
      ids[n] = await buildService(project, s, o, r);
      continue;
    }
    let id = policy === 'always' ? undefined : await local();
    if (!id) {
      if (policy === 'never' || (s.build && o.noBuild)) throw new SkiffError('ENOIMAGE', `No such image: ${image}`, 1);
      r.event(n, 'Pulling');
      await o.pullFn(image, { platform: s.platform, missing: false });
      id = await local();
      if (!id) throw new SkiffError('ENOIMAGE', `No such image: ${image}`, 1);
      r.event(n, 'Pulled');
    }
    ids[n] = id;
  }
  return ids;
}

// ---- containers ---------------------------------------------------------------------------------

async function removeQuietly(nameOrId: string, volumes = false): Promise<void> {
  const { removeContainer } = await import('../../container/lifecycle.js');
  await removeContainer(nameOrId, { force: true, volumes }).catch((e: unknown) => {
    if (!(e instanceof SkiffError && e.code === 'ENOCONTAINER')) throw e;
  });
}

/** Create one container of a service (its extra networks connected), reporting Docker's events. */
async function createOne(project: Project, s: Service, name: string, number: number, hash: string, imageId: string, conv: ConvertOptions, pull: PullFn, r: Reporter): Promise<ContainerRecord> {
  const { createContainer } = await import('../../container/create.js');
  const { options, warnings, connect } = createOptionsFor(project, s, { name, number, hash, imageId }, conv);
  for (const w of warnings) r.warn(w);
  const rec = await createContainer(options, pull, { warn: (m) => r.warn(m) });
  try {
    if (connect.length) {
      const { connectNetwork } = await import('../../container/network.js');
      for (const c of connect) await connectNetwork(c.name, rec.Id, { aliases: c.aliases, ...(c.ip ? { ip: c.ip } : {}) });
    }
  } catch (e) {
    await removeQuietly(rec.Id);
    throw e;
  }
  return rec;
}

export interface UpOptions extends ImageOptions {
  services?: string[];
  noDeps?: boolean;
  forceRecreate?: boolean;
  noRecreate?: boolean;
  removeOrphans?: boolean;
  scale?: Record<string, number>;
  /** -V: recreate anonymous volumes instead of keeping them (skiff never carries them over: accepted). */
  renewAnonVolumes?: boolean;
  /** `create`: make the containers, start nothing. */
  noStart?: boolean;
  /** --wait: wait for services to be running|healthy; seconds (0: no limit). */
  wait?: boolean;
  waitTimeout?: number;
  /** -t: stop timeout of recreated containers. */
  timeout?: number;
}

export interface UpResult {
  /** The containers of the selected services after up, in start order. */
  containers: { name: string; id: string; service: string; number: number }[];
}

/** Wait for one container to meet a depends_on condition (or --wait's: running, healthy if it has a healthcheck). */
export async function waitCondition(name: string, id: string, condition: 'service_started' | 'service_healthy' | 'service_completed_successfully' | 'wait', r: Reporter, deadline: number): Promise<void> {
  const { readContainer } = await import('../../store/containers.js');
  r.event(containerId(name), 'Waiting');
  const rec = readContainer(id);
  const hasHealth = Boolean(rec?.Config.Healthcheck && rec.Config.Healthcheck.Test?.[0] !== 'NONE' && rec.Config.Healthcheck.Test?.length);
  if (condition === 'service_healthy' && !hasHealth) throw new SkiffError('EINVAL', `container ${name} has no healthcheck configured`, 1);
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    const st = await stateOf(id);
    if (!st) throw new SkiffError('ENOCONTAINER', `container ${name} is gone`, 1);
    if (condition === 'service_completed_successfully') {
      if (!st.running && st.status === 'exited') {
        if (st.exitCode !== 0) throw new SkiffError('ERUNTIME', `service "${name}" didn't complete successfully: exit ${st.exitCode}`, 1);
        r.event(containerId(name), 'Exited');
        return;
      }
    } else {
      if (st.health === 'unhealthy') throw new SkiffError('ERUNTIME', `dependency failed to start: container ${name} is unhealthy`, 1);
      if (!st.running && st.status !== 'created') throw new SkiffError('ERUNTIME', `dependency failed to start: container ${name} exited (${st.exitCode})`, 1);
      if (st.running && (!hasHealth || condition === 'service_started' || st.health === 'healthy')) {
        r.event(containerId(name), hasHealth && condition !== 'service_started' ? 'Healthy' : 'Started');
        return;
      }
    }
    if (Date.now() > deadline) throw new SkiffError('ESTATE', `timeout waiting for ${name}`, 1);
    await sleep(delay);
  }
}

/** Run `fn` for each service once the services it depends on (among `order`) are done; independent ones at the same time. */
async function inDependencyOrder(project: Project, order: string[], fn: (service: string) => Promise<void>): Promise<void> {
  const tasks = new Map<string, Promise<void>>();
  const inOrder = new Set(order);
  for (const n of order) {
    const deps = Object.keys(project.services[n]!.dependsOn).filter((d) => inOrder.has(d));
    tasks.set(n, Promise.all(deps.map((d) => tasks.get(d)!)).then(() => fn(n)));
  }
  const results = await Promise.allSettled(tasks.values());
  const failed = results.find((x): x is PromiseRejectedResult => x.status === 'rejected');
  if (failed) throw failed.reason;
}

/** `up` (and `create` with noStart): converge the project's containers to its file, start them in dependency order. */
export async function up(project: Project, o: UpOptions, r: Reporter): Promise<UpResult> {
  const made: Made = { containers: [], networks: [], volumes: [] };
  try {
    return await withLock(`compose-${project.name}`, () => converge(project, o, r, made));
  } catch (e) {
    await undo(made);
    throw e;
  }
}

async function undo(made: Made): Promise<void> {
  for (const c of made.containers.reverse()) await removeQuietly(c, true).catch(() => undefined);
  if (made.networks.length) {
    const { removeNetwork } = await import('../../network/manage.js');
    for (const n of made.networks) await removeNetwork(n).catch(() => undefined);
  }
  if (made.volumes.length) {
    const { removeVolume } = await import('../../volume/volumes.js');
    for (const v of made.volumes) await removeVolume(v, true, () => false).catch(() => undefined);
  }
}

async function converge(project: Project, o: UpOptions, r: Reporter, made: Made): Promise<UpResult> {
  const order = selectServices(project, o.services ?? [], o.noDeps ?? false);
  const current = await projectContainers(project.name);
  const existing = current.map((c) => c.existing);
  const orphans = planUp(project, existing, { services: [] }).orphans;
  if (orphans.length) {
    if (o.removeOrphans) {
      for (const c of orphans) {
        r.event(containerId(c.name), 'Stopping');
        await removeQuietly(c.id);
        r.event(containerId(c.name), 'Removed');
      }
    } else {
      r.warn(`Found orphan containers (${orphans.map((c) => c.name).join(', ')}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`);
    }
  }
  await ensureNetworks(project, order, r, made);
  await ensureVolumes(project, order, r, made);
  const imageIds = await ensureImages(project, order, o, r);
  const plan: UpPlan = planUp(project, existing, {
    services: o.services ?? [], noDeps: o.noDeps ?? false, forceRecreate: o.forceRecreate ?? false, noRecreate: o.noRecreate ?? false, scale: o.scale ?? {}, imageIds,
  });
  const conv: ConvertOptions = {
    containerOfService: (svc) => {
      const first = plan.services[svc]?.actions.find((a) => a.kind !== 'remove');
      if (first) return 'name' in first ? first.name : first.container.name;
      return existing.find((c) => c.service === svc && !c.oneoff)?.name;
    },
  };
  const { stopContainer } = await import('../../container/lifecycle.js');
  const { findContainer } = await import('../../store/containers.js');
  // create (and recreate) in dependency order; then start in dependency order, waiting on conditions
  const result: UpResult['containers'] = [];
  const toStart = new Map<string, { name: string; id: string }[]>();
  await inDependencyOrder(project, plan.order, async (n) => {
    const s = project.services[n]!;
    const sp = plan.services[n]!;
    const started: { name: string; id: string }[] = [];
    for (const a of sp.actions) {
      if (a.kind === 'remove') {
        r.event(containerId(a.container.name), 'Stopping');
        await stopContainer(findContainer(a.container.id), o.timeout).catch(() => undefined);
        r.event(containerId(a.container.name), 'Stopped');
        r.event(containerId(a.container.name), 'Removing');
        await removeQuietly(a.container.id);
        r.event(containerId(a.container.name), 'Removed');
        continue;
      }
      const rec = await applyAction(project, s, a, sp.hash, imageIds[n]!, conv, o, r, made);
      result.push({ name: rec.Name, id: rec.Id, service: n, number: 'number' in a ? a.number : a.container.number });
      if (a.kind !== 'running') started.push({ name: rec.Name, id: rec.Id });
      else r.event(containerId(rec.Name), 'Running');
    }
    toStart.set(n, started);
  });
  if (o.noStart) return { containers: result };
  const deadline = o.waitTimeout ? Date.now() + o.waitTimeout * 1000 : Infinity;
  await startInOrder(project, plan.order, result, toStart, r);
  if (o.wait) {
    await Promise.all(result.map((c) => waitCondition(c.name, c.id, 'wait', r, deadline)));
  }
  return { containers: result };
}

/**
 * Start `toStart` (per service) in dependency order: a service's containers start once the containers
 * of the services it depends on (among `all`) meet their depends_on conditions (`up`, `start`).
 */
export async function startInOrder(project: Project, order: string[], all: readonly { name: string; id: string; service: string }[], toStart: ReadonlyMap<string, readonly { name: string; id: string }[]>, r: Reporter): Promise<void> {
  const { startDetached } = await import('../../container/lifecycle.js');
  const { findContainer } = await import('../../store/containers.js');
  const inOrder = new Set(order);
  await inDependencyOrder(project, order, async (n) => {
    const s = project.services[n]!;
    for (const [dep, d] of Object.entries(s.dependsOn)) {
      if (!inOrder.has(dep) || d.condition === 'service_started') continue;
      for (const c of all.filter((x) => x.service === dep)) await waitCondition(c.name, c.id, d.condition, r, Infinity);
    }
    await Promise.all(
      (toStart.get(n) ?? []).map(async (c) => {
        r.event(containerId(c.name), 'Starting');
        await startDetached(findContainer(c.id));
        r.event(containerId(c.name), 'Started');
      }),
    );
  });
}

async function applyAction(project: Project, s: Service, a: Exclude<Action, { kind: 'remove' }>, hash: string, imageId: string, conv: ConvertOptions, o: UpOptions, r: Reporter, made: Made): Promise<ContainerRecord> {
  const { findContainer } = await import('../../store/containers.js');
  if (a.kind === 'running' || a.kind === 'start') return findContainer(a.container.id);
  if (a.kind === 'recreate') {
    const { stopContainer } = await import('../../container/lifecycle.js');
    r.event(containerId(a.name), 'Recreate');
    await stopContainer(findContainer(a.old.id), o.timeout).catch(() => undefined);
    await removeQuietly(a.old.id);
    const rec = await createOne(project, s, a.name, a.number, hash, imageId, conv, o.pullFn, r);
    r.event(containerId(a.name), 'Recreated');
    return rec;
  }
  r.event(containerId(a.name), 'Creating');
  const rec = await createOne(project, s, a.name, a.number, hash, imageId, conv, o.pullFn, r);
  made.containers.push(rec.Id);
  r.event(containerId(a.name), 'Created');
  return rec;
}

// ---- down, stop, start, ... ---------------------------------------------------------------------

export interface DownOptions {
  volumes?: boolean;
  removeOrphans?: boolean;
  rmi?: 'local' | 'all';
  timeout?: number;
}

/** `down`: stop and remove the project's containers (dependents first), its networks, with -v its volumes, with --rmi its images. */
export async function down(project: Project, o: DownOptions, r: Reporter): Promise<void> {
  await withLock(`compose-${project.name}`, async () => {
    const { stopContainer } = await import('../../container/lifecycle.js');
    const all = await projectContainers(project.name);
    const known = new Set([...Object.keys(project.services), ...Object.keys(project.disabledServices)]);
    const orphans = all.filter((c) => !known.has(c.existing.service) && !c.existing.oneoff);
    const groups = stopOrder(project, all.map((c) => c.existing).filter((c) => o.removeOrphans || known.has(c.service) || c.oneoff));
    if (orphans.length && !o.removeOrphans) {
      r.warn(`Found orphan containers (${orphans.map((c) => c.existing.name).join(', ')}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`);
    }
    const recOf = new Map(all.map((c) => [c.existing.id, c.rec] as const));
    for (const g of groups) {
      await Promise.all(
        g.map(async (c) => {
          if (c.running) {
            r.event(containerId(c.name), 'Stopping');
            await stopContainer(recOf.get(c.id)!, o.timeout);
            r.event(containerId(c.name), 'Stopped');
          }
          r.event(containerId(c.name), 'Removing');
          await removeQuietly(c.id, true);
          r.event(containerId(c.name), 'Removed');
        }),
      );
    }
    // networks: the project's own (not external), when no container uses them any more
    const { readNetwork } = await import('../../network/store.js');
    const { removeNetwork } = await import('../../network/manage.js');
    for (const n of Object.values(project.networks).sort((a, b) => a.name.localeCompare(b.name))) {
      if (n.external) continue;
      const rec = readNetwork(n.name);
      if (!rec || rec.Labels[L.project] !== project.name) continue;
      r.event(`Network ${n.name}`, 'Removing');
      try {
        await removeNetwork(n.name);
        r.event(`Network ${n.name}`, 'Removed');
      } catch (e) {
        r.warn(`network ${n.name}: ${(e as Error).message}`);
      }
    }
    if (o.volumes) {
      const { volumeExists, removeVolume, findVolume } = await import('../../volume/volumes.js');
      for (const v of Object.values(project.volumes).sort((a, b) => a.name.localeCompare(b.name))) {
        if (v.external || !volumeExists(v.name)) continue;
        if ((findVolume(v.name).Labels ?? {})[L.project] !== project.name) continue;
        r.event(`Volume ${v.name}`, 'Removing');
        await removeVolume(v.name, false, () => false);
        r.event(`Volume ${v.name}`, 'Removed');
      }
    }
    if (o.rmi) {
      const { removeImage } = await import('../../image/manage.js');
      const images = new Set<string>();
      for (const s of Object.values(project.services)) if (o.rmi === 'all' || !s.image) images.add(serviceImage(project, s));
      for (const img of [...images].sort()) {
        try {
          await removeImage(img, false);
          r.event(`Image ${img}`, 'Removed');
        } catch (e) {
          if (!(e instanceof SkiffError && e.code === 'ENOIMAGE')) r.warn(`image ${img}: ${(e as Error).message}`);
        }
      }
    }
  });
}

/** The project's containers of `services` (all when empty), one-off ones only when asked. */
export async function serviceContainers(project: Project, services: string[] = [], o: { oneoff?: boolean; index?: number } = {}): Promise<{ existing: Existing; rec: ContainerRecord }[]> {
  if (services.length) selectServices(project, services, true);
  const all = await projectContainers(project.name);
  return all.filter((c) => (services.length === 0 || services.includes(c.existing.service)) && (o.oneoff || !c.existing.oneoff) && (o.index === undefined || c.existing.number === o.index));
}

/** `stop` / `kill` / `start` / `restart` / `pause` / `unpause` / `rm`: one action on containers, in the order Docker takes (dependents first for stopping). */
export async function eachContainer(
  project: Project,
  services: string[],
  verb: { stopping: boolean; pending: string; done: string },
  fn: (rec: ContainerRecord, e: Existing) => Promise<boolean | void>,
  r: Reporter,
  filter: (e: Existing) => boolean = () => true,
): Promise<number> {
  const list = (await serviceContainers(project, services)).filter((c) => filter(c.existing));
  const recOf = new Map(list.map((c) => [c.existing.id, c.rec] as const));
  const groups = stopOrder(project, list.map((c) => c.existing));
  if (!verb.stopping) groups.reverse();
  let n = 0;
  for (const g of groups) {
    await Promise.all(
      g.map(async (c) => {
        r.event(containerId(c.name), verb.pending);
        if ((await fn(recOf.get(c.id)!, c)) === false) return;
        n++;
        r.event(containerId(c.name), verb.done);
      }),
    );
  }
  return n;
}

export { dependencyOrder, selectServices };

export interface RunOptions extends ImageOptions {
  name?: string;
  noDeps?: boolean;
  /** What convert.ts takes for a one-off container (command, entrypoint, env, ports, tty, ...). */
  run: NonNullable<ConvertOptions['run']>;
  labels?: string[];
  volumes?: string[];
}

/**
 * `run`: the service's dependencies brought up (as `up SERVICE...` of them), then a one-off container
 * of the service (`PROJECT-SERVICE-run-ID`, com.docker.compose.oneoff=True) created, not started: the
 * caller starts it attached or detached.
 */
export async function createOneOff(project: Project, service: string, o: RunOptions, r: Reporter): Promise<ContainerRecord> {
  const order = selectServices(project, [service], o.noDeps ?? false);
  const deps = order.filter((n) => n !== service);
  if (deps.length) await up(project, { ...o, services: deps, noDeps: false }, r);
  const s = project.services[service]!;
  const made: Made = { containers: [], networks: [], volumes: [] };
  try {
    return await withLock(`compose-${project.name}`, async () => {
      await ensureNetworks(project, [service], r, made);
      await ensureVolumes(project, [service], r, made);
      const ids = await ensureImages(project, [service], o, r);
      const { newContainerId } = await import('../../container/names.js');
      const { oneOffContainerName } = await import('../names.js');
      const { serviceConfigHash } = await import('../hash.js');
      const name = o.name ?? oneOffContainerName(project.name, service, newContainerId());
      const current = await projectContainers(project.name);
      const conv: ConvertOptions = {
        containerOfService: (svc) => current.find((c) => c.existing.service === svc && !c.existing.oneoff)?.existing.name,
        run: o.run,
      };
      const { createContainer } = await import('../../container/create.js');
      const { options, warnings, connect } = createOptionsFor(project, s, { name, number: 1, hash: serviceConfigHash(s), oneoff: true, imageId: ids[service]! }, conv);
      for (const w of warnings) r.warn(w);
      options.labels.push(...(o.labels ?? []));
      options.volumes.push(...(o.volumes ?? []));
      if (o.run.rm) options.rm = true;
      const rec = await createContainer(options, o.pullFn, { warn: (m) => r.warn(m) });
      made.containers.push(rec.Id);
      if (connect.length) {
        const { connectNetwork } = await import('../../container/network.js');
        for (const c of connect) await connectNetwork(c.name, rec.Id, { aliases: c.aliases, ...(c.ip ? { ip: c.ip } : {}) });
      }
      return rec;
    });
  } catch (e) {
    await undo(made);
    throw e;
  }
}
