/**
 * create's pure steps: buildRecord (options + image config → record) and buildSpec (record → OCI
 * spec): the command, environment, namespaces by network mode, the hosts/resolv.conf binds, --read-only,
 * --init, and --rm's removal list.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configure } from '../../src/config.js';
import { buildRecord, type CreateOptions, type RecordInput } from '../../src/container/create.js';
import { parseSecurityOpts } from '../../src/container/security.js';
import { buildSpec } from '../../src/container/spec.js';
import { containerFiles } from '../../src/store/containers.js';
import { SkiffError } from '../../src/errors.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-spec-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
configure({ root: path.join(root, 'root'), runroot: path.join(root, 'run') });

const ID = 'a'.repeat(64);

function options(o: Partial<CreateOptions> = {}): CreateOptions {
  return {
    image: 'busybox', command: [], env: [], envFile: [], tty: false, interactive: false, rm: false, volumes: [], mounts: [],
    tmpfs: [], network: [], aliases: [], dns: [], dnsSearch: [], dnsOptions: [], addHost: [], publish: [], publishAll: false, expose: [], privileged: false, devices: [], deviceCgroupRules: [], capAdd: [], capDrop: [], securityOpt: [],
    readOnly: false, init: false, labels: [], pull: 'missing', logOpts: [], health: { none: false }, ...o,
  } as CreateOptions;
}

function input(o: Partial<CreateOptions> = {}, icfg: RecordInput['icfg'] = { Cmd: ['sh'], Env: ['PATH=/bin', 'A=img'] }): RecordInput {
  return {
    o: options(o), id: ID, name: 'c1', created: '2026-01-01T00:00:00.000Z', image: { id: 'sha256:' + 'b'.repeat(64), name: 'busybox', chainIds: [] },
    icfg, user: { uid: 0, gid: 0, additionalGids: [], home: '/root' }, mounts: [], labels: { l: 'v' }, givenEnv: ['A=user'],
    net: { mode: o.network?.[0] ?? 'bridge', endpoints: {}, exposed: {}, bindings: {}, publishAll: false, dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [], warnings: [] },
    limits: {},
    rootless: false,
  };
}

function spec(o: Partial<CreateOptions> = {}, icfg?: RecordInput['icfg']) {
  const { rec, env } = buildRecord(input(o, icfg));
  return { rec, spec: buildSpec({ rec, user: { uid: 0, gid: 0, additionalGids: [], home: '/root' }, env, security: parseSecurityOpts(o.securityOpt ?? []) }) };
}

test('record: command from the image, env merged with the user\'s, hostname from the id', () => {
  const { rec, env } = buildRecord(input());
  assert.equal(rec.Path, 'sh');
  assert.deepEqual(rec.Args, []);
  assert.equal(rec.Config.Hostname, ID.slice(0, 12));
  assert.deepEqual(env, ['PATH=/bin', 'A=user', `HOSTNAME=${ID.slice(0, 12)}`, 'HOME=/root']);
  assert.deepEqual(rec.Config.Labels, { l: 'v' });
  assert.equal(rec.HostConfig.NetworkMode, 'bridge');
});

test('record: parsed resource limits land in HostConfig under Docker\'s names', () => {
  const { rec } = buildRecord({ ...input(), limits: { Memory: 512 * 1024 * 1024, PidsLimit: 64 } });
  assert.equal(rec.HostConfig.Memory, 536870912);
  assert.equal(rec.HostConfig.PidsLimit, 64);
  assert.equal(buildRecord(input()).rec.HostConfig.Memory, undefined);
});

test('record: no command is an error; a relative workdir is refused', () => {
  assert.throws(() => buildRecord(input({}, {})), (e: unknown) => e instanceof SkiffError && e.message === 'no command specified');
  assert.throws(() => buildRecord(input({ workdir: 'x' })), /needs to be an absolute path/);
});

test('spec: the process, a network namespace of its own unless host', () => {
  const { spec: s } = spec({ command: ['echo', 'hi'] });
  assert.deepEqual(s.process.args, ['echo', 'hi']);
  const ns = s.linux.namespaces.map((n: { type: string }) => n.type);
  assert.ok(ns.includes('network'));
  assert.ok(!spec({ network: ['host'] }).spec.linux.namespaces.some((n: { type: string }) => n.type === 'network'));
});

test('spec: hosts, hostname and resolv.conf bound from the container\'s files, read-only with --read-only', () => {
  const f = containerFiles(ID);
  const binds = (s: ReturnType<typeof spec>['spec']) =>
    s.mounts.filter((m: { destination: string }) => ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf'].includes(m.destination));
  const rw = binds(spec().spec);
  assert.deepEqual(rw.map((m: { source: string }) => m.source), [f.hosts, f.hostname, f.resolv]);
  assert.ok(rw.every((m: { options: string[] }) => !m.options.includes('ro')));
  const ro = spec({ readOnly: true }).spec;
  assert.equal(ro.root.readonly, true);
  assert.ok(binds(ro).every((m: { options: string[] }) => m.options.includes('ro')));
});

test('spec: --init runs the command under /dev/init; --rm lists the container dir for removal', () => {
  const s = spec({ init: true, rm: true, command: ['true'] }).spec;
  assert.deepEqual(s.process.args, ['/dev/init', '--', 'true']);
  assert.ok(s.skiff.remove?.includes(containerFiles(ID).dir));
  assert.equal(spec().spec.skiff.remove, undefined);
});
