/**
 * Side by side with Podman (Debian's podman 4.3 + crun): the same image, the same command, and
 * what the container sees must match — capabilities, seccomp, no_new_privs, user, cwd, PATH, and
 * the image's file tree with modes and owners. Rootful only: the rootless user has no podman setup.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fixtures, skiff, tempStore, type TempStore } from '../helpers/fixtures.js';
import { PODMAN_LIMITS, podmanSkip as skip } from '../helpers/podman.js';

const PODMAN_RUN = ['run', '--rm', '--network=none', ...PODMAN_LIMITS];

function podman(image: string, script: string, extra: string[] = []): string {
  return execFileSync('podman', [...PODMAN_RUN, ...extra, image, 'sh', '-c', script], { maxBuffer: 64 << 20 }).toString();
}

describe('same container as podman', { skip }, () => {
  let store: TempStore;
  const fx = fixtures();
  before(async () => {
    store = await tempStore();
    execFileSync('podman', ['pull', '-q', '--tls-verify=false', fx.busybox, fx.multilayer]);
  });
  after(async () => store.cleanup());

  const cases: [string, string, string[]][] = [
    ['process status', 'grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|Seccomp|NoNewPrivs):" /proc/self/status', []],
    ['non-root user', 'id; grep -E "^(CapEff|CapBnd):" /proc/self/status', ['--user', 'app']],
    ['no-new-privileges', 'grep -E "^(CapEff|NoNewPrivs):" /proc/self/status', ['--security-opt', 'no-new-privileges']],
    ['cap-add/cap-drop', 'grep -E "^(CapEff|CapBnd):" /proc/self/status', ['--cap-add', 'NET_ADMIN', '--cap-drop', 'CHOWN']],
    ['user, cwd and PATH of the image config', 'id; pwd; echo $PATH; echo ${#HOSTNAME}', []],
  ];
  for (const [name, script, extra] of cases) {
    test(name, async () => {
      const ours = await skiff(['run', '--rm', '--network=none', ...extra, fx.busybox, 'sh', '-c', script], { store });
      assert.equal(ours.code, 0, ours.stderr);
      assert.equal(ours.stdout, podman(fx.busybox, script, extra));
    });
  }

  test('the image file tree (modes, owners, sizes, links) of a multi-layer image', async () => {
    // /etc/hosts, hostname and resolv.conf are generated per container; podman also adds /etc/mtab (Docker does not)
    const script = 'cd / && find bin etc data home tmp -xdev | grep -vE "^etc/(hosts|hostname|resolv.conf|mtab)$" | sort | while read -r f; do stat -c "%n %F %a %u:%g %s %N" "$f"; done';
    const ours = await skiff(['run', '--rm', '--user', '0', fx.multilayer, 'sh', '-c', script], { store });
    assert.equal(ours.code, 0, ours.stderr);
    const theirs = podman(fx.multilayer, script, ['--user', '0']);
    assert.equal(ours.stdout.split('\n').length, theirs.split('\n').length);
    assert.deepEqual(ours.stdout.split('\n'), theirs.split('\n'));
  });
});
