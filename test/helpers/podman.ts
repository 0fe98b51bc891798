/** Podman as a peer in side-by-side tests (rootful only: the rootless test user has no podman setup). */
import { execFileSync } from 'node:child_process';
import { isRootless } from './fixtures.js';

const havePodman = (() => {
  try {
    execFileSync('podman', ['--version']);
    return true;
  } catch {
    return false;
  }
})();

/** The reason to skip a podman comparison here, or false. */
export const podmanSkip: string | false = isRootless() ? 'podman is compared rootful only' : !havePodman ? 'podman is not installed' : false;

/** With its defaults, crun fails here on setrlimit(RLIMIT_NPROC): podman gets explicit limits. */
export const PODMAN_LIMITS = ['--ulimit', 'nproc=1024:1024', '--ulimit', 'nofile=1024:1024'];
