/**
 * The service keys skiff implements (the list of what a typical application uses), in one
 * place. Any other key a service uses is reported as a warning naming it, never silently dropped.
 */
export const SUPPORTED_SERVICE_KEYS: ReadonlySet<string> = new Set([
  'group_add', 'pid', 'ipc', 'uts',
  'image', 'build', 'command', 'entrypoint', 'environment', 'env_file', 'ports', 'expose', 'volumes',
  'volumes_from', 'networks', 'network_mode', 'depends_on', 'healthcheck', 'restart', 'user', 'working_dir',
  'hostname', 'domainname', 'container_name', 'labels', 'init', 'read_only', 'privileged', 'tmpfs', 'cap_add',
  'cap_drop', 'security_opt', 'stop_signal', 'stop_grace_period', 'extra_hosts', 'dns', 'dns_search',
  'dns_opt', 'tty', 'stdin_open', 'deploy', 'scale', 'mem_limit', 'cpus', 'pids_limit', 'shm_size',
  'ulimits', 'sysctls', 'secrets', 'configs', 'profiles', 'pull_policy', 'platform', 'logging', 'develop',
  // consumed by the loader itself
  'extends', 'label_file',
]);

/** Sub-keys of `deploy` skiff implements (the rest is reported). */
export const SUPPORTED_DEPLOY_KEYS: ReadonlySet<string> = new Set(['replicas', 'resources']);
export const SUPPORTED_RESOURCE_LIMITS: ReadonlySet<string> = new Set(['memory', 'cpus', 'pids']);

/** Sub-keys of `build` skiff implements; `ssh` and `secrets` are refused by the builder. */
export const SUPPORTED_BUILD_KEYS: ReadonlySet<string> = new Set([
  'context', 'dockerfile', 'dockerfile_inline', 'args', 'target', 'labels', 'cache_from', 'network', 'no_cache', 'pull', 'tags', 'platforms',
]);

/** The keys of a service (canonical form) skiff will not act on: `deploy.placement`, `cpu_shares`, ... */
export function unsupportedKeys(service: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(service)) {
    if (k.startsWith('x-')) continue;
    if (!SUPPORTED_SERVICE_KEYS.has(k)) {
      out.push(k);
      continue;
    }
    if (k === 'deploy' && v && typeof v === 'object') {
      for (const [dk, dv] of Object.entries(v)) {
        if (dk.startsWith('x-')) continue;
        if (!SUPPORTED_DEPLOY_KEYS.has(dk)) out.push(`deploy.${dk}`);
        else if (dk === 'resources' && dv && typeof dv === 'object') {
          for (const [rk, rv] of Object.entries(dv)) {
            if (rk !== 'limits') out.push(`deploy.resources.${rk}`);
            else if (rv && typeof rv === 'object') for (const lk of Object.keys(rv)) if (!SUPPORTED_RESOURCE_LIMITS.has(lk)) out.push(`deploy.resources.limits.${lk}`);
          }
        }
      }
    }
    if (k === 'build' && v && typeof v === 'object') {
      for (const bk of Object.keys(v)) if (!bk.startsWith('x-') && !SUPPORTED_BUILD_KEYS.has(bk)) out.push(`build.${bk}`);
    }
  }
  return out;
}
