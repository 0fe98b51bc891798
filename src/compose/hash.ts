/**
 * The config hash of a service (label com.docker.compose.config-hash): `up` recreates a container
 * whose hash changed. As Docker Compose's ServiceHash, it covers the service's whole normalised config
 * (image, command, environment after env_file resolution, ports, volumes, networks, labels, limits,
 * healthcheck, ...) except what does not change a container: `build`, `pull_policy`, `scale`,
 * `deploy.replicas`, `depends_on`, `profiles` and `develop` (watch rules). Keys are sorted, so the order in the file does not
 * matter. The contents of bind-mounted files, secrets and configs are not covered (as Docker).
 */
import { crypto } from '../lib/lazy.js';
import type { Service } from './model.js';
import { isMap, type Json, type JsonMap } from './tree.js';

function stable(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (isMap(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable(v[k]!)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function serviceConfigHash(service: Pick<Service, 'config'>): string {
  const c: JsonMap = { ...service.config };
  for (const k of ['build', 'pull_policy', 'scale', 'depends_on', 'profiles', 'develop']) delete c[k];
  if (isMap(c.deploy)) {
    const d: JsonMap = { ...c.deploy };
    delete d.replicas;
    c.deploy = d;
  }
  return crypto().createHash('sha256').update(stable(c)).digest('hex');
}
