/**
 * The labels `docker compose` puts on what it makes (com.docker.compose.*), and a project's containers
 * as the engine sees them: read back from those labels, so `ps --filter label=...` works as with Docker
 * and a project made by one invocation is found by the next.
 */
export const L = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  number: 'com.docker.compose.container-number',
  configHash: 'com.docker.compose.config-hash',
  oneoff: 'com.docker.compose.oneoff',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  environmentFile: 'com.docker.compose.project.environment_file',
  version: 'com.docker.compose.version',
  image: 'com.docker.compose.image',
  dependsOn: 'com.docker.compose.depends_on',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
} as const;

/** The version skiff's compose writes in com.docker.compose.version (the Compose release whose behaviour it follows). */
export const COMPOSE_VERSION = '2.29.0';

/** A container of a project, as the planner needs it (no store types: the engine maps records to this). */
export interface Existing {
  id: string;
  name: string;
  service: string;
  number: number;
  /** com.docker.compose.config-hash */
  hash: string;
  /** The image id it was made from. */
  imageId: string;
  oneoff: boolean;
  running: boolean;
  /** Docker's State.Status: created, running, exited, paused, restarting, ... */
  status: string;
  /** Docker's health status ("" without a healthcheck). */
  health: string;
  exitCode: number;
  created: string;
}

/** An Existing from a container's labels and state; undefined for a container that is not compose's. */
export function existingOf(c: { id: string; name: string; labels: Record<string, string>; imageId: string; running: boolean; status: string; health: string; exitCode: number; created: string }): Existing | undefined {
  const service = c.labels[L.service];
  if (service === undefined || c.labels[L.project] === undefined) return undefined;
  const n = Number(c.labels[L.number] ?? '');
  return {
    id: c.id,
    name: c.name,
    service,
    number: Number.isInteger(n) && n > 0 ? n : 0,
    hash: c.labels[L.configHash] ?? '',
    imageId: c.imageId,
    oneoff: (c.labels[L.oneoff] ?? 'False') === 'True',
    running: c.running,
    status: c.status,
    health: c.health,
    exitCode: c.exitCode,
    created: c.created,
  };
}
