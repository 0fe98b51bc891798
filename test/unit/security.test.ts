/**
 * Capabilities, masked/read-only paths and --security-opt parsing. Expected values are what the
 * installed podman 4.3.1 writes in its config.json and shows in /proc/self/status.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ALL_CAPS,
  DEFAULT_CAPS,
  DOCKER_DEFAULT_CAPS,
  MASKED_PATHS,
  READONLY_PATHS,
  capsToHex,
  hexToCaps,
  normalizeCapability,
  parseSecurityOpts,
  resolveCapabilities,
  securityPaths,
} from '../../src/container/security.js';
import { SkiffError } from '../../src/errors.js';

const einval = (re: RegExp) => (e: unknown): boolean => e instanceof SkiffError && e.code === 'EINVAL' && re.test(e.message) && !e.message.includes('\n');

test('capability table: 41 names, bit numbers as in linux/capability.h', () => {
  assert.equal(ALL_CAPS.length, 41);
  assert.equal(ALL_CAPS[0], 'CAP_CHOWN');
  assert.equal(ALL_CAPS[21], 'CAP_SYS_ADMIN');
  assert.equal(ALL_CAPS[27], 'CAP_MKNOD');
  assert.equal(ALL_CAPS[31], 'CAP_SETFCAP');
  assert.equal(ALL_CAPS[37], 'CAP_AUDIT_READ');
  assert.equal(ALL_CAPS[40], 'CAP_CHECKPOINT_RESTORE');
  assert.equal(new Set(ALL_CAPS).size, 41);
  assert.equal(DEFAULT_CAPS.length, 11);
  assert.equal(DOCKER_DEFAULT_CAPS.length, 14);
});

test('CapEff hex of Podman and Docker default sets, and of all caps', () => {
  assert.equal(capsToHex(DEFAULT_CAPS), '00000000800405fb');
  assert.equal(capsToHex(DOCKER_DEFAULT_CAPS), '00000000a80425fb');
  assert.equal(capsToHex([...ALL_CAPS]), '000001ffffffffff');
  assert.equal(capsToHex([]), '0000000000000000');
  assert.equal(capsToHex(['CAP_NET_ADMIN']), '0000000000001000');
  assert.deepEqual(hexToCaps('00000000800405fb').sort(), [...DEFAULT_CAPS].sort());
  assert.deepEqual(hexToCaps(capsToHex(DOCKER_DEFAULT_CAPS)).sort(), [...DOCKER_DEFAULT_CAPS].sort());
});

test('default: root gets Podman\'s 11 in bounding/effective/permitted, nothing inheritable or ambient', () => {
  const c = resolveCapabilities({ capAdd: [], capDrop: [], privileged: false, user: 0 });
  assert.deepEqual(c.bounding, [...DEFAULT_CAPS].sort());
  assert.deepEqual(c.effective, c.bounding);
  assert.deepEqual(c.permitted, c.bounding);
  assert.deepEqual(c.inheritable, []);
  assert.deepEqual(c.ambient, []);
  assert.equal(capsToHex(c.effective), '00000000800405fb');
});

test('cap names: with or without CAP_, any case, surrounding spaces, empty entries ignored', () => {
  for (const n of ['net_admin', 'NET_ADMIN', 'CAP_NET_ADMIN', 'cap_net_admin', 'Cap_Net_Admin', ' net_admin ']) {
    assert.equal(normalizeCapability(n), 'CAP_NET_ADMIN');
  }
  assert.equal(normalizeCapability('all'), 'ALL');
  assert.equal(normalizeCapability('All'), 'ALL');
  const c = resolveCapabilities({ capAdd: ['Cap_Net_Admin', ''], capDrop: [''], user: 0 });
  assert.equal(capsToHex(c.effective), '00000000800415fb'); // podman --cap-add Cap_Net_Admin
});

test('--cap-add / --cap-drop on the default set (podman 4.3 results)', () => {
  const hex = (o: Parameters<typeof resolveCapabilities>[0]): string => capsToHex(resolveCapabilities(o).bounding);
  assert.equal(hex({ capAdd: ['net_admin'] }), '00000000800415fb');
  assert.equal(hex({ capDrop: ['chown'] }), '00000000800405fa');
  assert.equal(hex({ capDrop: ['mknod'] }), '00000000800405fb'); // dropping one not held is fine
  assert.equal(hex({ capDrop: ['all'] }), '0000000000000000');
  assert.equal(hex({ capDrop: ['ALL'], capAdd: ['net_admin'] }), '0000000000001000');
  assert.equal(hex({ capAdd: ['all'], capDrop: ['net_admin'] }), '000001ffffffefff');
  assert.equal(hex({ capAdd: ['ALL'] }), '000001ffffffffff');
  assert.equal(hex({ capAdd: ['sys_admin', 'SYS_ADMIN', 'CAP_SYS_ADMIN'] }), '00000000802405fb');
  const c = resolveCapabilities({ capAdd: ['sys_ptrace', 'net_raw'], capDrop: ['kill'] });
  assert.ok(c.bounding.includes('CAP_SYS_PTRACE') && c.bounding.includes('CAP_NET_RAW') && !c.bounding.includes('CAP_KILL'));
  assert.deepEqual(c.bounding, [...c.bounding].sort(), 'sorted by name, as podman writes them');
});

test('--privileged: every capability, --cap-add/--cap-drop ignored', () => {
  const c = resolveCapabilities({ capAdd: [], capDrop: ['net_admin'], privileged: true, user: 0 });
  assert.equal(c.bounding.length, 41);
  assert.equal(capsToHex(c.effective), '000001ffffffffff');
  assert.deepEqual(c.ambient, []);
  // both-added-and-dropped is not checked when privileged (podman runs it)
  assert.equal(resolveCapabilities({ capAdd: ['net_admin'], capDrop: ['net_admin'], privileged: true }).bounding.length, 41);
});

test('non-root user: bounding kept, effective/permitted empty unless --cap-add (then also inheritable+ambient)', () => {
  const c = resolveCapabilities({ capAdd: [], capDrop: [], privileged: false, user: 1000 });
  assert.equal(capsToHex(c.bounding), '00000000800405fb');
  for (const k of ['effective', 'permitted', 'inheritable', 'ambient'] as const) assert.deepEqual(c[k], []);
  // podman --user 1000 --cap-add net_admin: CapInh/Prm/Eff/Amb 0x1000, CapBnd 0x800415fb
  const a = resolveCapabilities({ capAdd: ['net_admin'], user: 1000 });
  assert.equal(capsToHex(a.bounding), '00000000800415fb');
  for (const k of ['effective', 'permitted', 'inheritable', 'ambient'] as const) assert.equal(capsToHex(a[k]), '0000000000001000', k);
  // --cap-drop chown does not touch the user's added set
  const d = resolveCapabilities({ capAdd: ['net_admin'], capDrop: ['chown'], user: 1000 });
  assert.equal(capsToHex(d.bounding), '00000000800415fa');
  assert.equal(capsToHex(d.ambient), '0000000000001000');
  // --cap-add all for a user: everything; privileged user without --cap-add: nothing effective
  assert.equal(resolveCapabilities({ capAdd: ['all'], user: 1000 }).ambient.length, 41);
  const p = resolveCapabilities({ privileged: true, user: 1000 });
  assert.equal(p.bounding.length, 41);
  assert.deepEqual(p.effective, []);
  // never more than the bounding set (podman fails in capset here; skiff keeps it consistent)
  const x = resolveCapabilities({ capAdd: ['all'], capDrop: ['net_admin'], user: 1000 });
  assert.ok(!x.ambient.includes('CAP_NET_ADMIN') && x.ambient.length === 40);
});

test('capability errors are one-line EINVAL', () => {
  assert.throws(() => resolveCapabilities({ capAdd: ['FOO'] }), einval(/^invalid capability "FOO"$/));
  assert.throws(() => resolveCapabilities({ capDrop: ['cap_foo'] }), einval(/^invalid capability "cap_foo"$/));
  assert.throws(() => resolveCapabilities({ capAdd: ['CAP_ALL'] }), einval(/invalid capability "CAP_ALL"/));
  assert.throws(() => resolveCapabilities({ capAdd: ['foo'], privileged: true }), einval(/invalid capability "foo"/));
  assert.throws(() => resolveCapabilities({ capAdd: ['sys_admin'], capDrop: ['CAP_SYS_ADMIN'] }), einval(/^capability "CAP_SYS_ADMIN" cannot be dropped and added$/));
  assert.throws(() => resolveCapabilities({ capAdd: ['all'], capDrop: ['all'] }), einval(/adding all caps and removing all caps not allowed/));
  assert.throws(() => capsToHex(['CAP_NOPE']), einval(/invalid capability/));
});

test('masked and read-only paths: podman 4.3.1 lists, in its order', () => {
  assert.deepEqual(MASKED_PATHS, [
    '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats',
    '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/fs/selinux', '/sys/dev/block',
  ]);
  assert.deepEqual(READONLY_PATHS, ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
  const d = securityPaths({ privileged: false, unmask: [] });
  assert.deepEqual(d.maskedPaths, [...MASKED_PATHS]);
  assert.deepEqual(d.readonlyPaths, [...READONLY_PATHS]);
});

test('securityPaths: privileged, unmask (ALL, paths, globs), mask', () => {
  assert.deepEqual(securityPaths({ privileged: true, unmask: [] }), { maskedPaths: [], readonlyPaths: [] });
  assert.deepEqual(securityPaths({ privileged: false, unmask: ['ALL'] }), { maskedPaths: [], readonlyPaths: [] });
  const two = securityPaths({ privileged: false, unmask: ['/proc/kcore', '/proc/sys'] });
  assert.ok(!two.maskedPaths.includes('/proc/kcore') && two.maskedPaths.length === 10);
  assert.deepEqual(two.readonlyPaths, ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sysrq-trigger']);
  // Go filepath.Match: * stops at /
  const g = securityPaths({ privileged: false, unmask: ['/proc/*'] });
  assert.deepEqual(g.maskedPaths, ['/sys/firmware', '/sys/fs/selinux', '/sys/dev/block']);
  assert.deepEqual(g.readonlyPaths, []);
  assert.deepEqual(securityPaths({ privileged: false, unmask: ['/sys/*/*'] }).maskedPaths.slice(-1), ['/sys/firmware']);
  assert.equal(securityPaths({ privileged: false, unmask: ['/sys/**'] }).maskedPaths.includes('/sys/firmware'), false);
  assert.deepEqual(securityPaths({ privileged: false, unmask: ['/proc/[a-k]*'] }).readonlyPaths, ['/proc/sys', '/proc/sysrq-trigger']);
  assert.equal(securityPaths({ privileged: false, unmask: ['/proc/kcor?'] }).maskedPaths.includes('/proc/kcore'), false);
  assert.equal(securityPaths({ privileged: false, unmask: ['/proc'] }).maskedPaths.length, 11, 'no prefix matching');
  // mask adds, and survives privileged / unmask=ALL / an unmask of the same path (as podman)
  assert.deepEqual(securityPaths({ privileged: false, unmask: [], mask: ['/proc/foo', '/sys/bar'] }).maskedPaths.slice(-2), ['/proc/foo', '/sys/bar']);
  assert.deepEqual(securityPaths({ privileged: true, unmask: [], mask: ['/proc/foo'] }).maskedPaths, ['/proc/foo']);
  assert.deepEqual(securityPaths({ privileged: false, unmask: ['ALL'], mask: ['/proc/foo'] }).maskedPaths, ['/proc/foo']);
  assert.ok(securityPaths({ privileged: false, unmask: ['/proc/foo'], mask: ['/proc/foo'] }).maskedPaths.includes('/proc/foo'));
});

test('parseSecurityOpts: defaults and no-new-privileges spellings', () => {
  assert.deepEqual(parseSecurityOpts([]), { noNewPrivileges: false, unmask: [], mask: [], label: [] });
  for (const o of ['no-new-privileges', 'no-new-privileges=true', 'no-new-privileges:true', 'no-new-privileges=1', 'no-new-privileges=TRUE']) {
    assert.equal(parseSecurityOpts([o]).noNewPrivileges, true, o);
  }
  for (const o of ['no-new-privileges=false', 'no-new-privileges:false', 'no-new-privileges=0']) assert.equal(parseSecurityOpts([o]).noNewPrivileges, false, o);
  assert.equal(parseSecurityOpts(['no-new-privileges', 'no-new-privileges=false']).noNewPrivileges, false, 'last wins');
});

test('parseSecurityOpts: seccomp, label, apparmor, unmask, mask, systempaths', () => {
  assert.equal(parseSecurityOpts(['seccomp=unconfined']).seccomp, 'unconfined');
  assert.equal(parseSecurityOpts(['seccomp:unconfined']).seccomp, 'unconfined');
  assert.equal(parseSecurityOpts(['seccomp=/etc/p.json']).seccomp, '/etc/p.json');
  assert.equal(parseSecurityOpts(['seccomp=p.json']).seccomp, `${process.cwd()}/p.json`);
  assert.equal(parseSecurityOpts(['seccomp=']).seccomp, undefined);
  assert.equal(parseSecurityOpts(['seccomp=unconfined', 'seccomp=builtin']).seccomp, undefined);
  const l = parseSecurityOpts(['label=disable', 'label:type:spc_t', 'apparmor=unconfined', 'apparmor=']);
  assert.deepEqual(l.label, ['disable', 'type:spc_t']);
  assert.equal(l.apparmor, '');
  assert.deepEqual(parseSecurityOpts(['unmask=ALL']).unmask, ['ALL']);
  assert.deepEqual(parseSecurityOpts(['unmask=all']).unmask, ['ALL']);
  assert.deepEqual(parseSecurityOpts(['systempaths=unconfined']).unmask, ['ALL']);
  assert.deepEqual(parseSecurityOpts(['unmask=/proc/kcore:/proc/sys', 'unmask=/proc/*']).unmask, ['/proc/kcore', '/proc/sys', '/proc/*']);
  assert.deepEqual(parseSecurityOpts(['unmask=']).unmask, []);
  assert.deepEqual(parseSecurityOpts(['mask=/a:/b', 'mask=/c', 'mask=']).mask, ['/a', '/b', '/c']);
});

test('parseSecurityOpts errors are one-line EINVAL naming the option', () => {
  assert.throws(() => parseSecurityOpts(['bogus']), einval(/^invalid --security-opt: "bogus"$/));
  assert.throws(() => parseSecurityOpts(['foo=bar']), einval(/^invalid --security-opt: "foo=bar"$/));
  assert.throws(() => parseSecurityOpts(['proc-opts=x']), einval(/invalid --security-opt: "proc-opts=x"/));
  assert.throws(() => parseSecurityOpts(['label']), einval(/invalid --security-opt: "label"/));
  assert.throws(() => parseSecurityOpts(['seccomp']), einval(/invalid --security-opt: "seccomp"/));
  assert.throws(() => parseSecurityOpts(['no-new-privileges=maybe']), einval(/invalid --security-opt: "no-new-privileges=maybe"/));
  assert.throws(() => parseSecurityOpts(['systempaths=foo']), einval(/invalid --security-opt: "systempaths=foo"/));
  assert.throws(() => parseSecurityOpts(['mask=relative']), einval(/"mask=relative": mask paths must be absolute/));
  assert.throws(() => parseSecurityOpts(['unmask=ALL:/proc/kcore']), einval(/unmask paths must be absolute/));
  assert.throws(() => parseSecurityOpts(['unmask=/proc/[a']), einval(/bad pattern/));
});
