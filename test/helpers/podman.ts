/**
 * Podman as a peer in side-by-side tests. `podman run` is compared rootful and rootless (the rootless
 * test user gets its storage.conf with the overlay driver from scripts/rootless-user.sh); builds are
 * compared rootful only.
 */
import { spawnSync } from 'node:child_process';
import { isRootless } from './fixtures.js';

const podmanProblem = ((): string | false => {
  const r = spawnSync('podman', ['info', '--format', '{{.Store.GraphDriverName}}'], { encoding: 'utf8' });
  if (r.error) return 'podman is not installed';
  if (r.status !== 0) return `podman does not work for this user: ${r.stderr.trim().split('\n').pop()}`;
  // Debian's podman 4.3 silently falls back to vfs without the user's storage.conf (GUIDE §6)
  if (r.stdout.trim() !== 'overlay') return `podman uses the ${r.stdout.trim()} driver, not overlay (see scripts/rootless-user.sh)`;
  return false;
})();

/** The reason to skip a `podman run` comparison here (rootful or rootless), or false. */
export const podmanRunSkip: string | false = podmanProblem;

/** The reason to skip a comparison that is made rootful only (builds), or false. */
export const podmanSkip: string | false = isRootless() ? 'podman is compared rootful only' : podmanProblem;

/** Explicit limits for podman runs (setup's default_ulimits make podman's defaults work here too). */
export const PODMAN_LIMITS = ['--ulimit', 'nproc=1024:1024', '--ulimit', 'nofile=1024:1024'];
