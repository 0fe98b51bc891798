/** Resource limit parsing (Docker's rules and words) and the cgroup files each limit becomes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { limitWrites, ociResources, parseResources, parseUlimit, rlimits } from '../../src/container/resources.js';

const noWarn = (l: string): never => assert.fail(`unexpected warning ${l}`);

test('ulimit: name=soft[:hard], hard defaults to soft, go-units words', () => {
  assert.deepEqual(parseUlimit('nofile=100:200'), { Name: 'nofile', Hard: 200, Soft: 100 });
  assert.deepEqual(parseUlimit('nproc=50'), { Name: 'nproc', Hard: 50, Soft: 50 });
  assert.deepEqual(parseUlimit('core=-1'), { Name: 'core', Hard: -1, Soft: -1 });
  assert.throws(() => parseUlimit('nofile'), /invalid ulimit argument: nofile$/);
  assert.throws(() => parseUlimit('bogus=1'), /invalid ulimit type: bogus$/);
  assert.throws(() => parseUlimit('nofile=1:2:3'), /too many limit value arguments - 1:2:3/);
  assert.throws(() => parseUlimit('nofile=20:10'), /ulimit soft limit must be less than or equal to hard limit: 20 > 10$/);
  assert.throws(() => parseUlimit('nofile=1.5'), /strconv.ParseInt: parsing "1.5": invalid syntax$/);
  assert.deepEqual(rlimits({ Ulimits: [parseUlimit('core=-1'), parseUlimit('nofile=1:2')] }), [
    { type: 'RLIMIT_CORE', hard: 2 ** 64 - 1, soft: 2 ** 64 - 1 },
    { type: 'RLIMIT_NOFILE', hard: 2, soft: 1 },
  ]);
});

test("memory, CPU, pids: Docker's defaults and refusals", () => {
  const r = parseResources({ memory: '512m', cpus: '1.5', pidsLimit: '-1', cpuShares: '512', oomScoreAdj: '0' }, noWarn, 2);
  assert.deepEqual(r, { Memory: 512 * 2 ** 20, MemorySwap: 1024 * 2 ** 20, NanoCpus: 1.5e9, PidsLimit: -1, CpuShares: 512 });
  assert.deepEqual(parseResources({ memory: '64m', memorySwap: '-1' }, noWarn, 2), { Memory: 64 * 2 ** 20, MemorySwap: -1 });
  assert.deepEqual(parseResources({ pidsLimit: '0', cpus: '0' }, noWarn, 2), {}, '0: unlimited / unset');
  assert.throws(() => parseResources({ memory: '64m', memoryReservation: '128m' }, noWarn), /can not be less than memory reservation/);
  assert.throws(() => parseResources({ cpus: '3' }, noWarn, 2), /^SkiffError: Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available$/);
  assert.throws(() => parseResources({ cpus: '1', cpuPeriod: '50000' }, noWarn, 2), /Nano CPUs and CPU Period cannot both be set/);
  assert.throws(() => parseResources({ cpuPeriod: '500' }, noWarn, 2), /CPU cfs period can not be less than 1ms/);
  assert.throws(() => parseResources({ cpusetCpus: '0-a' }, noWarn, 2), /Invalid value 0-a for cpuset cpus/);
  const warned: string[] = [];
  parseResources({ oomKillDisable: true, kernelMemory: '10m' }, (l) => warned.push(l), 2);
  assert.equal(warned.length, 2);
});

test('limit files: v1 groups first, v2 when its controller is there, refused in one line otherwise', () => {
  const r = { Memory: 100, MemorySwap: -1, MemoryReservation: 50, NanoCpus: 5e8, CpuShares: 1024, PidsLimit: 7, OomKillDisable: true };
  const v1 = limitWrites(r, { v1: new Map([['memory', '/m/skiff/x'], ['cpu', '/c/skiff/x'], ['pids', '/p/skiff/x']]) });
  assert.deepEqual(v1.writes.filter(([f]) => !f.includes('memsw')), [
    ['/m/skiff/x/memory.limit_in_bytes', '100'],
    ['/m/skiff/x/memory.soft_limit_in_bytes', '50'],
    ['/m/skiff/x/memory.oom_control', '1'],
    ['/c/skiff/x/cpu.shares', '1024'],
    ['/c/skiff/x/cpu.cfs_period_us', '100000'],
    ['/c/skiff/x/cpu.cfs_quota_us', '50000'],
    ['/p/skiff/x/pids.max', '7'],
  ]);
  // a v2 group whose parent offers no controller (a delegated group on a hybrid host): all refused
  const none = limitWrites(r, { v2: '/nonexistent/deleg/skiff-x', v1: new Map() });
  assert.deepEqual(none.writes, []);
  assert.deepEqual(none.refused.map((l) => /^the (.*) is not applied: the cgroup v2 (\w+) controller is not delegated/.exec(l)?.slice(1, 3)), [
    ['memory limit', 'memory'], ['CPU limit', 'cpu'], ['pids limit', 'pids'],
  ]);
  const nogroup = limitWrites({ PidsLimit: 3 }, { v1: new Map() }, { fresh: true, why: 'no cgroup v2' });
  assert.deepEqual(nogroup.refused, ['the pids limit is not applied: no cgroup v2']);
  assert.deepEqual(ociResources(r), {
    memory: { limit: 100, swap: -1, reservation: 50, disableOOMKiller: true }, cpu: { shares: 1024, quota: 50000, period: 100000 }, pids: { limit: 7 },
  });
});

test('device throttles: v1 blkio.throttle files, v2 io.max lines (one key each), refused without a group', (t) => {
  const name = fs.readdirSync('/sys/block').find((n) => {
    try {
      return fs.statSync(`/dev/${n}`).isBlockDevice();
    } catch {
      return false;
    }
  });
  if (!name) return t.skip('no block device');
  const dev = fs.readFileSync(`/sys/block/${name}/dev`, 'utf8').trim();
  const r = parseResources({ deviceReadBps: [`/dev/${name}:1k`], deviceWriteIops: [`/dev/${name}:9`] }, noWarn, 2);
  assert.deepEqual(r.BlkioDeviceReadBps, [{ Path: `/dev/${name}`, Rate: 1024 }]);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-io-'));
  try {
    fs.mkdirSync(path.join(root, 'blkio/skiff/x'), { recursive: true });
    for (const f of ['blkio.throttle.read_bps_device', 'blkio.throttle.write_iops_device']) fs.writeFileSync(path.join(root, 'blkio', f), '');
    const v1 = limitWrites(r, { v1: new Map([['blkio', path.join(root, 'blkio/skiff/x')]]) });
    assert.deepEqual(v1.writes.map(([f, v]) => [path.basename(f), v]), [['blkio.throttle.read_bps_device', `${dev} 1024`], ['blkio.throttle.write_iops_device', `${dev} 9`]]);
    fs.mkdirSync(path.join(root, 'v2'));
    fs.writeFileSync(path.join(root, 'v2/cgroup.subtree_control'), 'io pids\n');
    fs.writeFileSync(path.join(root, 'v2/cgroup.procs'), '');
    fs.writeFileSync(path.join(root, 'v2/cgroup.controllers'), 'io pids\n');
    const v2 = limitWrites(r, { v2: path.join(root, 'v2/skiff-x'), v1: new Map() });
    assert.deepEqual(v2.writes.map(([f, v]) => [path.basename(f), v]), [['io.max', `${dev} rbps=1024`], ['io.max', `${dev} wiops=9`]]);
    const none = limitWrites(r, { v1: new Map() }, { fresh: true, why: 'no cgroup v2' });
    assert.deepEqual(none.refused, ['the BPS Block I/O read limit is not applied: no cgroup v2', 'the IOPS Block I/O write limit is not applied: no cgroup v2']);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
