/**
 * Device nodes from an image (issue 12, escape 1). An image layer may hold any device node; which
 * device a container can open is decided by its device cgroup policy (v1 devices controller, v2 BPF
 * program), never by which nodes its rootfs holds. Side by side with Podman: the same image and
 * script give the same output (Operation not permitted for every node the image brings).
 *
 * Rootful: the image's nodes include a loop device this test attaches to a file of its own (so a
 * regression would read and write that file, not the host's disks), /dev/mem, /dev/kmsg and a misc
 * device; run, exec, health probes and build RUN steps are refused, --device, --device-cgroup-rule
 * and --privileged open exactly what they name, and the v2 program alone refuses a host process
 * moved into the container's v2 group. Rootless: the kernel refuses device nodes in a user
 * namespace (extraction skips them, mknod is refused), as for Podman.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isRootless, skiff, tempStore, until, type RunResult, type TempStore } from '../helpers/fixtures.js';
import { PODMAN_LIMITS, podmanRunSkip, podmanSkip } from '../helpers/podman.js';
import { pushDeviceImage, type DeviceNode } from './devices-image.js';

const rootless = isRootless();
const rootfulOnly = rootless && 'rootful only (a rootless container has no device cgroup: the kernel refuses device nodes in a user namespace)';

function ok(r: RunResult, what = ''): string {
  assert.equal(r.code, 0, `${what} exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const podman = (args: string[]): RunResult => {
  const r = spawnSync('podman', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
};

/** The cgroup2 mount (hybrid: /sys/fs/cgroup/unified; pure v2: /sys/fs/cgroup), if any. */
const v2Mount = (): string | undefined =>
  fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[2] === 'cgroup2')?.[1];
/** The v1 devices hierarchy, if mounted. */
const v1Devices = (): string | undefined =>
  fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[2] === 'cgroup' && f[3]!.split(',').includes('devices'))?.[1];

/** Build-step groups (`skiff/<pid>-...`) under the devices and v2 hierarchies. */
function stepGroups(): string[] {
  return [v1Devices(), v2Mount()].flatMap((m) => {
    if (!m || !fs.existsSync(path.join(m, 'skiff'))) return [];
    return fs.readdirSync(path.join(m, 'skiff')).filter((n) => /^\d+-/.test(n)).map((n) => path.join(m, 'skiff', n));
  });
}

const DENIED = (f: string): string => `head: ${f}: Operation not permitted\nread ${f}: 1\ndd: can't open '${f}': Operation not permitted\n`;
/** For each node: read 11 bytes, then write 5 (busybox's words, the same binary for skiff and podman). */
const probeScript = (files: string[]): string =>
  `for f in ${files.join(' ')}; do head -c 11 "$f" >/dev/null; echo "read $f: $?"; printf HELLO | dd of="$f" bs=5 count=1 conv=notrunc 2>&1 | grep -v records; done 2>&1`;
/** Docker's default devices still work: read, write, and the pty multiplexer. */
const DEFAULTS_SCRIPT =
  'for f in /dev/null /dev/zero /dev/full /dev/random /dev/urandom; do head -c 4 $f | wc -c; echo x 2>/dev/null >$f; echo "$f $?"; done; ' +
  'exec 3<>/dev/ptmx && echo ptmx opened; exec 3<&-; head -c 1 /dev/tty 2>&1; echo "tty $?"';

describe('device nodes from an image', () => {
  let store: TempStore;
  let image: string;
  let backing = '';
  let loop = '';
  let loopNode = '';
  const CHAR_NODES: DeviceNode[] = [
    { name: 'mem', type: 'c', major: 1, minor: 1 },
    { name: 'kmsg', type: 'c', major: 1, minor: 11 },
    { name: 'misc', type: 'c', major: 10, minor: 237 }, // loop-control
  ];
  let nodes: DeviceNode[];
  const files = (): string[] => nodes.map((n) => `/${n.name}`);

  before(async () => {
    store = await tempStore();
    nodes = [{ name: 'loop0', type: 'b', major: 7, minor: 0 }, ...CHAR_NODES];
    if (!rootless) {
      // a loop device on a file of this test: what a regression could reach is this file
      backing = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-adv-loop-')), 'backing');
      fs.writeFileSync(backing, 'hello host\n');
      fs.truncateSync(backing, 1 << 20);
      loop = execFileSync('losetup', ['--find', '--show', backing], { encoding: 'utf8' }).trim();
      const rdev = fs.statSync(loop).rdev;
      const minor = (rdev & 0xff) | ((rdev >> 12) & ~0xff);
      loopNode = '/loopT';
      nodes.push({ name: 'loopT', type: 'b', major: 7, minor });
    }
    image = pushDeviceImage(nodes);
    ok(await skiff(['pull', '-q', image], { store }), 'pull');
  });
  after(async () => {
    const all = (await skiff(['ps', '-aq'], { store })).stdout.split('\n').filter(Boolean);
    if (all.length) await skiff(['rm', '-f', ...all], { store });
    await store.cleanup();
    if (!podmanRunSkip) podman(['rmi', '-f', image]);
    if (loop) spawnSync('losetup', ['-d', loop]);
    if (backing) fs.rmSync(path.dirname(backing), { recursive: true, force: true });
  });
  const backingUntouched = (): void => assert.equal(fs.readFileSync(backing).subarray(0, 11).toString(), 'hello host\n', 'the loop device was written');

  test('run: every node the image brings is refused for read and write, as podman refuses it', { skip: rootfulOnly }, async () => {
    const r = await skiff(['run', '--rm', '--network', 'none', image, 'sh', '-c', probeScript(files())], { store });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, files().map(DENIED).join(''));
    backingUntouched();
    if (!podmanRunSkip) {
      const p = podman(['run', '--rm', '--tls-verify=false', '--network=none', ...PODMAN_LIMITS, image, 'sh', '-c', probeScript(files())]);
      assert.equal(p.code, 0, p.stderr);
      assert.equal(r.stdout, p.stdout, 'podman sees the same');
    }
    // the issue's own commands
    const head = await skiff(['run', '--rm', image, 'head', '-c', '11', loopNode], { store });
    assert.deepEqual([head.code, head.stdout, head.stderr], [1, '', `head: ${loopNode}: Operation not permitted\n`]);
    const dd = await skiff(['run', '--rm', image, 'dd', 'if=/dev/zero', `of=${loopNode}`, 'count=1'], { store });
    assert.deepEqual([dd.code, dd.stderr], [1, `dd: can't open '${loopNode}': Operation not permitted\n`]);
    backingUntouched();
  });

  test('rootless: the image brings no node (the kernel refuses them in a user namespace), as for podman', { skip: !rootless && 'the rootless pass' }, async () => {
    // (dd then makes a regular file where the node would have been)
    const script = `${probeScript(files())}; mknod /x b 7 0 2>&1; echo "mknod $?"; stat -c %F /loop0`;
    const r = await skiff(['run', '--rm', '--network', 'none', image, 'sh', '-c', script], { store });
    assert.equal(r.code, 0, r.stderr);
    for (const f of files()) assert.match(r.stdout, new RegExp(`head: ${f}: No such file or directory\nread ${f}: 1\n`));
    assert.match(r.stdout, /mknod: \/x: Operation not permitted\nmknod 1\nregular file\n$/);
    if (!podmanRunSkip) {
      const p = podman(['run', '--rm', '--tls-verify=false', '--network=none', ...PODMAN_LIMITS, image, 'sh', '-c', script]);
      assert.equal(p.code, 0, p.stderr);
      assert.equal(r.stdout, p.stdout, 'podman sees the same');
    }
  });

  test("Docker's default devices still work, as in podman", async () => {
    const r = await skiff(['run', '--rm', '--network', 'none', image, 'sh', '-c', DEFAULTS_SCRIPT], { store });
    assert.equal(r.code, 0, r.stderr);
    // /dev/tty opens (the policy allows it) but the container has no controlling terminal: ENXIO, not EPERM
    const want = ['0', '/dev/null 0', '4', '/dev/zero 0', '4', '/dev/full 1', '4', '/dev/random 0', '4', '/dev/urandom 0', 'ptmx opened'];
    assert.equal(r.stdout, [...want, 'head: /dev/tty: No such device or address', 'tty 1', ''].join('\n'));
    if (!podmanRunSkip) {
      const p = podman(['run', '--rm', '--tls-verify=false', '--network=none', ...PODMAN_LIMITS, image, 'sh', '-c', DEFAULTS_SCRIPT]);
      assert.equal(r.stdout, p.stdout, 'podman sees the same');
    }
  });

  test('the v1 devices cgroup holds the default list; a host process in the v2 group alone is refused by the BPF program', { skip: rootfulOnly }, async () => {
    const id = ok(await skiff(['run', '-d', image, 'sleep', '60'], { store })).trim();
    const v1 = v1Devices();
    if (v1) {
      assert.equal(
        fs.readFileSync(path.join(v1, 'skiff', id, 'devices.list'), 'utf8'),
        ['c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:8 rwm', 'c 1:7 rwm', 'c 5:0 rwm', 'c 1:5 rwm', 'c 1:9 rwm', 'c 5:1 rwm', 'c 136:* rwm', 'c 5:2 rwm', 'c 10:200 rwm', ''].join('\n'),
      );
    }
    const v2 = v2Mount();
    if (v2) {
      // this shell stays in the host's v1 devices cgroup: only the v2 program can refuse it
      const group = path.join(v2, 'skiff', id);
      const sh = spawnSync('sh', ['-c', `echo $$ > ${group}/cgroup.procs && grep -E '^0::|:devices:' /proc/self/cgroup && head -c 11 ${loop} >/dev/null; echo "loop $?"; head -c 1 /dev/zero >/dev/null; echo "zero $?"`], { encoding: 'utf8' });
      assert.match(sh.stdout, new RegExp(`^0::/skiff/${id}$`, 'm'), sh.stdout);
      assert.doesNotMatch(sh.stdout, new RegExp(`:devices:/skiff/${id}`), 'the shell is not in the container v1 devices group');
      assert.match(sh.stderr, /Operation not permitted/, sh.stderr);
      assert.match(sh.stdout, /^loop 1\nzero 0\n/m);
      // and it stays refused inside the container too, for an exec
      const ex = await skiff(['exec', id, 'head', '-c', '11', loopNode], { store });
      assert.deepEqual([ex.code, ex.stderr], [1, `head: ${loopNode}: Operation not permitted\n`]);
    }
    ok(await skiff(['rm', '-f', id], { store }));
    for (const m of [v1, v2]) if (m) assert.ok(!fs.existsSync(path.join(m, 'skiff', id)), `cgroup left in ${m}`);
    backingUntouched();
  });

  test('exec and health probes join the container cgroups: refused too', { skip: rootfulOnly }, async () => {
    const id = ok(await skiff(['run', '-d', '--health-cmd', `head -c 11 ${loopNode}`, '--health-interval', '100ms', image, 'sleep', '60'], { store })).trim();
    const ex = await skiff(['exec', id, 'sh', '-c', probeScript([loopNode, '/kmsg'])], { store });
    assert.equal(ex.stdout, [loopNode, '/kmsg'].map(DENIED).join(''));
    interface Health { Log: { ExitCode: number; Output: string }[] }
    const health = await until('a health probe', async () => {
      const j = JSON.parse(ok(await skiff(['inspect', id], { store }))) as { State: { Health?: Health } }[];
      return j[0]!.State.Health?.Log.length ? j[0]!.State.Health : undefined;
    });
    assert.deepEqual(health.Log[0], { ...health.Log[0], ExitCode: 1, Output: `head: ${loopNode}: Operation not permitted\n` });
    ok(await skiff(['rm', '-f', id], { store }));
    backingUntouched();
  });

  test('-v /dev:/hostdev: the host nodes are there, the policy refuses them', { skip: rootfulOnly }, async () => {
    const r = await skiff(['run', '--rm', '-v', '/dev:/hostdev', image, 'sh', '-c', `head -c 11 /hostdev/${path.basename(loop)} 2>&1; head -c 1 /hostdev/kmsg 2>&1`], { store });
    assert.equal(r.stdout, `head: /hostdev/${path.basename(loop)}: Operation not permitted\nhead: /hostdev/kmsg: Operation not permitted\n`);
  });

  test('build: a RUN step is refused as podman build refuses it, and leaves no cgroup', { skip: rootfulOnly }, async () => {
    const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-adv-devbuild-'));
    try {
      fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${image}\nRUN head -c 11 ${loopNode}\n`);
      const groups = stepGroups();
      const r = await skiff(['build', '--network', 'none', ctx], { store });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout + r.stderr, new RegExp(`head: ${loopNode}: Operation not permitted`));
      assert.match(r.stderr, /^Error: Dockerfile:2: RUN: process "\/bin\/sh -c head -c 11 \/loopT" did not complete successfully: exit code: 1$/m);
      assert.deepEqual(stepGroups(), groups, 'the step left its cgroups');
      if (!podmanSkip) {
        const p = podman(['build', '--tls-verify=false', '--network=none', ...PODMAN_LIMITS, ctx]);
        assert.notEqual(p.code, 0);
        assert.match(p.stdout + p.stderr, new RegExp(`head: ${loopNode}: Operation not permitted`));
      }
      // the default devices work in a step
      fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${image}\nRUN head -c 4 /dev/urandom >/dev/null && echo ok >/dev/null\n`);
      ok(await skiff(['build', '-q', '--network', 'none', ctx], { store }), 'build with the default devices');
      backingUntouched();
    } finally {
      fs.rmSync(ctx, { recursive: true, force: true });
    }
  });

  test('build: the cgroups of a killed build are swept by the next build', { skip: rootfulOnly }, async () => {
    const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-adv-devbuild-'));
    try {
      fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${image}\nRUN sleep 60\n`);
      const groups = stepGroups();
      const started = until('the RUN step in its cgroups', () => stepGroups().length > groups.length, 60_000);
      const killed = await skiff(['build', '--network', 'none', ctx], { store, killWhen: started });
      assert.equal(killed.signal, 'SIGKILL');
      const left = stepGroups().filter((g) => !groups.includes(g));
      assert.ok(left.length > 0, 'a killed build leaves its step groups (until the next build)');
      // the step's processes die with the shim (parent-death signal); their groups then are empty
      await until('the step processes to end', () => left.every((g) => !fs.existsSync(g) || fs.readFileSync(path.join(g, 'cgroup.procs'), 'utf8') === ''));
      fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${image}\nRUN true\n`);
      ok(await skiff(['build', '-q', '--network', 'none', ctx], { store }));
      assert.deepEqual(left.filter((g) => fs.existsSync(g)), [], 'swept');
    } finally {
      fs.rmSync(ctx, { recursive: true, force: true });
    }
  });

  test('--device HOST[:CONTAINER[:PERMS]] makes the node and allows exactly PERMS, as podman', { skip: rootfulOnly }, async () => {
    const script = 'ls -l /dev/xda | cut -c1-10; head -c 11 /dev/xda; printf HELLO | dd of=/dev/xda bs=5 count=1 conv=notrunc 2>&1 | grep -v records; head -c 11 /kmsg 2>&1';
    const r = await skiff(['run', '--rm', '--device', `${loop}:/dev/xda:r`, image, 'sh', '-c', script], { store });
    assert.equal(r.stdout, `brw-------\nhello host\ndd: can't open '/dev/xda': Operation not permitted\nhead: /kmsg: Operation not permitted\n`);
    if (!podmanRunSkip) {
      const p = podman(['run', '--rm', '--tls-verify=false', '--network=none', ...PODMAN_LIMITS, '--device', `${loop}:/dev/xda:r`, image, 'sh', '-c', script]);
      assert.equal(r.stdout, p.stdout, 'podman sees the same');
    }
    backingUntouched();
    // rwm by default, at the host's path (written back through the device: its page cache stays true)
    const write = (text: string): string => `printf ${text} | dd of=${loop} bs=5 count=1 conv=notrunc 2>/dev/null`;
    const rw = await skiff(['run', '--rm', '--device', loop, image, 'sh', '-c', `${write('HELLO')} && head -c 11 ${loop} && ${write('hello')}`], { store });
    assert.equal(rw.stdout, 'HELLO host\n', rw.stderr);
    backingUntouched();
    const id = ok(await skiff(['create', '--device', `${loop}:/dev/xda:r`, '--device-cgroup-rule', 'c 1:11 r', image], { store })).trim();
    const j = JSON.parse(ok(await skiff(['inspect', id], { store }))) as { HostConfig: { Devices: unknown; DeviceCgroupRules: unknown } }[];
    assert.deepEqual(j[0]!.HostConfig.Devices, [{ PathOnHost: loop, PathInContainer: '/dev/xda', CgroupPermissions: 'r' }]);
    assert.deepEqual(j[0]!.HostConfig.DeviceCgroupRules, ['c 1:11 r']);
  });

  test('--device of a missing host device: one Error line, 125, nothing created', async () => {
    const before = (await skiff(['ps', '-aq'], { store })).stdout;
    const r = await skiff(['run', '--rm', '--device', '/dev/skiff-no-such-device', image, 'true'], { store });
    assert.deepEqual([r.code, r.stderr], [125, 'Error: error gathering device information while adding custom device "/dev/skiff-no-such-device": no such file or directory\n']);
    const f = await skiff(['create', '--device', '/etc/hostname', image, 'true'], { store });
    assert.deepEqual([f.code, f.stderr], [125, 'Error: error gathering device information while adding custom device "/etc/hostname": not a device node\n']);
    assert.equal((await skiff(['ps', '-aq'], { store })).stdout, before);
  });

  test('invalid --device and --device-cgroup-rule values: Docker words, 125', async () => {
    const cases: [string[], string][] = [
      [['--device', ''], 'invalid argument "" for "--device" flag: bad format for path: '],
      [['--device', '/dev/a:/b:/c:rw'], 'invalid argument "/dev/a:/b:/c:rw" for "--device" flag: bad format for path: /dev/a:/b:/c:rw'],
      [['--device', '/dev/null:/x:rwx'], 'invalid argument "/dev/null:/x:rwx" for "--device" flag: bad mode specified: rwx'],
      [['--device', '/dev/null:x'], 'invalid argument "/dev/null:x" for "--device" flag: x is not an absolute path'],
      [['--device-cgroup-rule', 'c 1:3'], `invalid argument "c 1:3" for "--device-cgroup-rule" flag: invalid device cgroup format 'c 1:3'`],
      [['--device-cgroup-rule', 'x *:* rwm'], `invalid argument "x *:* rwm" for "--device-cgroup-rule" flag: invalid device cgroup format 'x *:* rwm'`],
    ];
    for (const [flags, msg] of cases) {
      const r = await skiff(['run', '--rm', ...flags, image, 'true'], { store });
      assert.deepEqual([r.code, r.stderr], [125, `Error: ${msg}\n`], flags.join(' '));
    }
  });

  test('--device-cgroup-rule allows what it names and nothing more', { skip: rootfulOnly }, async () => {
    const r = await skiff(['run', '--rm', '--device-cgroup-rule', `b 7:* r`, image, 'sh', '-c', `head -c 11 ${loopNode}; ${probeScript(['/kmsg'])}; printf X | dd of=${loopNode} 2>&1 | grep -v records`], { store });
    assert.equal(r.stdout, `hello host\n${DENIED('/kmsg')}dd: can't open '${loopNode}': Operation not permitted\n`);
    backingUntouched();
  });

  test('--privileged allows every device (as Docker)', { skip: rootfulOnly }, async () => {
    const r = await skiff(['run', '--rm', '--privileged', image, 'sh', '-c', `head -c 11 ${loopNode}; head -c 11 ${loop}`], { store });
    assert.equal(r.stdout, 'hello host\nhello host\n', r.stderr);
  });
});
