/**
 * The compose verbs that reach into a service's containers or the project's history: `cp` and
 * `attach` (a service's container by index, as Docker Compose picks it), `wait` (the services'
 * containers until they stop) and `events` (skiff's event log filtered to the project's containers,
 * Docker Compose's event shape). Nothing is printed here.
 */
import { SkiffError } from '../../errors.js';
import type { ContainerRecord } from '../../store/containers.js';
import type { Project } from '../model.js';
import { serviceContainers } from './engine.js';
import { L } from './labels.js';

/**
 * The containers of `service` a verb acts on: the one numbered `index`, or every one (sorted by
 * number) when index is 0. `running`: only running ones count. None: Docker Compose's error.
 */
export async function serviceTargets(project: Project, service: string, o: { index: number; running?: boolean }): Promise<ContainerRecord[]> {
  const list = (await serviceContainers(project, [service], o.index ? { index: o.index } : {}))
    .filter((c) => !o.running || c.existing.running)
    .sort((a, b) => a.existing.number - b.existing.number);
  if (!list.length) {
    throw new SkiffError('ENOCONTAINER', o.running ? `service "${service}" is not running` : `no container found for service "${service}"`, 1);
  }
  return list.map((c) => c.rec);
}

/** One stopped container of `wait`: what Docker Compose prints for it. */
export interface WaitResult {
  id: string;
  exitCode: number;
}

/**
 * `wait SERVICE...`: every container of the services (one-off ones too) until it stops; `onExit` for
 * each as it does. The result is the code of the last to stop (Docker Compose's).
 */
export async function waitServices(project: Project, services: string[], onExit: (r: WaitResult) => void): Promise<number> {
  const { waitContainer } = await import('../../container/lifecycle.js');
  const list = await serviceContainers(project, services, { oneoff: true });
  if (!list.length) throw new SkiffError('ENOCONTAINER', `no containers for project "${project.name}"`, 1);
  let last = 0;
  await Promise.all(
    list.map(async ({ rec }) => {
      const exitCode = await waitContainer(rec);
      onExit({ id: rec.Id, exitCode });
      last = exitCode;
    }),
  );
  return last;
}

/** One event as Docker Compose reports it (api.Event): the compose labels left out of the attributes. */
export interface ProjectEvent {
  /** nanoseconds since the epoch */
  timeNano: bigint;
  service: string;
  id: string;
  action: string;
  attributes: Record<string, string>;
}

/**
 * `events [SERVICE...]`: the project's container events (one-off containers left out) from skiff's
 * event log, from now on (or `since`), until `until` passes or `stop()` says so.
 */
export async function* projectEvents(projectName: string, o: { services: string[]; since?: bigint; until?: bigint; stop: () => boolean }): AsyncGenerator<ProjectEvent> {
  const { parseEventFilters, streamEvents } = await import('../../store/events.js');
  const filters = parseEventFilters(['type=container', `label=${L.project}=${projectName.toLowerCase()}`]);
  for await (const m of streamEvents({ filters, ...(o.since !== undefined ? { since: o.since } : {}), ...(o.until !== undefined ? { until: o.until } : {}), stop: o.stop })) {
    const a = m.Actor.Attributes;
    if (a[L.oneoff] === 'True') continue;
    const service = a[L.service] ?? '';
    if (o.services.length && !o.services.includes(service)) continue;
    const attributes = Object.fromEntries(Object.entries(a).filter(([k]) => !k.startsWith('com.docker.compose.')));
    yield { timeNano: m.timeNano, service, id: m.Actor.ID, action: m.Action, attributes };
  }
}
