/**
 * Side by side with Podman (Debian's podman 4.3 + crun), rootful and rootless: the same image, the
 * same command, and what the container sees must match — capabilities, seccomp, no_new_privs, user,
 * cwd, PATH, environment, hostname, uid/gid maps, the mounts (mount points, filesystem types, mount
 * options; the differences kept on purpose are listed in ON_PURPOSE with their reasons) and the
 * image's file tree with modes and owners.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtures, SKIFF_BIN, skiff, tempStore, type TempStore } from '../helpers/fixtures.js';
import { parseMountinfo, type MountInfo } from '../helpers/mountinfo.js';
import { PODMAN_LIMITS, podmanRunSkip as skip } from '../helpers/podman.js';
import { Terminal } from '../helpers/terminal.js';

const PODMAN_RUN = ['run', '--rm', '--network=none', ...PODMAN_LIMITS];
const DEV_TREE = 'find /dev | sort | while read -r f; do stat -c "%n %F %a %u:%g %t:%T %N" "$f"; done';

/**
 * What `script` writes to stdout in a podman container. Podman 4.3's attached `run --rm` can lose a
 * short-lived container's output (containers/podman#9096; in CI it once gave an empty stdout and exit
 * 0), so the container runs detached and its output is read from its log once it has exited.
 */
function podman(image: string, script: string, extra: string[] = []): string {
  const pod = (args: string[]): string => execFileSync('podman', args, { maxBuffer: 64 << 20 }).toString();
  const id = pod(['run', '-d', ...PODMAN_RUN.filter((a) => a !== 'run' && a !== '--rm'), ...extra, image, 'sh', '-c', script]).trim();
  try {
    assert.equal(pod(['wait', id]).trim(), '0', `podman: ${script}: ${pod(['logs', id])}`);
    return execFileSync('podman', ['logs', id], { maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  } finally {
    spawnSync('podman', ['rm', '-f', id]);
  }
}

/**
 * Differences in the mount table that are on purpose. Each rewrites podman's entry into what skiff
 * shows (or drops an entry from both sides); anything else that differs fails the comparison.
 */
const ON_PURPOSE: { what: string; why: string; podman: (m: Entry) => Entry | null; skiff?: (m: Entry) => Entry | null }[] = [
  { what: '/run/.containerenv', why: "Podman's own marker file", podman: (m) => (m.point === '/run/.containerenv' ? null : m) },
  {
    what: '/sys/fs/cgroup',
    why: 'cgroup filesystems: skiff mounts only the hierarchies the container has a group in (test/e2e/limits.test.ts reads them): not compared',
    podman: (m) => (m.point === '/sys/fs/cgroup' || m.point.startsWith('/sys/fs/cgroup/') ? null : m),
    skiff: (m) => (m.point === '/sys/fs/cgroup' || m.point.startsWith('/sys/fs/cgroup/') ? null : m),
  },
  {
    what: '/etc/resolv.conf',
    why: 'Podman binds none with --network=none; skiff always writes one, as Docker does',
    podman: (m) => m,
    skiff: (m) => (m.point === '/etc/resolv.conf' ? null : m),
  },
  {
    what: '/dev/shm size',
    why: "Docker's 64 MiB (65536k); Podman's default is 64000k",
    podman: (m) => (m.point === '/dev/shm' ? { ...m, super: m.super.replace('size=64000k', 'size=65536k') } : m),
  },
  {
    what: 'read-only /proc sub-paths',
    why: 'skiff keeps the nosuid,nodev,noexec of /proc on them (as runc does); crun drops them',
    podman: (m) => (m.fstype === 'proc' && m.point !== '/proc' && m.options === 'ro,relatime' ? { ...m, options: 'ro,nosuid,nodev,noexec,relatime' } : m),
  },
  {
    what: 'sysfs superblock',
    why: 'skiff mounts sysfs read-only; crun mounts it and makes only the mount read-only',
    podman: (m) => (m.fstype === 'sysfs' && m.options.startsWith('ro') ? { ...m, super: 'ro' } : m),
  },
  {
    what: '--read-only tmpfs',
    why: "Podman's --read-only-tmpfs (default true) adds tmpfs on /run, /tmp and /var/tmp; Docker adds none",
    podman: (m) => (['/run', '/tmp', '/var/tmp'].includes(m.point) && m.fstype === 'tmpfs' ? null : m),
  },
  {
    what: '/dev/console',
    why: "skiff binds the pty with the nosuid,noexec of /dev/pts; crun's bind drops them",
    podman: (m) => (m.point === '/dev/console' ? { ...m, options: m.options.replace(/^rw,relatime$/, 'rw,nosuid,noexec,relatime') } : m),
  },
];

interface Entry {
  point: string;
  fstype: string;
  options: string;
  super: string;
}

/** The mount table as comparable lines: host paths, host filesystems' options and layer lists left out. */
function normalise(text: string, side: 'skiff' | 'podman'): string[] {
  const out: string[] = [];
  for (const m of parseMountinfo(text)) {
    let e: Entry | null = { point: m.point, fstype: m.fstype, options: m.options.join(','), super: superOptions(m) };
    // a masked file: a /dev/null bound over it; skiff binds the container's own, podman the host's
    if (m.root === '/null' && m.point !== '/dev/null') e = { point: m.point, fstype: '(a /dev/null)', options: m.options[0]!, super: '' };
    for (const p of ON_PURPOSE) if (e) e = side === 'podman' ? p.podman(e) : (p.skiff ?? ((x: Entry) => x))(e);
    if (e) out.push(`${e.point} ${e.fstype} ${e.options} ${e.super}`);
  }
  // Podman's rootless --privileged binds the standard devices twice over the same points
  return (side === 'podman' ? [...new Set(out)] : out).sort();
}

function superOptions(m: MountInfo): string {
  // overlay: layer paths; binds of host files and devices: the host filesystem's own options
  if (['overlay', 'ext4', 'xfs', 'btrfs', 'devtmpfs'].includes(m.fstype)) return '';
  return m.superOptions.join(',');
}

describe('same container as podman', { skip }, () => {
  let store: TempStore;
  let dir: string;
  const fx = fixtures();
  before(async () => {
    store = await tempStore();
    execFileSync('podman', ['pull', '-q', '--tls-verify=false', fx.busybox, fx.multilayer, fx.debian]);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-peer-'));
  });
  after(async () => {
    spawnSync('podman', ['volume', 'rm', '-f', 'skiffpeervol']);
    spawnSync('podman', ['rmi', fx.busybox, fx.multilayer, fx.debian]);
    fs.rmSync(dir, { recursive: true, force: true });
    await store.cleanup();
  });

  const cases: [string, string, string[]][] = [
    ['process status', 'grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|Seccomp|NoNewPrivs):" /proc/self/status', []],
    ['non-root user', 'id; grep -E "^(CapEff|CapBnd):" /proc/self/status', ['--user', 'app']],
    ['no-new-privileges', 'grep -E "^(CapEff|NoNewPrivs):" /proc/self/status', ['--security-opt', 'no-new-privileges']],
    ['cap-add/cap-drop', 'grep -E "^(CapEff|CapBnd):" /proc/self/status', ['--cap-add', 'NET_ADMIN', '--cap-drop', 'CHOWN']],
    ['user, cwd and PATH of the image config', 'id; pwd; echo $PATH; echo ${#HOSTNAME}', []],
    ['uid_map and gid_map', 'cat /proc/self/uid_map /proc/self/gid_map', []],
    // Podman also sets container=podman, and TERM=xterm without -t (Docker sets TERM only with -t)
    ['environment with -e and -w', 'env | grep -vE "^(HOSTNAME|TERM|container)=" | sort; echo ${#HOSTNAME}', ['-e', 'X=1', '-e', 'HOME=/h', '-w', '/tmp']],
    ['default hostname', '[ "$(hostname)" = "$(cat /etc/hostname)" ] && [ "$(hostname)" = "$HOSTNAME" ] && echo ${#HOSTNAME}', []],
    // Podman writes /etc/hostname without the newline Docker writes: compare the value
    ['--hostname', 'hostname; echo "$(cat /etc/hostname)"; echo $HOSTNAME; grep -cw box1 /etc/hosts', ['--hostname', 'box1']],
    ['umask, oom_score_adj, rlimits of core and stack', 'umask; cat /proc/self/oom_score_adj; ulimit -c; ulimit -s', []],
    ['namespaces and the sysctls of a private network', 'ls /proc/self/ns; cat /proc/sys/net/ipv4/ping_group_range /proc/sys/net/ipv4/ip_unprivileged_port_start', []],
    ['the /dev tree (types, modes, owners, device numbers, links)', DEV_TREE, []],
    ['the /dev tree of --privileged (every host device)', DEV_TREE, ['--privileged']],
  ];
  for (const [name, script, extra] of cases) {
    test(name, async () => {
      const ours = await skiff(['run', '--rm', '--network=none', ...extra, fx.busybox, 'sh', '-c', script], { store });
      assert.equal(ours.code, 0, ours.stderr);
      assert.equal(ours.stdout, podman(fx.busybox, script, extra));
    });
  }

  const mountCases: [string, () => string[]][] = [
    ['defaults', () => []],
    ['-t (the pty as /dev/console)', () => ['-t']],
    ['--read-only', () => ['--read-only']],
    ['binds, tmpfs and volumes', () => ['-v', `${dir}:/b:ro`, '--tmpfs', '/x:size=1m,mode=1777', '--mount', 'type=tmpfs,dst=/t,tmpfs-size=2m,tmpfs-mode=700', '-v', 'skiffpeervol:/vol', '--mount', `type=bind,src=${dir},dst=/b2`]],
    ['--user app --cap-drop all', () => ['--user', 'app', '--cap-drop', 'all']],
    ['--privileged', () => ['--privileged']],
  ];
  for (const [name, flags] of mountCases) {
    test(`mounts as the container sees them: ${name}`, async () => {
      const script = 'cat /proc/self/mountinfo';
      const ours = await skiff(['run', '--rm', '--network=none', ...flags(), fx.busybox, 'sh', '-c', script], { store });
      assert.equal(ours.code, 0, ours.stderr);
      const theirs = podman(fx.busybox, script, flags());
      assert.deepEqual(normalise(ours.stdout.replace(/\r/g, ''), 'skiff'), normalise(theirs.replace(/\r/g, ''), 'podman'));
    });
  }

  test('-it on a terminal: the pty, its size, its owner and mode, /dev/console, the exit code', async () => {
    const script = 'tty; stty size; stat -c "%n %a %u:%g %t:%T" /dev/console "$(tty)" /dev/pts/ptmx /dev/tty; exit 4';
    const seen = async (argv: string[], env: Record<string, string>): Promise<string> => {
      const t = new Terminal([...argv, '-it', fx.busybox, 'sh', '-c', script], { rows: 31, cols: 91, env });
      const r = await t.exited;
      assert.equal(r.code, 4, t.output);
      const m = /^STTY-BEFORE=.*\n([^]*)^STTY-AFTER=/m.exec(t.output);
      assert.ok(m, t.output);
      return m[1]!;
    };
    const ours = await seen([SKIFF_BIN, 'run', '--rm', '--network=none'], store.env);
    assert.match(ours, /^\/dev\/pts\/0\n31 91\n/);
    assert.equal(ours, await seen(['podman', ...PODMAN_RUN], {}));
  });

  test('the image file tree (modes, owners, sizes, links) of a multi-layer image', async () => {
    // /etc/hosts, hostname and resolv.conf are generated per container; podman also adds /etc/mtab (Docker does not)
    const script = 'cd / && find bin etc data home tmp -xdev | grep -vE "^etc/(hosts|hostname|resolv.conf|mtab)$" | sort | while read -r f; do stat -c "%n %F %a %u:%g %s %N" "$f"; done';
    const ours = await skiff(['run', '--rm', '--user', '0', fx.multilayer, 'sh', '-c', script], { store });
    assert.equal(ours.code, 0, ours.stderr);
    const theirs = podman(fx.multilayer, script, ['--user', '0']);
    assert.equal(ours.stdout.split('\n').length, theirs.split('\n').length);
    assert.deepEqual(ours.stdout.split('\n'), theirs.split('\n'));
  });

  test('the whole tree of the debootstrap image: types, modes, owners, sizes, link counts, mtimes to the ns, link targets, contents', async () => {
    // per-container files (and podman's /run/.containerenv) are left out; GNU find and coreutils are the image's
    const skip = '-path ./proc -o -path ./sys -o -path ./dev -o -path ./etc/hosts -o -path ./etc/hostname -o -path ./etc/resolv.conf -o -path ./etc/mtab -o -path ./run/.containerenv';
    const script = `export LC_ALL=C; cd / && find . -xdev \\( ${skip} \\) -prune -o -type d -printf '%p d %m %U:%G\\n' -o -printf '%p %y %m %U:%G %s %n %T@ %l\\n' | sort; find . -xdev \\( ${skip} \\) -prune -o -type f -print0 | sort -z | xargs -0 cat | md5sum`;
    const ours = await skiff(['run', '--rm', '--network=none', '--user', '0', fx.debian, 'sh', '-c', script], { store });
    assert.equal(ours.code, 0, ours.stderr);
    // `/` itself differs on purpose: as in Docker (overlay2 makes every rw layer's root 0755) skiff's
    // is 0755, podman's takes the image's (0555 in this one)
    const notRoot = (l: string): boolean => !l.startsWith('. d ');
    const theirs = podman(fx.debian, script, ['--user', '0']).split('\n').filter(notRoot);
    const lines = ours.stdout.split('\n').filter(notRoot);
    assert.ok(lines.length > 5000, `${lines.length} entries`);
    assert.equal(lines.length, theirs.length);
    assert.deepEqual(lines, theirs);
  });
});
