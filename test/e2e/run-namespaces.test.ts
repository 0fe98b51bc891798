/**
 * run/create options about the container's kernel namespaces and process credentials, rootful and
 * rootless (Docker's syntax, words and inspect fields): `--sysctl` (namespaced ones only, written in
 * the container's /proc/sys), `--group-add` (supplementary groups by name or number), `--pid`, `--ipc`,
 * `--uts` (the host's or another container's namespace; rootless, joining another container's also
 * joins its user namespace).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { isRootless, skiff, storeCli, storeWithImage, type RunResult, type TempStore } from '../helpers/fixtures.js';

describe('run namespaces and credentials', () => {
  let store: TempStore;
  let image: string;
  const { sk, ok } = storeCli(() => store);

  before(async () => {
    ({ store, image } = await storeWithImage());
  });
  after(async () => {
    await store.cleanup();
  });

  test('--sysctl: written in the container\'s namespaces; HostConfig.Sysctls; refused ones', async () => {
    assert.equal(await ok(['run', '--rm', '--sysctl', 'net.ipv4.ip_forward=1', image, 'cat', '/proc/sys/net/ipv4/ip_forward']), '1\n');
    assert.equal(await ok(['run', '--rm', '--sysctl', 'net.ipv4.ip_forward=0', '--sysctl', 'fs.mqueue.msg_max=20', image,
      'cat', '/proc/sys/net/ipv4/ip_forward', '/proc/sys/fs/mqueue/msg_max']), '0\n20\n');
    await ok(['create', '--name', 'sc', '--sysctl', 'net.core.somaxconn=1024', '--sysctl', 'kernel.shmmni=100', image, 'true']);
    assert.deepEqual(JSON.parse(await ok(['inspect', '-f', '{{json .HostConfig.Sysctls}}', 'sc'])), { 'net.core.somaxconn': '1024', 'kernel.shmmni': '100' });
    await ok(['rm', 'sc']);
    // not namespaced: Docker's CLI refuses it
    const bad = await sk(['run', '--rm', '--sysctl', 'kernel.domainname=x', image, 'true']);
    assert.equal(bad.code, 125);
    assert.equal(bad.stderr, `Error: invalid argument "kernel.domainname=x" for "--sysctl" flag: sysctl 'kernel.domainname=x' is not allowed\n`);
    const noValue = await sk(['create', '--sysctl', 'net.ipv4.ip_forward', image]);
    assert.equal(noValue.code, 125);
    assert.match(noValue.stderr, /^Error: invalid argument "net.ipv4.ip_forward" for "--sysctl" flag: sysctl 'net.ipv4.ip_forward' is not allowed\n$/);
    // net.* only in a network namespace of the container's
    const host = await sk(['create', '--name', 'schost', '--network', 'host', '--sysctl', 'net.ipv4.ip_forward=1', image]);
    assert.equal(host.code, 125);
    assert.equal(host.stderr, 'Error: sysctl "net.ipv4.ip_forward" not allowed in host network namespace\n');
    assert.equal((await sk(['inspect', 'schost'])).code, 1, 'a refused create leaves no container');
  });

  test('--sysctl of an interface the network makes is written after the network is up; /proc/sys then read-only', async () => {
    // rootful: the bridge's eth0 exists only once the shim has set the network up (rootless: pasta's
    // interface is named after the host's, so only the read-only check)
    if (!isRootless())
      assert.equal(await ok(['run', '--rm', '--sysctl', 'net.ipv4.conf.eth0.rp_filter=2', image, 'cat', '/proc/sys/net/ipv4/conf/eth0/rp_filter']), '2\n');
    const r = await sk(['run', '--rm', '--sysctl', 'net.ipv4.ip_forward=1', image, 'sh', '-c',
      'echo 0 >/proc/sys/net/ipv4/ip_forward; cat /proc/sys/net/ipv4/ip_forward; hostname']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^1\n[0-9a-f]{12}\n$/);
    assert.match(r.stderr, /Read-only file system/);
  });

  test('--group-add: supplementary groups by name (the image\'s /etc/group) or number; HostConfig.GroupAdd', async () => {
    assert.equal(await ok(['run', '--rm', '--group-add', 'staff', '--group-add', '4242', '-u', 'app', image, 'id']),
      'uid=1000(app) gid=1000(app) groups=50(staff),1000(app),4242\n');
    assert.match(await ok(['run', '--rm', '--group-add', '50', image, 'id', '-G']), /^(0 )?50\n$/);
    await ok(['create', '--name', 'ga', '--group-add', 'staff', '--group-add', '7', image, 'true']);
    assert.deepEqual(JSON.parse(await ok(['inspect', '-f', '{{json .HostConfig.GroupAdd}}', 'ga'])), ['staff', '7']);
    await ok(['rm', 'ga']);
    const bad = await sk(['run', '--rm', '--group-add', 'nosuch', image, 'true']);
    assert.equal(bad.code, 126);
    assert.equal(bad.stderr, 'Error: unable to find group nosuch: no matching entries in group file\n');
  });

  const hostNs = (kind: string): string => `${fs.readlinkSync(`/proc/self/ns/${kind}`)}\n`;

  test('--pid, --ipc, --uts host: the host\'s namespaces; HostConfig.PidMode/IpcMode/UTSMode', async () => {
    assert.equal(await ok(['run', '--rm', '--pid', 'host', image, 'readlink', '/proc/self/ns/pid']), hostNs('pid'));
    assert.equal(await ok(['run', '--rm', '--pid', 'host', image, 'sh', '-c', `test -d /proc/${process.pid} && echo seen`]), 'seen\n');
    assert.equal(await ok(['run', '--rm', '--ipc', 'host', image, 'readlink', '/proc/self/ns/ipc']), hostNs('ipc'));
    assert.equal(await ok(['run', '--rm', '--uts', 'host', image, 'hostname']), `${os.hostname()}\n`);
    assert.equal(await ok(['run', '--rm', '--ipc', 'none', image, 'sh', '-c', 'test -e /dev/shm || echo none']), 'none\n');
    await ok(['create', '--name', 'hostns', '--pid', 'host', '--ipc', 'host', '--uts', 'host', image, 'true']);
    assert.equal(await ok(['inspect', '-f', '{{.HostConfig.PidMode}} {{.HostConfig.IpcMode}} {{.HostConfig.UTSMode}} {{.Config.Hostname}}', 'hostns']), `host host host ${os.hostname()}\n`);
    await ok(['create', '--name', 'own', '--ipc', 'shareable', image, 'true']);
    await ok(['create', '--name', 'dflt', image, 'true']);
    assert.equal(await ok(['inspect', '-f', '{{.HostConfig.IpcMode}}|{{.HostConfig.PidMode}}|{{.HostConfig.UTSMode}}', 'own', 'dflt']), 'shareable||\nprivate||\n');
    await ok(['rm', 'hostns', 'own', 'dflt']);
    for (const [flag, value, words] of [['--pid', 'foo', 'invalid PID mode'], ['--ipc', 'container:', 'invalid IPC mode'], ['--uts', 'private', 'invalid UTS mode']]) {
      const r = await sk(['create', flag!, value!, image]);
      assert.equal(r.code, 125, r.stderr);
      assert.equal(r.stderr, `Error: ${flag}: ${words}\n`);
    }
    const both = await sk(['create', '--uts', 'host', '--hostname', 'x', image]);
    assert.equal(both.code, 125);
    assert.equal(both.stderr, 'Error: conflicting options: hostname and the UTS mode\n');
    const hostIpc = await sk(['create', '--ipc', 'host', '--sysctl', 'kernel.shmmni=100', image]);
    assert.equal(hostIpc.code, 125);
    assert.equal(hostIpc.stderr, 'Error: sysctl "kernel.shmmni" not allowed in host IPC namespace\n');
  });

  test('--pid, --ipc, --uts container:X: that container\'s namespaces, joined at each start', async () => {
    await ok(['run', '-d', '--name', 'donor', '--hostname', 'donorhost', '--ipc', 'shareable', image, 'sleep', '1000']);
    // rootless, the shim stays in the joined PID namespace: no pasta of its own there
    const net = isRootless() ? ['--network', 'container:donor'] : [];
    assert.match(await ok(['run', '--rm', '--pid', 'container:donor', ...net, image, 'ps']), /^ +1 +\S+ +sleep 1000$/m);
    const ns = await ok(['exec', 'donor', 'sh', '-c', 'readlink /proc/self/ns/ipc /proc/self/ns/uts 2>/dev/null || { readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts; }']);
    assert.equal(await ok(['run', '--rm', '--ipc', 'container:donor', '--uts', 'container:donor', image, 'sh', '-c', 'readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts; hostname']), `${ns}donorhost\n`);
    await ok(['create', '--name', 'joiner', '--pid', 'container:donor', ...net, image, 'sleep', '1000']);
    const id = (await ok(['inspect', '-f', '{{.Id}}', 'donor'])).trim();
    assert.equal(await ok(['inspect', '-f', '{{.HostConfig.PidMode}}', 'joiner']), `container:${id}\n`);
    await ok(['start', 'joiner']);
    assert.match(await ok(['exec', 'joiner', 'ps']), /sleep 1000/);
    await ok(['rm', '-f', 'joiner']);
    await ok(['stop', '-t', '0', 'donor']);
    const stopped = await sk(['run', '--rm', '--pid', 'container:donor', ...net, image, 'true']);
    assert.notEqual(stopped.code, 0);
    assert.match(stopped.stderr, /^Error: cannot join (PID|network) namespace of a non running container: container [0-9a-f]{64} is not running\n$/);
    await ok(['rm', 'donor']);
    const missing = await sk(['create', '--pid', 'container:nosuch', image]);
    assert.equal(missing.code, 125, missing.stderr);
    assert.equal(missing.stderr, 'Error: No such container: nosuch\n');
  });

  test('--ipc container:X needs X\'s IPC namespace shareable (--ipc shareable or host, or joined from one; the default is private, as dockerd\'s)', async () => {
    await ok(['run', '-d', '--name', 'ipcpriv', image, 'sleep', '1000']);
    await ok(['run', '-d', '--name', 'ipcpriv2', '--ipc', 'private', image, 'sleep', '1000']);
    await ok(['run', '-d', '--name', 'ipcshare', '--ipc', 'shareable', image, 'sleep', '1000']);
    const before = await ok(['ps', '-a', '-q', '--no-trunc']);
    for (const donor of ['ipcpriv', 'ipcpriv2']) {
      const id = (await ok(['inspect', '-f', '{{.Id}}', donor])).trim();
      const r = await sk(['run', '--rm', '--ipc', `container:${donor}`, image, 'true']);
      assert.equal(r.code, 125, r.stderr);
      assert.equal(r.stderr, `Error: container ${id}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)\n`);
    }
    assert.equal(await ok(['ps', '-a', '-q', '--no-trunc']), before, 'a refused run leaves no container');
    assert.equal(await ok(['inspect', '-f', '{{.HostConfig.IpcMode}}', 'ipcpriv']), 'private\n');
    // a shareable one is joined; a container that joined it is shareable in turn
    const ns = await ok(['exec', 'ipcshare', 'readlink', '/proc/self/ns/ipc']);
    assert.equal(await ok(['run', '--rm', '--ipc', 'container:ipcshare', image, 'readlink', '/proc/self/ns/ipc']), ns);
    await ok(['run', '-d', '--name', 'ipcjoined', '--ipc', 'container:ipcshare', image, 'sleep', '1000']);
    assert.equal(await ok(['run', '--rm', '--ipc', 'container:ipcjoined', image, 'readlink', '/proc/self/ns/ipc']), ns);
    // and its /dev/shm (Docker's and Podman's): what one writes there, the others read; not the host's
    await ok(['exec', 'ipcshare', 'sh', '-c', 'echo from-donor > /dev/shm/skiff-ipc-test']);
    assert.equal(await ok(['run', '--rm', '--ipc', 'container:ipcjoined', image, 'sh', '-c',
      'cat /dev/shm/skiff-ipc-test && echo from-joiner > /dev/shm/skiff-ipc-back']), 'from-donor\n');
    assert.equal(await ok(['exec', 'ipcshare', 'cat', '/dev/shm/skiff-ipc-back']), 'from-joiner\n');
    assert.equal(await ok(['exec', 'ipcjoined', 'cat', '/dev/shm/skiff-ipc-test']), 'from-donor\n');
    assert.equal(fs.existsSync('/dev/shm/skiff-ipc-test'), false, 'the host\'s /dev/shm is not the one shared');
    assert.equal(await ok(['run', '--rm', '--ipc', 'shareable', image, 'sh', '-c', 'test -e /dev/shm/skiff-ipc-test || echo own']), 'own\n');
    await ok(['rm', '-f', 'ipcpriv', 'ipcpriv2', 'ipcjoined', 'ipcshare']);
  });

  test('--cgroupns host|private: the host\'s cgroup namespace or one of the container\'s own; HostConfig.CgroupnsMode', async () => {
    assert.equal(await ok(['run', '--rm', '--cgroupns', 'host', image, 'readlink', '/proc/self/ns/cgroup']), hostNs('cgroup'));
    // the container's own group seen with its whole path from the host's root (rootless: in the user's delegated group)
    const cg = await ok(['run', '--rm', '--cgroupns', 'host', image, 'cat', '/proc/self/cgroup']);
    assert.match(cg, isRootless() ? /^0::\/.+$/m : /\/skiff\/[0-9a-f]{64}$/m);
    assert.doesNotMatch(cg, /^0::\/$/m);
    const own = await ok(['run', '--rm', '--cgroupns', 'private', image, 'readlink', '/proc/self/ns/cgroup']);
    assert.notEqual(own, hostNs('cgroup'));
    await ok(['create', '--name', 'cgns', '--cgroupns', 'private', image, 'true']);
    assert.equal(await ok(['inspect', '-f', '{{.HostConfig.CgroupnsMode}}', 'cgns']), 'private\n');
    await ok(['rm', 'cgns']);
    const bad = await sk(['create', '--cgroupns', 'shared', image]);
    assert.equal(bad.code, 125);
    assert.equal(bad.stderr, 'Error: --cgroupns: invalid CGROUP mode\n');
  });

  test('--cgroup-parent PATH (rootful): the container\'s groups under it; HostConfig.CgroupParent', async () => {
    const parent = `skiff-e2e-parent-${process.pid}`;
    if (isRootless()) {
      const r = await sk(['create', '--cgroup-parent', parent, image]);
      assert.equal(r.code, 125);
      assert.equal(r.stderr, "Error: --cgroup-parent: a rootless container's group is made in the user's delegated cgroup\n");
      return;
    }
    try {
      const id = (await ok(['run', '-d', '--cgroup-parent', `${parent}/sub`, image, 'sleep', '1000'])).trim();
      const pid = (await ok(['inspect', '-f', '{{.State.Pid}}', id])).trim();
      const groups = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      assert.match(groups, new RegExp(`^0::/${parent}/sub/${id}$`, 'm'));
      assert.equal(await ok(['inspect', '-f', '{{.HostConfig.CgroupParent}}', id]), `${parent}/sub\n`);
      await ok(['rm', '-f', id]);
      const bad = await sk(['create', '--cgroup-parent', '../up', image]);
      assert.equal(bad.code, 125);
      assert.equal(bad.stderr, 'Error: invalid cgroup parent "../up": a path below the cgroup root\n');
    } finally {
      // Docker leaves the parent; the test removes it from every hierarchy
      for (const root of ['/sys/fs/cgroup', ...fs.readdirSync('/sys/fs/cgroup').map((d) => `/sys/fs/cgroup/${d}`)]) {
        for (const d of [`${root}/${parent}/sub`, `${root}/${parent}`]) {
          try {
            fs.rmdirSync(d);
          } catch {
            /* not in this hierarchy */
          }
        }
      }
    }
  });

  test('--userns host: rootful, no user namespace (as without it; HostConfig.UsernsMode); rootless refused', async () => {
    const bad = await sk(['create', '--userns', 'other', image]);
    assert.equal(bad.code, 125);
    assert.equal(bad.stderr, 'Error: --userns: invalid USER mode\n');
    if (isRootless()) {
      const r = await sk(['create', '--userns', 'host', image]);
      assert.equal(r.code, 125);
      assert.equal(r.stderr, 'Error: --userns host: a rootless container needs a user namespace of its own\n');
      return;
    }
    assert.equal(await ok(['run', '--rm', '--userns', 'host', image, 'readlink', '/proc/self/ns/user']), hostNs('user'));
    await ok(['create', '--name', 'uh', '--userns', 'host', image, 'true']);
    assert.equal(await ok(['inspect', '-f', '{{.HostConfig.UsernsMode}}', 'uh']), 'host\n');
    await ok(['rm', 'uh']);
  });

  test('compose: sysctls, group_add, pid and network_mode service:NAME map to the same options', async () => {
    const dir = fs.mkdtempSync(`${os.tmpdir()}/skiff-nscompose-`);
    try {
      fs.writeFileSync(`${dir}/compose.yaml`, [
        'services:',
        '  a:',
        `    image: ${image}`,
        '    command: ["sleep", "1000"]',
        '  b:',
        `    image: ${image}`,
        '    depends_on: [a]',
        '    network_mode: "service:a"',
        '    pid: "service:a"',
        '    group_add: [staff, 4242]',
        '    sysctls:',
        '      fs.mqueue.msg_max: 20',
        '    command: ["sh", "-c", "ps -o comm | grep -x sleep; id -G; cat /proc/sys/fs/mqueue/msg_max"]',
        '',
      ].join('\n'));
      const compose = (args: string[]): Promise<RunResult> => skiff(['compose', '-p', 'nsc', ...args], { store, cwd: dir });
      const up = await compose(['up', '-d']);
      assert.equal(up.code, 0, up.stderr);
      assert.doesNotMatch(up.stderr, /not supported/);
      await ok(['wait', 'nsc-b-1']);
      assert.equal((await ok(['logs', 'nsc-b-1'])).replace(/^0 /m, ''), 'sleep\n50 4242\n20\n');
      assert.equal((await compose(['down', '-t', '0'])).code, 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
