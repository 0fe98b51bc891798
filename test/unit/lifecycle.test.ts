/**
 * Pure parts of the lifecycle commands: the cgroup layout from mountinfo and the plan for a
 * container, /proc/PID/cgroup, Docker's parsing of `ps` output for `top`, signal names, `ps`
 * filters, STATUS text, `stats` rows; and how the state is derived from the files the monitor
 * writes (monitor.json, health.json, exit.json: small fixtures written here, as the monitor would).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configure } from '../../src/config.js';
import { SkiffError } from '../../src/errors.js';
import { parseCgroupMounts, parseProcCgroup, planCgroups } from '../../src/container/cgroup.js';
import { parsePsFilters } from '../../src/container/list.js';
import { parsePsOutput } from '../../src/container/procs.js';
import { parseSignal } from '../../src/container/signals.js';
import { containerState, currentBootId, isAbandoned, observeContainer } from '../../src/container/state.js';
import type { StatsSample } from '../../src/container/stats.js';
import { statsRow } from '../../src/cli/output/stats.js';
import type { ContainerRecord } from '../../src/store/containers.js';

const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
99 23 0:32 /skiff /mnt/bind rw,relatime - cgroup cgroup rw,memory`;

test('cgroup layout: hybrid, v1 with co-mounted controllers, pure v2, none', () => {
  const h = parseCgroupMounts(HYBRID);
  assert.equal(h.mode, 'hybrid');
  assert.equal(h.v2, '/sys/fs/cgroup/unified');
  assert.equal(h.v1.get('memory'), '/sys/fs/cgroup/memory', 'a bind of a sub-cgroup is not the hierarchy');
  assert.equal(h.v1.get('name=systemd'), '/sys/fs/cgroup/systemd');
  const v1 = parseCgroupMounts('25 20 0:22 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n26 20 0:23 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer');
  assert.equal(v1.mode, 'v1');
  assert.equal(v1.v1.get('cpu'), '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(v1.v1.get('cpuacct'), '/sys/fs/cgroup/cpu,cpuacct');
  const v2 = parseCgroupMounts('30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot');
  assert.equal(v2.mode, 'v2');
  assert.equal(v2.v2, '/sys/fs/cgroup');
  assert.equal(parseCgroupMounts('').mode, 'none');
});

test('rootful plan: skiff/<id> in each used v1 hierarchy (co-mounted once) and in v2', () => {
  const id = 'a'.repeat(64);
  const p = planCgroups(id, false, parseCgroupMounts(HYBRID));
  assert.equal(p.cgroupsPath, `/skiff/${id}`);
  assert.deepEqual(p.dirs, ['freezer', 'memory', 'cpu', 'cpuacct', 'pids', 'systemd', 'unified'].map((c) => `/sys/fs/cgroup/${c}/skiff/${id}`));
  const co = planCgroups(id, false, parseCgroupMounts('25 20 0:22 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct'));
  assert.deepEqual(co.dirs, [`/sys/fs/cgroup/cpu,cpuacct/skiff/${id}`]);
  const none = planCgroups(id, true, parseCgroupMounts('25 20 0:22 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu'));
  assert.deepEqual(none.dirs, []);
  assert.match(none.reason!, /only on cgroup v2/);
});

test('/proc/PID/cgroup', () => {
  assert.deepEqual(parseProcCgroup('4:memory:/process_api/x\n1:cpu,cpuacct:/skiff/1\n0::/user.slice\n'), [
    { hierarchy: '4', controllers: ['memory'], path: '/process_api/x' },
    { hierarchy: '1', controllers: ['cpu', 'cpuacct'], path: '/skiff/1' },
    { hierarchy: '0', controllers: [], path: '/user.slice' },
  ]);
});

test('top: Docker parses ps output by its PID column; the last column keeps its spaces; thread lines follow', () => {
  const out = `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 09:00 ?        00:00:01 /sbin/init
root         100      90  0 09:01 ?        00:00:00 sh -c sleep 5 & wait
root         101     100  0 09:01 ?        00:00:00 sleep 5
`;
  const r = parsePsOutput(out, new Set([100, 101]));
  assert.deepEqual(r.Titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  assert.deepEqual(r.Processes, [
    ['root', '100', '90', '0', '09:01', '?', '00:00:00', 'sh -c sleep 5 & wait'],
    ['root', '101', '100', '0', '09:01', '?', '00:00:00', 'sleep 5'],
  ]);
  const threads = parsePsOutput('PID TID CMD\n100 - sh\n- 100 -\n200 - other\n- 200 -\n', new Set([100]));
  assert.deepEqual(threads.Processes, [['100', '-', 'sh'], ['-', '100', '-']]);
  assert.throws(() => parsePsOutput('USER COMMAND\nroot x\n', new Set()), /Couldn't find PID field in ps output/);
});

test('signals: names with or without SIG, numbers, real-time ones; Docker error otherwise', () => {
  assert.equal(parseSignal('TERM'), 15);
  assert.equal(parseSignal('sigkill'), 9);
  assert.equal(parseSignal('10'), 10);
  assert.equal(parseSignal('SIGRTMIN+3'), 37);
  assert.equal(parseSignal('RTMAX'), 64);
  for (const bad of ['NOPE', '0', '65', 'SIGRTMAX+1']) {
    assert.throws(() => parseSignal(bad), (e: unknown) => e instanceof SkiffError && e.message === `invalid signal: ${bad}`);
  }
});

test('ps filters: same key ORs, status implies -a, values checked like Docker', () => {
  const f = parsePsFilters(['status=exited', 'status=created', 'label=a=b', 'name=x']);
  assert.deepEqual(f.byKey.get('status'), ['exited', 'created']);
  assert.equal(f.impliesAll, true);
  assert.equal(parsePsFilters(['exited=0']).impliesAll, false);
  assert.throws(() => parsePsFilters(['status=up']), /invalid filter 'status=up'/);
  assert.throws(() => parsePsFilters(['volume=x']), /invalid filter 'volume'/);
  assert.throws(() => parsePsFilters(['health=ok']), /Unrecognised filter value for health: ok/);
  assert.throws(() => parsePsFilters(['exited=x']), /invalid filter 'exited=x'/);
  assert.throws(() => parsePsFilters(['status']), /bad format of filter/);
});

test('stats rows: Docker CPU % from two samples, binary memory, decimal I/O; zeros for a stopped one', () => {
  const s = (cpuNs: number, systemNs: number): StatsSample => ({
    id: 'f'.repeat(64), name: 'web', running: true, cpuNs, systemNs, cpus: 2, memUsage: 1536 * 1024, memLimit: 2 * 1024 ** 3,
    netRx: 1234, netTx: 5_600_000, blkRead: 0, blkWrite: 4096, pids: 3,
  });
  const row = statsRow(s(0, 0), s(250_000_000, 1_000_000_000));
  assert.deepEqual(row, {
    Container: 'ffffffffffff', ID: 'ffffffffffff', Name: 'web', CPUPerc: '50.00%', MemUsage: '1.5MiB / 2GiB', MemPerc: '0.07%',
    NetIO: '1.23kB / 5.6MB', BlockIO: '0B / 4.1kB', PIDs: '3',
  });
  assert.equal(statsRow(undefined, s(1, 1)).CPUPerc, '0.00%', 'one sample: no CPU % yet');
  const stopped = statsRow(undefined, { ...s(0, 0), running: false }, 'web');
  assert.deepEqual([stopped.Container, stopped.MemUsage, stopped.NetIO, stopped.PIDs], ['web', '0B / 0B', '0B / 0B', '0']);
});

test('state from the monitor files: restarting, health, a dead monitor, a stale pid', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-unit-state-'));
  configure({ root, runroot: path.join(root, 'run') });
  const id = 'c'.repeat(64);
  const dir = path.join(root, 'containers', id);
  fs.mkdirSync(dir, { recursive: true });
  const rec = {
    Id: id, Name: 'mon', Created: '2026-01-01T00:00:00Z', Path: 'sleep', Args: ['1'], Image: 'sha256:x', ImageName: 'x',
    Config: { Labels: {}, Healthcheck: { Test: ['CMD', 'true'] } }, HostConfig: { NetworkMode: 'none' }, Mounts: [], Rootless: false, Layers: [],
  } as unknown as ContainerRecord;
  const write = (f: string, v: unknown): void => fs.writeFileSync(path.join(dir, f), typeof v === 'string' ? v : JSON.stringify(v));
  const dead = spawnSync('true').pid!; // a pid that has exited
  // a stand-in monitor: alive, and its command line names the container (as the shim's bundle path does)
  const monitor = spawn('sh', ['-c', 'sleep 60', id], { stdio: 'ignore' });
  const monitorPid = monitor.pid!;
  try {
    assert.equal(containerState(rec).Status, 'created');
    write('state.json', { StartedAt: new Date().toISOString(), BootId: currentBootId(), Detached: true });
    write('pid', String(process.pid)); // a live process that started before its pid file
    write('monitor.json', { monitorPid, restartCount: 2, restarting: false });
    write('health.json', { Status: 'healthy', FailingStreak: 0, Log: [] });
    let st = containerState(rec);
    assert.equal(st.Status, 'running');
    assert.equal(st.Pid, process.pid);
    assert.equal(st.Health?.Status, 'healthy');
    write('exit.json', { exitCode: 1, signal: null, finishedAt: '2026-01-01T00:00:05Z', error: '' });
    write('monitor.json', { monitorPid, restartCount: 3, restarting: true });
    st = containerState(rec);
    assert.deepEqual([st.Status, st.Restarting, st.Running, st.ExitCode], ['restarting', true, true, 1]);
    write('monitor.json', { monitorPid: dead, restartCount: 3, restarting: true });
    st = containerState(rec);
    assert.deepEqual([st.Status, st.Running, st.ExitCode], ['exited', false, 1], 'a dead monitor: the last recorded exit');
    fs.rmSync(path.join(dir, 'exit.json'));
    st = containerState(rec);
    assert.deepEqual([st.Status, st.ExitCode, st.Error], ['exited', -1, 'container monitor exited without recording an exit code']);
    // a pid file older than the process holding that pid: the pid was reused
    fs.rmSync(path.join(dir, 'monitor.json'));
    const old = new Date(Date.now() - 3600_000 * 24 * 365);
    fs.utimesSync(path.join(dir, 'pid'), old, old);
    assert.equal(containerState(rec).Running, false);
    // a live process that is not this container's monitor (its command line does not name it)
    fs.utimesSync(path.join(dir, 'pid'), new Date(), new Date());
    fs.rmSync(path.join(dir, 'exit.json'), { force: true });
    write('monitor.json', { monitorPid: process.pid, restartCount: 0, restarting: false });
    assert.equal(containerState(rec).Status, 'exited');
  } finally {
    monitor.kill('SIGKILL');
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("STATUS text like Docker's (addon/common/state.c): health, restarting, exited, created", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-unit-status-'));
  configure({ root, runroot: path.join(root, 'run') });
  const id = 'd'.repeat(64);
  const dir = path.join(root, 'containers', id);
  fs.mkdirSync(dir, { recursive: true });
  const rec = (test?: string[], autoRemove = false): ContainerRecord => ({
    Id: id, Name: 'st', Created: '2026-01-01T00:00:00Z', Path: 'sleep', Args: ['1'], Image: 'sha256:x', ImageName: 'x',
    Config: { Labels: {}, ...(test ? { Healthcheck: { Test: test } } : {}) }, HostConfig: { NetworkMode: 'none', AutoRemove: autoRemove },
    Mounts: [], Rootless: false, Layers: [],
  }) as unknown as ContainerRecord;
  const write = (f: string, v: unknown): void => fs.writeFileSync(path.join(dir, f), typeof v === 'string' ? v : JSON.stringify(v));
  const ago = (ms: number): string => new Date(Date.now() - ms).toISOString();
  const monitor = spawn('sh', ['-c', 'sleep 60', id], { stdio: 'ignore' });
  const text = (r = rec()): string => observeContainer(r).StatusText;
  try {
    assert.equal(text(), 'Created');
    // a foreground run (no monitor.json): the shim (ShimPid) and the init (pid) alive
    write('state.json', { StartedAt: ago(3 * 3600_000), BootId: currentBootId(), Detached: false, ShimPid: process.pid });
    write('pid', String(process.pid));
    assert.equal(text(), 'Up 3 hours');
    assert.equal(text(rec(['CMD', 'true'])), 'Up 3 hours', 'a foreground run has no monitor to probe: no health');
    write('state.json', { StartedAt: ago(3 * 3600_000), BootId: currentBootId(), Detached: true, ShimPid: process.pid });
    write('monitor.json', { monitorPid: monitor.pid, restartCount: 0, restarting: false });
    assert.equal(text(rec(['CMD', 'true'])), 'Up 3 hours (health: starting)');
    assert.equal(text(rec(['CMD'])), 'Up 3 hours', 'CMD without a command: no health check (as activeHealthcheck)');
    assert.equal(text(rec(['NONE'])), 'Up 3 hours');
    write('health.json', { Status: 'unhealthy', FailingStreak: 3, Log: [{ Start: ago(1), End: ago(0), ExitCode: 1, Output: 'a "quoted" \u2028 line\n' }] });
    assert.equal(text(rec(['CMD-SHELL', 'false'])), 'Up 3 hours (unhealthy)');
    assert.equal(observeContainer(rec(['CMD-SHELL', 'false'])).State.Health?.Log[0]?.Output, 'a "quoted" \u2028 line\n', 'health.json as written');
    write('exit.json', { exitCode: 1, signal: null, finishedAt: ago(2 * 86400_000), error: '' });
    write('monitor.json', { monitorPid: monitor.pid, restartCount: 4, restarting: true });
    assert.equal(text(), 'Restarting (1) 2 days ago');
    assert.equal(observeContainer(rec()).RestartCount, 4);
    fs.rmSync(path.join(dir, 'monitor.json'));
    assert.equal(text(), 'Exited (1) 2 days ago');
    // JSON's escapes (jansson and JSON.stringify write them), a surrogate pair and nested values, read back exactly
    write('exit.json', String.raw`{"exitCode":2,"signal":null,"x":[1,{"y":"]}"}],"finishedAt":"","error":"tab\there \u00e9 \ud83d\ude00 \"q\" \\ \/"}`);
    assert.deepEqual([containerState(rec()).Error, text()], ['tab\there \u00e9 \u{1f600} "q" \\ /', 'Exited (2)']);
    fs.rmSync(path.join(dir, 'exit.json'));
    fs.rmSync(path.join(dir, 'pid'));
    write('state.json', { StartedAt: ago(5000), BootId: currentBootId(), Detached: false, ShimPid: spawnSync('true').pid });
    assert.equal(text(), 'Exited (-1)', 'nobody recorded an exit and no pid file: no time');
    assert.equal(isAbandoned(rec(undefined, true)), true, 'a --rm container whose shim is gone');
    assert.equal(isAbandoned(rec(undefined, false)), false, 'only --rm containers are removed by whoever sees them');
    write('state.json', '{"StartedAt": broken');
    assert.throws(() => containerState(rec()), /cannot read .*state\.json: not a JSON object/);
  } finally {
    monitor.kill('SIGKILL');
    fs.rmSync(root, { recursive: true, force: true });
  }
});
