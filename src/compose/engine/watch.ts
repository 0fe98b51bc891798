/**
 * `compose watch`: the services' `develop.watch` paths watched (one inotify watch per directory,
 * ignored directories not entered, new directories added as they appear), changes gathered until
 * 500 ms pass without one (Docker Compose's quiet period), then per batch, in Docker Compose's order:
 * `rebuild` (build the image, recreate the service's containers), the syncs (changed files copied
 * into each running container of the service with `cp`'s copyToContainer, missing parents made
 * first; removed files removed with `rm -rf` in the container, as Docker Compose does), `restart`
 * (and `sync+restart`), then `sync+exec`'s commands. Lines for the user go to `log` (Docker
 * Compose's watch messages), an action that fails is reported and watching goes on.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { Project } from '../model.js';
import type { Reporter, ImageOptions } from './engine.js';
import { activeRules, boundByMount, quoteList, ruleTarget, type ActiveRule } from './watch-rules.js';

/** Docker Compose's watch.QuietPeriod. */
const QUIET_MS = 500;

export interface WatchOptions extends Pick<ImageOptions, 'pullFn' | 'buildLog'> {
  services: string[];
  /** --prune: a rebuilt service's previous image is removed when it is left without a tag or a container. */
  prune: boolean;
  /** Ends watching (Ctrl-C). */
  signal: AbortSignal;
  /** Docker Compose's watch messages, one line each. */
  log: (line: string) => void;
  /** sync+exec commands' output. */
  stdout: Writable;
  stderr: Writable;
}

/** Watch directories (each with its own fs.watch) under some roots; report changed paths. */
class TreeWatcher {
  private readonly watchers = new Map<string, fs.FSWatcher>();

  constructor(
    private readonly skipDir: (dir: string) => boolean,
    private readonly changed: (p: string) => void,
  ) {}

  /** Watch `p` (a file: its directory) and, for a directory, everything under it; `report`: say its files changed (a directory that appeared). */
  add(p: string, report: boolean): void {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      // a root that does not exist yet: its parent tells when it appears
      if (!report) this.add(path.dirname(p), false);
      return;
    }
    if (!st.isDirectory()) {
      if (report) this.changed(p);
      else this.watchDir(path.dirname(p));
      return;
    }
    if (this.watchers.has(p) || this.skipDir(p)) return;
    this.watchDir(p);
    let names: string[];
    try {
      names = fs.readdirSync(p);
    } catch {
      return;
    }
    for (const n of names) this.add(path.join(p, n), report);
  }

  private watchDir(dir: string): void {
    if (this.watchers.has(dir)) return;
    let w: fs.FSWatcher;
    try {
      w = fs.watch(dir, { persistent: true }, (_event, name) => {
        if (name === null) return;
        const p = path.join(dir, name.toString());
        this.changed(p);
        let st: fs.Stats | undefined;
        try {
          st = fs.lstatSync(p);
        } catch {
          st = undefined;
        }
        if (st?.isDirectory() && !this.watchers.has(p)) this.add(p, true);
        else if (!st) this.drop(p);
      });
    } catch {
      return; // gone again, or no watch left (ENOSPC): its changes are not seen
    }
    w.on('error', () => this.drop(dir));
    this.watchers.set(dir, w);
  }

  private drop(dir: string): void {
    for (const [d, w] of this.watchers) {
      if (d === dir || d.startsWith(`${dir}/`)) {
        w.close();
        this.watchers.delete(d);
      }
    }
  }

  close(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}

/** Run a command in a running container; its exit code. */
async function execIn(id: string, args: string[], x: { user?: string; workingDir?: string; privileged?: boolean; env?: string[] }, out: Writable, err: Writable): Promise<number> {
  const { prepareExec, spawnExec } = await import('../../container/lifecycle.js');
  const { findContainer } = await import('../../store/containers.js');
  const p = await prepareExec(findContainer(id), {
    args, tty: false, interactive: false, env: x.env ?? [], privileged: x.privileged ?? false,
    ...(x.user ? { user: x.user } : {}), ...(x.workingDir ? { workdir: x.workingDir } : {}),
  });
  const child = spawnExec(p, false);
  child.stdout?.on('data', (d: Buffer) => out.write(d));
  child.stderr?.on('data', (d: Buffer) => err.write(d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? 1));
  });
}

/** Copy changed host paths into one container; remove the ones gone from the host. */
async function syncInto(id: string, mappings: Map<string, string>, o: WatchOptions): Promise<void> {
  const cp = await import('../../builder/cp.js');
  const { makeStagingDir, removeTree } = await import('../../store/atomic.js');
  const known = new Set<string>(['/']);
  let empty: string | undefined;
  const gone: string[] = [];
  const opts = { archive: false, followLink: false };
  /** Make the container's directory `dir` and its parents (an empty directory copied in, with the host directory's mode). */
  const ensureDir = async (dir: string, hostDir: string | undefined): Promise<void> => {
    if (known.has(dir)) return;
    const st = await cp.statContainerPath(id, dir);
    if (!st) {
      await ensureDir(path.posix.dirname(dir), hostDir && path.dirname(hostDir));
      empty ??= await makeStagingDir('watch');
      let mode = 0o755;
      try {
        if (hostDir) mode = fs.statSync(hostDir).mode & 0o7777;
      } catch {
        // the host's directory went: the default
      }
      fs.chmodSync(empty, mode);
      await cp.copyToContainer(empty, id, dir, opts, process.stdin);
    }
    known.add(dir);
  };
  try {
    for (const [host, target] of [...mappings].sort(([a], [b]) => a.localeCompare(b))) {
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(host);
      } catch {
        st = undefined;
      }
      if (!st) {
        gone.push(target);
        continue;
      }
      if (st.isDirectory()) {
        await ensureDir(target, host);
        continue;
      }
      await ensureDir(path.posix.dirname(target), path.dirname(host));
      await cp.copyToContainer(host, id, target, opts, process.stdin);
    }
  } finally {
    if (empty) await removeTree(empty);
  }
  if (gone.length) {
    const code = await execIn(id, ['rm', '-rf', ...gone], {}, o.stdout, o.stderr);
    if (code !== 0) throw new Error(`removing ${gone.join(', ')}: rm exited with code ${code}`);
  }
}

/** Docker Compose's --prune: the images a rebuild replaced, removed if nothing names or uses them any more. */
async function pruneDangling(ids: string[]): Promise<void> {
  const { inspectImage, removeImage } = await import('../../image/manage.js');
  for (const id of ids) {
    try {
      const tags = (await inspectImage(id)).RepoTags;
      if (Array.isArray(tags) && tags.length === 0) await removeImage(id, false); // refused while a container uses it
    } catch {
      // gone already, or in use: kept
    }
  }
}

/** What one batch of changed paths asks for. */
interface Batch {
  rebuild: Set<string>;
  sync: Map<string, Map<string, string>>;
  restart: Set<string>;
  exec: Map<string, Set<ActiveRule>>;
}

function classify(rules: ActiveRule[], paths: Iterable<string>): Batch {
  const b: Batch = { rebuild: new Set(), sync: new Map(), restart: new Set(), exec: new Map() };
  for (const p of paths) {
    for (const rule of rules) {
      const target = ruleTarget(rule, p);
      if (target === undefined) continue;
      if (rule.action === 'rebuild') b.rebuild.add(rule.service);
      if (rule.action === 'restart' || rule.action === 'sync+restart') b.restart.add(rule.service);
      if (rule.action.startsWith('sync') && target) {
        const m = b.sync.get(rule.service) ?? new Map<string, string>();
        m.set(p, target);
        b.sync.set(rule.service, m);
      }
      if (rule.action === 'sync+exec') b.exec.set(rule.service, (b.exec.get(rule.service) ?? new Set()).add(rule));
    }
  }
  return b;
}

async function runningContainers(project: Project, service: string): Promise<string[]> {
  const { serviceContainers } = await import('./engine.js');
  return (await serviceContainers(project, [service])).filter((c) => c.existing.running).map((c) => c.rec.Id);
}

async function handle(project: Project, b: Batch, o: WatchOptions, r: Reporter): Promise<void> {
  if (b.rebuild.size) {
    const services = [...b.rebuild].sort();
    o.log(`Rebuilding service(s) ${quoteList(services)} after changes were detected...`);
    const engine = await import('./engine.js');
    const { serviceImage } = await import('./convert.js');
    const { findImage } = await import('../../image/local.js');
    const before = new Map<string, string | undefined>();
    for (const n of services) before.set(n, (await findImage(serviceImage(project, project.services[n]!)))?.id);
    try {
      for (const n of services) await engine.buildService(project, project.services[n]!, o, r);
    } catch (e) {
      o.log(`Build failed. Error: ${(e as Error).message}`);
      throw e;
    }
    o.log(`service(s) ${quoteList(services)} successfully built`);
    try {
      await engine.up(project, { services, noDeps: true, forceRecreate: true, pull: 'never', pullFn: o.pullFn }, r);
    } catch (e) {
      o.log(`Failed to recreate services after update. Error: ${(e as Error).message}`);
      throw e;
    }
    if (o.prune) await pruneDangling([...before.values()].filter((id): id is string => id !== undefined));
  }
  for (const [service, mappings] of b.sync) {
    o.log(`Syncing service ${JSON.stringify(service)} after ${mappings.size} changes were detected`);
    for (const id of await runningContainers(project, service)) await syncInto(id, mappings, o);
  }
  if (b.restart.size) {
    const services = [...b.restart].sort();
    const { restartServices } = await import('./verbs.js');
    await restartServices(project, services, {}, r);
    o.log(`service(s) ${quoteList(services)} restarted`);
  }
  for (const [service, rules] of b.exec) {
    for (const id of await runningContainers(project, service)) {
      for (const rule of rules) {
        const x = rule.exec!;
        const code = await execIn(id, x.command, { ...x, env: x.environment }, o.stdout, o.stderr);
        if (code !== 0) throw new Error(`exit code ${code}`);
      }
    }
  }
}

/** The first copy of `initial_sync` rules' files (what is not ignored), before watching. */
async function initialSync(project: Project, rules: ActiveRule[], o: WatchOptions): Promise<void> {
  for (const rule of rules) {
    if (!rule.initialSync || !rule.action.startsWith('sync')) continue;
    const s = project.services[rule.service]!;
    const mappings = new Map<string, string>();
    const skip = new Set(['Dockerfile', 'compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml', 'compose.override.yaml', 'compose.override.yml',
      'docker-compose.override.yaml', 'docker-compose.override.yml', ...(s.build?.dockerfile ? [path.basename(s.build.dockerfile)] : [])]);
    const walk = (p: string): void => {
      const target = ruleTarget(rule, p);
      if (target === undefined || (p !== rule.path && skip.has(path.basename(p)))) return;
      let st: fs.Stats;
      try {
        st = fs.lstatSync(p);
      } catch {
        return;
      }
      if (!st.isDirectory()) mappings.set(p, target);
      else for (const n of fs.readdirSync(p)) walk(path.join(p, n));
    };
    walk(rule.path);
    if (mappings.size) for (const id of await runningContainers(project, rule.service)) await syncInto(id, mappings, o);
  }
}

/** Watch until `o.signal` aborts. */
export async function watchProject(project: Project, o: WatchOptions, r: Reporter): Promise<void> {
  const rules = activeRules(project, o.services);
  const watched = rules.filter((rule) => {
    if (rule.action.startsWith('sync') && boundByMount(project.services[rule.service]!, rule.path)) {
      r.warn(`path '${rule.path}' also declared by a bind mount volume, this path won't be monitored!`);
      return false;
    }
    return true;
  });
  await initialSync(project, watched, o);
  let pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const flush = (): void => {
    const paths = pending;
    pending = new Set();
    const b = classify(watched, paths);
    if (!b.rebuild.size && !b.sync.size && !b.restart.size && !b.exec.size) return;
    running = running.then(() => handle(project, b, o, r)).catch((e: unknown) => r.warn(`Error handling changed files: ${(e as Error).message}`));
  };
  // a directory every rule ignores is not entered
  const skipDir = (dir: string): boolean => !watched.some((rule) => (dir === rule.path || rule.path.startsWith(`${dir}/`)) || ruleTarget(rule, dir) !== undefined);
  const tree = new TreeWatcher(skipDir, (p) => {
    if (!watched.some((rule) => ruleTarget(rule, p) !== undefined)) return;
    pending.add(p);
    clearTimeout(timer);
    timer = setTimeout(flush, QUIET_MS);
  });
  for (const rule of watched) tree.add(rule.path, false);
  o.log('Watch enabled');
  await new Promise<void>((resolve) => {
    if (o.signal.aborted) resolve();
    o.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  clearTimeout(timer);
  tree.close();
  await running;
  o.log('Watch disabled');
}
