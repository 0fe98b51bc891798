/**
 * The planner (pure): a project and the containers it has now → what `up` does to each service, in
 * dependency order, as `docker compose` decides it (pkg/compose/convergence.go, read, never copied):
 * - a service has `replicas` containers (`--scale` overrides deploy.replicas), numbered from 1; extra
 *   ones (highest numbers first) are removed, missing ones created with the next number;
 * - a container whose config hash (label) differs from the service's, or whose image is not the one
 *   the service resolves to now, is recreated (`--force-recreate`: always; `--no-recreate`: never);
 *   a stopped one is started, a running one left as it is;
 * - containers of services the project does not have (active or disabled) are orphans.
 */
import { composeError } from '../errors.js';
import { serviceConfigHash } from '../hash.js';
import { containerName } from '../names.js';
import type { Project } from '../model.js';
import type { Existing } from './labels.js';
import { byteOrder } from '../../lib/order.js';

export type Action =
  | { kind: 'create'; service: string; number: number; name: string }
  | { kind: 'recreate'; service: string; number: number; name: string; old: Existing }
  | { kind: 'start'; service: string; container: Existing }
  | { kind: 'running'; service: string; container: Existing }
  | { kind: 'remove'; service: string; container: Existing };

export interface ServicePlan {
  name: string;
  /** The config hash its containers carry. */
  hash: string;
  actions: Action[];
}

export interface UpPlan {
  /** Services in start order (dependencies first). */
  order: string[];
  services: Record<string, ServicePlan>;
  /** Containers of services the project does not have. */
  orphans: Existing[];
}

export interface UpPlanOptions {
  /** SERVICE... of the command line (empty: every active service). */
  services?: string[];
  noDeps?: boolean;
  forceRecreate?: boolean;
  noRecreate?: boolean;
  /** --scale SERVICE=N */
  scale?: Record<string, number>;
  /** The image id each service's image resolves to now (when known): a container of another image is recreated. */
  imageIds?: Record<string, string>;
}

/** The services' dependencies that are in the project (depends_on keys of active services). */
function depsOf(project: Project, name: string): string[] {
  const s = project.services[name];
  if (!s) return [];
  return Object.keys(s.dependsOn).filter((d) => project.services[d] !== undefined);
}

/** `names` in start order: every service after the services it depends on (the loader refused cycles). */
export function dependencyOrder(project: Project, names: Iterable<string>): string[] {
  const want = new Set(names);
  const out: string[] = [];
  const done = new Set<string>();
  const visit = (n: string, path: Set<string>): void => {
    if (done.has(n)) return;
    if (path.has(n)) throw composeError(`dependency cycle detected: ${[...path, n].join(' -> ')}`);
    path.add(n);
    for (const d of depsOf(project, n)) if (want.has(d)) visit(d, path);
    path.delete(n);
    done.add(n);
    out.push(n);
  };
  for (const n of [...want].sort()) visit(n, new Set());
  return out;
}

/**
 * The services a command acts on: those named (each must exist: `no such service: X`), with the
 * services they depend on unless `noDeps`; none named: every active service.
 */
export function selectServices(project: Project, named: readonly string[] = [], noDeps = false): string[] {
  if (named.length === 0) return dependencyOrder(project, Object.keys(project.services));
  const set = new Set<string>();
  const add = (n: string): void => {
    if (set.has(n)) return;
    set.add(n);
    if (!noDeps) for (const d of depsOf(project, n)) add(d);
  };
  for (const n of named) {
    if (!project.services[n]) {
      if (project.disabledServices[n]) throw composeError(`service ${JSON.stringify(n)} has profiles that are not enabled: ${project.disabledServices[n]!.profiles.join(', ')}`);
      throw composeError(`no such service: ${n}`);
    }
    add(n);
  }
  return dependencyOrder(project, set);
}

const byNumber = (a: Existing, b: Existing): number => a.number - b.number || byteOrder(a.created, b.created);

/** What `up` does, service by service (see the file's comment). */
export function planUp(project: Project, existing: readonly Existing[], o: UpPlanOptions = {}): UpPlan {
  const order = selectServices(project, o.services ?? [], o.noDeps ?? false);
  const services: Record<string, ServicePlan> = {};
  const mine = existing.filter((c) => !c.oneoff);
  for (const name of order) {
    const s = project.services[name]!;
    const hash = serviceConfigHash(s);
    const want = o.scale?.[name] ?? s.replicas;
    const have = mine.filter((c) => c.service === name).sort(byNumber);
    const actions: Action[] = [];
    let next = Math.max(0, ...have.map((c) => c.number)) + 1;
    have.forEach((c, i) => {
      if (i >= want) {
        actions.push({ kind: 'remove', service: name, container: c });
        return;
      }
      const image = o.imageIds?.[name];
      const diverged = c.hash !== hash || (image !== undefined && c.imageId !== image);
      if (!o.noRecreate && (o.forceRecreate || diverged)) {
        actions.push({ kind: 'recreate', service: name, number: c.number, name: containerName(project.name, s, c.number), old: c });
      } else if (c.running) actions.push({ kind: 'running', service: name, container: c });
      else actions.push({ kind: 'start', service: name, container: c });
    });
    for (let i = have.length; i < want; i++) {
      const number = have.length === 0 ? i + 1 : next++;
      actions.push({ kind: 'create', service: name, number, name: containerName(project.name, s, number) });
    }
    services[name] = { name, hash, actions };
  }
  const known = new Set([...Object.keys(project.services), ...Object.keys(project.disabledServices)]);
  const orphans = mine.filter((c) => !known.has(c.service));
  return { order, services, orphans };
}

/**
 * The order `down`/`stop` take a project's containers in: orphans first, then the services in
 * reverse start order (dependents before what they depend on), one-off containers with their service.
 */
export function stopOrder(project: Project, existing: readonly Existing[]): Existing[][] {
  const known = dependencyOrder(project, Object.keys(project.services).concat(Object.keys(project.disabledServices).filter((n) => !project.services[n])));
  const groups: Existing[][] = [];
  const orphans = existing.filter((c) => !known.includes(c.service));
  if (orphans.length) groups.push(orphans);
  for (const n of [...known].reverse()) {
    const g = existing.filter((c) => c.service === n);
    if (g.length) groups.push(g);
  }
  return groups;
}

/**
 * The services a verb that acts on dependents takes (`restart` without --no-deps): those named (all
 * active ones when none), with every service that depends on them, directly or not; in start order.
 */
export function withDependents(project: Project, named: readonly string[] = [], noDeps = false): string[] {
  if (named.length === 0) return selectServices(project);
  const set = new Set(selectServices(project, named, true));
  if (!noDeps) {
    for (let grew = true; grew; ) {
      grew = false;
      for (const n of Object.keys(project.services)) {
        if (!set.has(n) && depsOf(project, n).some((d) => set.has(d))) {
          set.add(n);
          grew = true;
        }
      }
    }
  }
  return dependencyOrder(project, set);
}
