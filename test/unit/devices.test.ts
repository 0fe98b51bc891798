/**
 * The device options and policy (src/container/devices.ts): `--device` and `--device-cgroup-rule`
 * parsed and validated as Docker's CLI does (same words), host nodes resolved as Docker's daemon
 * does (a symlink followed, a directory walked), and the OCI policy: deny all, the user's rules,
 * then runc's default allow list; --privileged allows all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_DEVICE_RULES, devicePolicy, parseDevice, parseDeviceCgroupRule, resolveDevice } from '../../src/container/devices.js';
import { SkiffError } from '../../src/errors.js';

const refused = (fn: () => unknown, msg: string): void => assert.throws(fn, (e: unknown) => e instanceof SkiffError && e.message === msg && e.exitCode === 125);

test('--device: HOST, HOST:CONTAINER, HOST:PERMS, HOST:CONTAINER:PERMS', () => {
  assert.deepEqual(parseDevice('/dev/fuse'), { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' });
  assert.deepEqual(parseDevice('/dev/sda:/dev/xvda'), { PathOnHost: '/dev/sda', PathInContainer: '/dev/xvda', CgroupPermissions: 'rwm' });
  assert.deepEqual(parseDevice('/dev/sda:r'), { PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'r' });
  assert.deepEqual(parseDevice('/dev/sda:/dev/xvda//:mw'), { PathOnHost: '/dev/sda', PathInContainer: '/dev/xvda', CgroupPermissions: 'mw' });
});

test("--device: Docker's errors", () => {
  const bad = (v: string, why: string): void => refused(() => parseDevice(v), `invalid argument "${v}" for "--device" flag: ${why}`);
  bad('', 'bad format for path: ');
  bad(':/dev/x', 'bad format for path: :/dev/x');
  bad('/a:/b:rw:x', 'bad format for path: /a:/b:rw:x');
  bad('/a:/b:rwx', 'bad mode specified: rwx');
  bad('/a:/b:rr', 'bad mode specified: rr');
  bad('/a:b', 'b is not an absolute path');
  bad('a', 'a is not an absolute path');
});

test('--device-cgroup-rule: the rule as OCI says it; other text refused in Docker words', () => {
  assert.deepEqual(parseDeviceCgroupRule('c 1:3 rwm'), { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' });
  assert.deepEqual(parseDeviceCgroupRule('b *:* m'), { allow: true, type: 'b', access: 'm' });
  assert.deepEqual(parseDeviceCgroupRule('a 7:* r'), { allow: true, type: 'a', major: 7, access: 'r' });
  for (const v of ['c 1:3', 'c 1:3 rwmx', 'x 1:3 r', 'c -1:3 r', 'c 1:3  r', ' c 1:3 r', 'c a:3 r']) {
    refused(() => parseDeviceCgroupRule(v), `invalid argument "${v}" for "--device-cgroup-rule" flag: invalid device cgroup format '${v}'`);
  }
  refused(() => parseDeviceCgroupRule('c 1:99999999 r'), `invalid device cgroup rule 'c 1:99999999 r': device numbers go up to 1048575`);
});

test('resolving --device: the host node (through a symlink), a directory walked, errors in Docker words', () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-devices-'));
  try {
    fs.symlinkSync('/dev/null', path.join(d, 'link'));
    const r = resolveDevice({ PathOnHost: path.join(d, 'link'), PathInContainer: '/dev/mynull', CgroupPermissions: 'rw' });
    assert.deepEqual(r.devices.map((x) => [x.path, x.type, x.major, x.minor]), [['/dev/mynull', 'c', 1, 3]]);
    assert.deepEqual(r.rules, [{ allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }]);
    // a directory: every node below it, placed under the container path (/dev/net/tun is a char device where present)
    if (fs.existsSync('/dev/net/tun')) {
      const w = resolveDevice({ PathOnHost: '/dev/net', PathInContainer: '/dev/vnet', CgroupPermissions: 'rwm' });
      assert.ok(w.devices.some((x) => x.path === '/dev/vnet/tun' && x.major === 10 && x.minor === 200), JSON.stringify(w.devices));
    }
    fs.writeFileSync(path.join(d, 'file'), '');
    const m = (p: string): string => `error gathering device information while adding custom device "${p}": `;
    refused(() => resolveDevice({ PathOnHost: path.join(d, 'file'), PathInContainer: '/x', CgroupPermissions: 'rwm' }), `${m(path.join(d, 'file'))}not a device node`);
    refused(() => resolveDevice({ PathOnHost: d, PathInContainer: '/x', CgroupPermissions: 'rwm' }), `${m(d)}not a device node`);
    refused(() => resolveDevice({ PathOnHost: path.join(d, 'nope'), PathInContainer: '/x', CgroupPermissions: 'rwm' }), `${m(path.join(d, 'nope'))}no such file or directory`);
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test("the policy: deny all, the user's rules, runc's defaults; --privileged allows all", () => {
  const user = { devices: [], rules: [{ allow: true, type: 'c' as const, major: 10, minor: 229, access: 'rwm' }] };
  const p = devicePolicy(false, false, user);
  assert.deepEqual(p.rules, [{ allow: false, access: 'rwm' }, ...user.rules, ...DEFAULT_DEVICE_RULES]);
  assert.deepEqual(p.devices, []);
  // runc's AllowedDevices (libcontainer/specconv): mknod of anything, the standard nodes, ptys, tun; nothing else opens
  const text = DEFAULT_DEVICE_RULES.map((r) => `${r.type} ${r.major ?? '*'}:${r.minor ?? '*'} ${r.access}`);
  assert.deepEqual(text, ['c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:8 rwm', 'c 1:7 rwm', 'c 5:0 rwm', 'c 1:5 rwm', 'c 1:9 rwm', 'c 5:1 rwm', 'c 136:* rwm', 'c 5:2 rwm', 'c 10:200 rwm']);
  assert.ok(DEFAULT_DEVICE_RULES.every((r) => r.allow));
  const priv = devicePolicy(true, false, user);
  assert.deepEqual(priv.rules, [{ allow: true, access: 'rwm' }]);
  assert.ok(priv.devices.some((d) => d.path === '/dev/null'), 'the host devices');
});
