/**
 * run/create options about the container's kernel namespaces and process credentials, rootful and
 * rootless (Docker's syntax, words and inspect fields): `--sysctl` (namespaced ones only, written in
 * the container's /proc/sys), `--group-add` (supplementary groups by name or number).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { skiff, storeWithImage, type RunResult, type TempStore } from '../helpers/fixtures.js';

describe('run namespaces and credentials', () => {
  let store: TempStore;
  let image: string;
  const sk = (args: string[]): Promise<RunResult> => skiff(args, { store });
  const ok = async (args: string[]): Promise<string> => {
    const r = await sk(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

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
});
