/** Project names (compose-go's rules) and the names Docker Compose gives containers. */
import { composeError } from './errors.js';

/** Lower case, only `[a-z0-9_-]` kept, leading `_`/`-` dropped (a directory name → a project name). */
export function normalizeProjectName(s: string): string {
  return (s.toLowerCase().match(/[a-z0-9_-]/g) ?? []).join('').replace(/^[_-]+/, '');
}

/** A name given explicitly (`-p`, COMPOSE_PROJECT_NAME) must already be normal. */
export function checkProjectName(name: string): string {
  if (normalizeProjectName(name) !== name || name === '') {
    throw composeError(`invalid project name ${JSON.stringify(name)}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`);
  }
  return name;
}

/** `container_name`, or `PROJECT-SERVICE-N` (N from 1), as `docker compose` v2 names containers. */
export function containerName(project: string, service: { name: string; containerName?: string }, index: number): string {
  return service.containerName ?? `${project}-${service.name}-${index}`;
}

/** A one-off container of `compose run`: `PROJECT-SERVICE-run-ID` (ID: 12 hex characters). */
export function oneOffContainerName(project: string, service: string, id: string): string {
  return `${project}-${service}-run-${id.slice(0, 12)}`;
}
