/**
 * Seccomp profile → OCI conversion, against the Docker and Podman profiles and moby's fixtures in
 * the shared conformance data (/work/shared/conformance/seccomp, or $SKIFF_CONFORMANCE_DIR/seccomp).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  FALLBACK_PROFILE,
  SYSTEM_PROFILES,
  checkProfile,
  kernelAtLeast,
  loadDefaultProfile,
  loadProfileFile,
  nativeArch,
  toOciSeccomp,
  type OciSeccomp,
  type SeccompProfile,
} from '../../src/container/seccomp.js';
import { DEFAULT_CAPS, resolveCapabilities } from '../../src/container/security.js';
import { SkiffError } from '../../src/errors.js';

/** dist/test/unit → repository root → ../shared/conformance */
import { CONFORMANCE } from '../helpers/conformance.js';
const DIR = path.join(CONFORMANCE, 'seccomp');
const skip = !fs.existsSync(path.join(DIR, 'default.json')) && `seccomp profiles not found in ${DIR} (set SKIFF_CONFORMANCE_DIR)`;
const file = (name: string): string => path.join(DIR, name);

const X86 = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];
const NEW_KERNEL = '6.1.0-18-amd64';
const PODMAN_CAPS = [...DEFAULT_CAPS];
const withCaps = (...extra: string[]): string[] => [...PODMAN_CAPS, ...extra];

/** The rules naming `name`. */
const rules = (o: OciSeccomp, name: string) => o.syscalls.filter((r) => r.names.includes(name));
/** Allowed outright (an ALLOW rule without argument conditions). */
const allowed = (o: OciSeccomp, name: string): boolean => rules(o, name).some((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args);
const mentioned = (o: OciSeccomp, name: string): boolean => rules(o, name).length > 0;
const einval = (re: RegExp) => (e: unknown): boolean => e instanceof SkiffError && e.code === 'EINVAL' && re.test(e.message) && !e.message.includes('\n');


test('nativeArch and kernel version comparison', () => {
  assert.equal(nativeArch('x64'), 'amd64');
  assert.equal(nativeArch('ia32'), 'x86');
  assert.equal(nativeArch('arm64'), 'arm64');
  assert.equal(nativeArch('s390x'), 's390x');
  assert.ok(kernelAtLeast('6.1.0-18-amd64', '4.8'));
  assert.ok(kernelAtLeast('4.8.0', '4.8'));
  assert.ok(kernelAtLeast('4.10', '4.8'), 'numeric, not string, comparison');
  assert.ok(!kernelAtLeast('4.4.0-210-generic', '4.8'));
  assert.ok(!kernelAtLeast('3.19', '4.8'));
  assert.ok(kernelAtLeast('6.18.44-fc-v669', '5.8'));
});

test('Docker default.json, default caps: mount/unshare denied, clone only without namespace flags, clone3 ENOSYS', { skip }, () => {
  const p = loadProfileFile(file('default.json'));
  const o = toOciSeccomp(p, { caps: PODMAN_CAPS, arch: 'amd64', kernel: NEW_KERNEL });
  assert.equal(o.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(o.defaultErrnoRet, 1);
  assert.deepEqual(o.architectures, X86);
  for (const n of ['read', 'write', 'openat', 'execve', 'chroot', 'arch_prctl', 'modify_ldt', 'ptrace']) assert.ok(allowed(o, n), n);
  for (const n of ['mount', 'umount2', 'unshare', 'setns', 'bpf', 'perf_event_open', 'reboot', 'init_module', 'kexec_load', 'syslog', 'open_by_handle_at', 'keyctl']) {
    assert.ok(!allowed(o, n), `${n} must not be allowed without its capability`);
  }
  const clone = rules(o, 'clone');
  assert.equal(clone.length, 1);
  assert.deepEqual(clone[0]!.args, [{ index: 0, value: 0x7e020000, op: 'SCMP_CMP_MASKED_EQ' }]);
  const c3 = rules(o, 'clone3');
  assert.deepEqual(c3, [{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]);
  // socket allowed except AF_VSOCK (40), personality only for some values: argument rules kept
  assert.ok(rules(o, 'socket').every((r) => r.args && r.args.length > 0));
  assert.equal(rules(o, 'personality').length, 5);
  // no includes/excludes leak into the OCI form
  assert.ok(o.syscalls.every((r) => Object.keys(r).every((k) => ['names', 'action', 'errnoRet', 'args'].includes(k))));
});

test('Docker default.json with CAP_SYS_ADMIN: mount, unshare, clone, clone3 allowed; no ENOSYS rule', { skip }, () => {
  const p = loadProfileFile(file('default.json'));
  const base = toOciSeccomp(p, { caps: PODMAN_CAPS, arch: 'amd64', kernel: NEW_KERNEL });
  const o = toOciSeccomp(p, { caps: withCaps('CAP_SYS_ADMIN'), arch: 'amd64', kernel: NEW_KERNEL });
  for (const n of ['mount', 'umount2', 'unshare', 'setns', 'clone', 'clone3', 'bpf', 'perf_event_open', 'syslog', 'fsopen', 'sethostname']) assert.ok(allowed(o, n), n);
  assert.ok(!rules(o, 'clone3').some((r) => r.action === 'SCMP_ACT_ERRNO'));
  assert.ok(!rules(o, 'clone').some((r) => r.args), 'the flag-restricted clone rule is excluded');
  assert.equal(o.syscalls.length, base.syscalls.length - 1, 'the SYS_ADMIN rule gained, the restricted clone and the clone3 ENOSYS rules lost');
  // same through resolveCapabilities (--cap-add sys_admin), the way spec.ts calls it
  const caps = resolveCapabilities({ capAdd: ['sys_admin'], capDrop: [], privileged: false, user: 0 });
  assert.deepEqual(toOciSeccomp(p, { caps: caps.bounding, arch: 'amd64', kernel: NEW_KERNEL }), o);
});

test('Docker default.json: per-capability includes, minKernel, arch filtering', { skip }, () => {
  const p = loadProfileFile(file('default.json'));
  const conv = (caps: string[], arch = 'amd64', kernel = NEW_KERNEL): OciSeccomp => toOciSeccomp(p, { caps, arch, kernel });
  assert.ok(allowed(conv(withCaps('CAP_SYS_PTRACE')), 'kcmp'));
  assert.ok(!allowed(conv(PODMAN_CAPS), 'kcmp'));
  assert.ok(allowed(conv(withCaps('CAP_BPF')), 'bpf'));
  assert.ok(allowed(conv(withCaps('CAP_SYS_TIME')), 'clock_settime'));
  assert.ok(allowed(conv(withCaps('CAP_DAC_READ_SEARCH')), 'open_by_handle_at'));
  // ptrace needs kernel >= 4.8 unless CAP_SYS_PTRACE
  assert.ok(!allowed(conv(PODMAN_CAPS, 'amd64', '4.4.0-210-generic'), 'ptrace'));
  assert.ok(allowed(conv(withCaps('CAP_SYS_PTRACE'), 'amd64', '4.4.0'), 'ptrace'));
  // arches: arm64 gets AARCH64+ARM and the arm-only calls, not arch_prctl
  const arm = conv(PODMAN_CAPS, 'arm64');
  assert.deepEqual(arm.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.ok(allowed(arm, 'set_tls') && !mentioned(arm, 'arch_prctl') && !mentioned(arm, 'modify_ldt'));
  const x86 = conv(PODMAN_CAPS, 'amd64');
  assert.ok(!mentioned(x86, 'set_tls') && !mentioned(x86, 's390_runtime_instr') && !mentioned(x86, 'riscv_flush_icache'));
  // s390x: clone flags are argument 1
  const s390 = conv(PODMAN_CAPS, 's390x');
  assert.deepEqual(s390.architectures, ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390']);
  assert.deepEqual(rules(s390, 'clone').map((r) => r.args?.[0]?.index), [1]);
  assert.ok(allowed(s390, 's390_runtime_instr'));
  assert.deepEqual(conv(PODMAN_CAPS, 'riscv64').architectures, ['SCMP_ARCH_RISCV64']);
  // an arch with no archMap entry: no architectures (the runtime filters the native one)
  assert.deepEqual(conv(PODMAN_CAPS, 'ppc64le').architectures, []);
  // this host, by default
  assert.deepEqual(toOciSeccomp(p, { caps: PODMAN_CAPS }), conv(PODMAN_CAPS, nativeArch(), os.release()));
});

test('moby fixture conditional_include.json', { skip }, () => {
  const p = loadProfileFile(file('fixtures/conditional_include.json'));
  const names = (caps: string[]): string[] => toOciSeccomp(p, { caps, arch: 'amd64', kernel: NEW_KERNEL }).syscalls.flatMap((r) => r.names);
  assert.deepEqual(names([]), ['chmod', 'ptrace']);
  assert.deepEqual(names(['CAP_SYSLOG']), ['chmod', 'syslog', 'ptrace']);
  assert.deepEqual(names(['CAP_SYS_ADMIN']), ['chmod']);
  assert.deepEqual(names(['CAP_SYSLOG', 'CAP_SYS_ADMIN']), ['chmod', 'syslog']);
  const o = toOciSeccomp(p, { caps: [], arch: 'amd64' });
  assert.equal(o.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(o.defaultErrnoRet, undefined);
  assert.deepEqual(o.architectures, []);
});

test('moby fixture default-old-format.json (architectures + name)', { skip }, () => {
  const raw = JSON.parse(fs.readFileSync(file('fixtures/default-old-format.json'), 'utf8')) as { architectures: string[]; syscalls: { name: string }[] };
  const p = loadProfileFile(file('fixtures/default-old-format.json'));
  for (const arch of ['amd64', 'arm64']) {
    const o = toOciSeccomp(p, { caps: PODMAN_CAPS, arch, kernel: NEW_KERNEL });
    assert.deepEqual(o.architectures, raw.architectures, 'old-format architectures are used as given');
    assert.equal(o.syscalls.length, raw.syscalls.length);
    assert.deepEqual(o.syscalls.map((r) => r.names), raw.syscalls.map((r) => [r.name]));
  }
  const o = toOciSeccomp(p, { caps: [], arch: 'amd64' });
  assert.ok(allowed(o, 'accept'));
  assert.equal(rules(o, 'accept')[0]!.args, undefined, 'empty args dropped');
  assert.deepEqual(rules(o, 'personality').map((r) => r.args?.[0]?.value), [0, 8, 4294967295]);
});

test('moby fixture example.json: args, errnoRet, defaultErrnoRet', { skip }, () => {
  const o = toOciSeccomp(loadProfileFile(file('fixtures/example.json')), { caps: [], arch: 'amd64' });
  assert.equal(o.defaultErrnoRet, 1);
  assert.deepEqual(o.syscalls, [
    { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }] },
    { names: ['open'], action: 'SCMP_ACT_ALLOW' },
    { names: ['close'], action: 'SCMP_ACT_ALLOW' },
    { names: ['syslog'], action: 'SCMP_ACT_ERRNO', errnoRet: 12345 },
  ]);
});

test('Podman seccomp.json: ENOSYS default, explicit EPERM denials, cap-conditional pairs', { skip }, () => {
  const p = loadProfileFile(file('podman-seccomp.json'));
  const o = toOciSeccomp(p, { caps: PODMAN_CAPS, arch: 'amd64', kernel: NEW_KERNEL });
  assert.equal(o.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(o.defaultErrnoRet, 38);
  assert.deepEqual(o.architectures, X86);
  assert.deepEqual(o.syscalls[0]!.action, 'SCMP_ACT_ERRNO');
  assert.equal(o.syscalls[0]!.errnoRet, 1);
  assert.ok(o.syscalls[0]!.names.includes('kexec_load'));
  // Podman allows these outright and relies on capabilities
  for (const n of ['mount', 'unshare', 'clone', 'clone3', 'ptrace', 'keyctl', 'pivot_root']) assert.ok(allowed(o, n), n);
  // without CAP_BPF / CAP_SYS_ADMIN: an EPERM rule for bpf; with CAP_BPF: allowed, no EPERM rule
  assert.deepEqual(rules(o, 'bpf'), [{ names: ['bpf'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }]);
  const bpf = toOciSeccomp(p, { caps: withCaps('CAP_BPF'), arch: 'amd64', kernel: NEW_KERNEL });
  assert.deepEqual(rules(bpf, 'bpf'), [{ names: ['bpf'], action: 'SCMP_ACT_ALLOW' }]);
  // socket(AF_NETLINK, ..., NETLINK_AUDIT) → EINVAL without CAP_AUDIT_WRITE (Podman's default set lacks it)
  assert.ok(rules(o, 'socket').some((r) => r.action === 'SCMP_ACT_ERRNO' && r.errnoRet === 22));
  const audit = toOciSeccomp(p, { caps: withCaps('CAP_AUDIT_WRITE'), arch: 'amd64', kernel: NEW_KERNEL });
  // with it: every family but AF_VSOCK (40)
  assert.deepEqual(rules(audit, 'socket'), [
    { names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 0, value: 40, op: 'SCMP_CMP_EQ' }] },
    { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
  ]);
});

test('loadDefaultProfile: the system profile Podman uses, else the built-in fallback', { skip }, () => {
  const installed = SYSTEM_PROFILES.find((f) => fs.existsSync(f));
  if (installed) assert.deepEqual(loadDefaultProfile(), JSON.parse(fs.readFileSync(installed, 'utf8')));
  else assert.equal(loadDefaultProfile(), FALLBACK_PROFILE);
  assert.equal(loadDefaultProfile([path.join(os.tmpdir(), 'skiff-no-such-profile.json')]), FALLBACK_PROFILE);
  assert.deepEqual(loadDefaultProfile(['/nonexistent/seccomp.json', file('podman-seccomp.json')]).defaultErrnoRet, 38);
});

test('built-in fallback profile: default allow, dangerous calls denied unless the matching capability', () => {
  assert.equal(checkProfile(FALLBACK_PROFILE), undefined);
  const conv = (caps: string[], arch = 'amd64'): OciSeccomp => toOciSeccomp(FALLBACK_PROFILE, { caps, arch, kernel: NEW_KERNEL });
  const o = conv(PODMAN_CAPS);
  assert.equal(o.defaultAction, 'SCMP_ACT_ALLOW');
  const denied = (x: OciSeccomp, n: string, errno = 1): boolean => rules(x, n).some((r) => r.action === 'SCMP_ACT_ERRNO' && r.errnoRet === errno && !r.args);
  for (const n of ['mount', 'umount2', 'pivot_root', 'unshare', 'setns', 'kexec_load', 'kexec_file_load', 'init_module', 'finit_module',
    'delete_module', 'bpf', 'perf_event_open', 'open_by_handle_at', 'keyctl', 'add_key', 'request_key', 'reboot', 'swapon',
    'swapoff', 'acct', 'userfaultfd', 'clock_settime', 'io_uring_setup']) {
    assert.ok(denied(o, n), n);
  }
  assert.ok(denied(o, 'clone3', 38), 'clone3 → ENOSYS so libc falls back to clone');
  assert.ok(!mentioned(o, 'ptrace') && !mentioned(o, 'read'));
  // clone with any CLONE_NEW* flag denied, flags in argument 0 (1 on s390x)
  const clone = rules(o, 'clone');
  assert.equal(clone.length, 7);
  assert.equal(clone.reduce((m, r) => m | r.args![0]!.value, 0), 0x7e020000);
  assert.ok(clone.every((r) => r.args![0]!.index === 0 && r.args![0]!.op === 'SCMP_CMP_MASKED_EQ' && r.args![0]!.value === r.args![0]!.valueTwo));
  assert.ok(rules(conv(PODMAN_CAPS, 's390x'), 'clone').every((r) => r.args![0]!.index === 1));
  // capabilities lift their group, and only theirs
  const sa = conv(withCaps('CAP_SYS_ADMIN'));
  for (const n of ['mount', 'unshare', 'setns', 'clone', 'clone3', 'bpf', 'perf_event_open']) assert.ok(!mentioned(sa, n), n);
  for (const n of ['kexec_load', 'init_module', 'keyctl', 'reboot']) assert.ok(denied(sa, n), n);
  assert.ok(!mentioned(conv(withCaps('CAP_SYS_BOOT')), 'reboot'));
  assert.ok(!mentioned(conv(withCaps('CAP_SYS_MODULE')), 'init_module'));
  assert.ok(!mentioned(conv(withCaps('CAP_BPF')), 'bpf'));
  assert.ok(denied(conv(withCaps('CAP_SYS_ADMIN', 'CAP_SYS_PTRACE')), 'keyctl'), 'keyrings are never namespaced');
});

test('filter flags pass through when set, and only then', () => {
  const p: SeccompProfile = { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] };
  assert.deepEqual(toOciSeccomp(p, { caps: [], arch: 'amd64' }).flags, ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW']);
  assert.equal('flags' in toOciSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: [] }, { caps: [] }), false);
  assert.equal('flags' in toOciSeccomp(FALLBACK_PROFILE, { caps: [] }), false);
});

test('bad profiles: one-line EINVAL naming the file', () => {
  const cases: [string, string, RegExp][] = [
    ['broken.json', '{"defaultAction": ', /^invalid seccomp profile .*broken\.json: /],
    ['array.json', '[]', /array\.json: not a JSON object/],
    ['noaction.json', '{"syscalls": []}', /noaction\.json: defaultAction: unknown action undefined/],
    ['default.json', '{"defaultAction": "SCMP_ACT_MAYBE"}', /default\.json: defaultAction: unknown action "SCMP_ACT_MAYBE"/],
    ['rule.json', '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_FOO"}]}', /rule\.json: syscalls\[0\]: unknown action "SCMP_ACT_FOO"/],
    ['notify.json', '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]}', /SCMP_ACT_NOTIFY is not supported/],
    ['op.json', '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_LIKE"}]}]}', /unknown comparison "SCMP_CMP_LIKE"/],
    ['idx.json', '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}', /index must be 0\.\.5/],
    ['big.json', '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 18446744073709551615, "op": "SCMP_CMP_EQ"}]}]}', /value .* is not an integer/],
    ['both.json', '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "read", "names": ["write"], "action": "SCMP_ACT_ALLOW"}]}', /'name' and 'names'/],
    ['arch.json', '{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": []}]}', /'architectures' and 'archMap'/],
    ['kernel.json', '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "new"}}]}', /minKernel "new" is not a kernel version/],
    ['flag.json', '{"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_NOPE"]}', /unsupported flag "SECCOMP_FILTER_FLAG_NOPE"/],
    ['errno.json', '{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": "EPERM"}', /defaultErrnoRet is not an errno number/],
  ];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-seccomp-'));
  try {
    for (const [name, content, re] of cases) {
      const f = path.join(dir, name);
      fs.writeFileSync(f, content);
      assert.throws(() => loadProfileFile(f), einval(re), name);
      assert.throws(() => loadProfileFile(f), (e: unknown) => (e as Error).message.includes(f), `${name}: names the file`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => loadProfileFile('/nonexistent/profile.json'), einval(/^cannot read seccomp profile \/nonexistent\/profile\.json: no such file$/));
  assert.throws(() => loadProfileFile(os.tmpdir()), einval(/is a directory/));
  // toOciSeccomp checks objects built in code too
  const bad = { defaultAction: 'SCMP_ACT_NOPE' } as unknown as SeccompProfile;
  assert.throws(() => toOciSeccomp(bad, { caps: [] }), einval(/^invalid seccomp profile: defaultAction: unknown action "SCMP_ACT_NOPE"$/));
});
