/**
 * Resource limits (issue 15) through the CLI binary on the real kernel: each limit read back from inside
 * the container (its /sys/fs/cgroup, ulimit, df /dev/shm, /proc/self/oom_score_adj), a pids limit that
 * makes fork fail, `inspect` HostConfig with Docker's names, `stats` showing the memory limit, `update`
 * of a running container (and of its later starts), and Docker's words for bad values.
 * Rootful: cgroup v1 controller groups (hybrid host) or v2. Rootless: only what cgroup v2 delegation
 * gives (here: no controller, the host's controllers are on v1): each cgroup limit is refused with one
 * WARNING line as Podman does, and the process limits (ulimit, shm, oom score) still apply.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isRootless, skiff, storeWithImage, until, type RunResult, type TempStore } from '../helpers/fixtures.js';

const rootless = isRootless();

function ok(r: RunResult, what = ''): string {
  assert.equal(r.code, 0, `${what} exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** A cgroup file of the container as it sees it: v1 (hybrid) first, else v2; "-" when neither exists. */
const CG = (v1: string, v2: string): string =>
  `cat /sys/fs/cgroup/${v1} 2>/dev/null || cat /sys/fs/cgroup/unified/${v2} 2>/dev/null || cat /sys/fs/cgroup/${v2} 2>/dev/null || echo -`;

const READ_LIMITS = [
  CG('memory/memory.limit_in_bytes', 'memory.max'),
  CG('memory/memory.soft_limit_in_bytes', 'memory.low'),
  CG('cpu/cpu.cfs_quota_us', 'cpu.max'),
  CG('cpu/cpu.shares', 'cpu.weight'),
  CG('pids/pids.max', 'pids.max'),
  CG('cpuset/cpuset.cpus', 'cpuset.cpus'),
  'cat /proc/self/oom_score_adj',
  'ulimit -n',
  'ulimit -Hn',
  "df -k /dev/shm | awk 'NR==2 {print $2}'",
].join('; ');

interface Inspect {
  HostConfig: Record<string, unknown>;
}

describe('resource limits', () => {
  let store: TempStore;
  let image: string;
  const run = (...args: string[]): Promise<RunResult> => skiff(['run', '--rm', ...args], { store });
  const inspect = async (ref: string): Promise<Inspect> => (JSON.parse(ok(await skiff(['inspect', ref], { store }), 'inspect')) as Inspect[])[0]!;
  const exec = async (id: string, script: string): Promise<string[]> => ok(await skiff(['exec', id, 'sh', '-c', script], { store }), 'exec').trim().split('\n');

  before(async () => {
    ({ store, image } = await storeWithImage());
  });
  after(async () => {
    const all = ok(await skiff(['ps', '-aq'], { store })).split('\n').filter(Boolean);
    if (all.length) await skiff(['rm', '-f', ...all], { store });
    await store.cleanup();
  });

  test('every limit read back inside the container (cgroup files, ulimit, /dev/shm, oom score)', async () => {
    const r = await run(
      '-m', '64m', '--memory-reservation', '32m', '--cpus', '0.5', '--cpu-shares', '512', '--pids-limit', '20', '--cpuset-cpus', '0',
      '--ulimit', 'nofile=100:200', '--shm-size', '8m', '--oom-score-adj', '300', image, 'sh', '-c', READ_LIMITS,
    );
    const out = ok(r, 'run with limits').trim().split('\n');
    const [mem, low, quota, shares, pids, cpus, oom, soft, hard, shm] = out;
    // the process's limits apply rootful and rootless
    assert.deepEqual([oom, soft, hard, shm], ['300', '100', '200', '8192']);
    if (rootless) {
      // nothing of the cgroup limits is there (no controller delegated): each refused in one line
      for (const what of ['memory', 'CPU', 'cpuset', 'pids']) assert.match(r.stderr, new RegExp(`^WARNING: .*${what}.*`, 'm'), r.stderr);
      assert.ok(r.stderr.split('\n').every((l) => l === '' || l.startsWith('WARNING: ')), r.stderr);
      return;
    }
    assert.equal(r.stderr, '');
    assert.ok(mem === '67108864', `memory limit: ${mem}`);
    assert.ok(low === '33554432', `memory reservation: ${low}`);
    assert.ok(quota === '50000' || quota === '50000 100000', `cpu quota: ${quota}`);
    assert.ok(shares === '512' || shares === String(1 + Math.floor(((512 - 2) * 9999) / 262142)), `cpu shares: ${shares}`);
    assert.equal(pids, '20');
    assert.equal(cpus, '0');
  });

  test('--oom-kill-disable and --blkio-weight: applied where the kernel has them, else one WARNING line (Docker words)', async () => {
    const r = await run('-m', '64m', '--oom-kill-disable', '--blkio-weight', '300', image, 'sh', '-c',
      'cat /sys/fs/cgroup/memory/memory.oom_control 2>/dev/null | grep oom_kill_disable; cat /sys/fs/cgroup/blkio/blkio.weight /sys/fs/cgroup/blkio/blkio.bfq.weight 2>/dev/null; true');
    const out = ok(r, 'run');
    if (/oom_kill_disable/.test(out)) assert.match(out, /^oom_kill_disable 1$/m);
    else if (rootless) assert.match(r.stderr, /^WARNING: the memory limit is not applied: /m);
    else assert.match(r.stderr, /^WARNING: Your kernel does not support OomKillDisable\. OomKillDisable discarded\.$/m);
    if (!/^300$/m.test(out)) {
      assert.match(r.stderr, rootless ? /^WARNING: .*(Block I\/O weight|not applied)/m : /^WARNING: Your kernel does not support Block I\/O weight or the cgroup is not mounted\. Weight discarded\.$/m);
    }
  });

  test('a pids limit bites: fork fails past it', { skip: rootless && 'rootless: no pids controller is delegated here' }, async () => {
    const r = await run('--pids-limit', '5', image, 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do sleep 30 & done; echo spawned; kill $(jobs -p) 2>/dev/null; exit 0');
    assert.match(r.stderr, /can't fork/);
    // and without the limit the same script forks all of them
    const free = await run(image, 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do sleep 30 & done; echo spawned; kill $(jobs -p); exit 0');
    assert.doesNotMatch(free.stderr, /can't fork/);
    assert.match(free.stdout, /spawned/);
  });

  test('inspect HostConfig (Docker names and units), stats shows the memory limit, update changes a running container', async () => {
    const id = ok(await skiff(['run', '-d', '-m', '64m', '--cpus', '1.5', '--pids-limit', '50', '--ulimit', 'nofile=100:200', '--shm-size', '16m',
      '--oom-score-adj', '10', image, 'sleep', '300'], { store }), 'run -d').trim();
    const hc = (await inspect(id)).HostConfig;
    assert.deepEqual(
      [hc.Memory, hc.MemorySwap, hc.NanoCpus, hc.PidsLimit, hc.Ulimits, hc.ShmSize, hc.OomScoreAdj, hc.CpuShares],
      [67108864, 134217728, 1500000000, 50, [{ Name: 'nofile', Hard: 200, Soft: 100 }], 16777216, 10, 0],
    );
    const upd = await skiff(['update', '-m', '128m', '--memory-swap', '-1', '--pids-limit', '30', '--cpus', '0.5', id], { store });
    if (rootless) {
      assert.equal(upd.code, 1, upd.stderr);
      assert.match(upd.stderr, /^Error: Cannot update container [0-9a-f]{64}: .*not applied.*\n$/);
      assert.equal((await inspect(id)).HostConfig.Memory, 67108864, 'nothing changed');
      ok(await skiff(['rm', '-f', id], { store }));
      return;
    }
    const mib = ok(await skiff(['stats', '--no-stream', '--format', '{{.MemUsage}}', id], { store }));
    assert.match(mib, / \/ 128MiB$/m);
    assert.equal(ok(upd, 'update'), `${id}\n`);
    const read = `${CG('memory/memory.limit_in_bytes', 'memory.max')}; ${CG('pids/pids.max', 'pids.max')}; ${CG('cpu/cpu.cfs_quota_us', 'cpu.max')}`;
    const check = (got: string[]): void => {
      assert.equal(got[0], '134217728');
      assert.equal(got[1], '30');
      assert.match(got[2]!, /^50000( 100000)?$/);
    };
    check(await exec(id, read));
    const after1 = (await inspect(id)).HostConfig;
    assert.deepEqual([after1.Memory, after1.MemorySwap, after1.PidsLimit, after1.NanoCpus], [134217728, -1, 30, 500000000]);
    // the next start gets the updated limits too
    ok(await skiff(['restart', '-t', '0', id], { store }), 'restart');
    check(await exec(id, read));
    // Docker's rule: a memory limit above the swap limit the container has is refused, nothing changes
    ok(await skiff(['container', 'update', '--memory-swap', '200m', id], { store }), 'container update swap');
    const bad = await skiff(['update', '-m', '300m', id], { store });
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'Error: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time\n');
    assert.equal((await exec(id, read))[0], '134217728');
    ok(await skiff(['rm', '-f', id], { store }));
  });

  test('update --restart: a running container gets the new policy at its next exit', async () => {
    // it exits 3 once /tmp/go exists (made by exec below; it stays in the container's upper layer, so every restart exits at once)
    const id = ok(await skiff(['run', '-d', image, 'sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 3'], { store }), 'run -d').trim();
    assert.equal(ok(await skiff(['update', '--restart', 'on-failure:2', id], { store }), 'update --restart'), `${id}\n`);
    assert.deepEqual((await inspect(id)).HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
    ok(await skiff(['exec', id, 'touch', '/tmp/go'], { store }), 'exec touch');
    const done = await until('the restarts to end', async () => {
      const i = JSON.parse(ok(await skiff(['inspect', id], { store }))) as { State: { Status: string; ExitCode: number }; RestartCount: number }[];
      return i[0]!.State.Status === 'exited' ? i[0]! : undefined;
    });
    assert.deepEqual([done.RestartCount, done.State.ExitCode], [2, 3]);
    const rm = ok(await skiff(['run', '-d', '--rm', image, 'sleep', '60'], { store })).trim();
    const bad = await skiff(['update', '--restart', 'always', rm], { store });
    assert.equal(bad.stderr, 'Error: Restart policy cannot be updated because AutoRemove is enabled for the container\n');
    ok(await skiff(['rm', '-f', id, rm], { store }));
  });

  test("bad values: Docker's words, exit 125, nothing created", async () => {
    const before = ok(await skiff(['ps', '-aq'], { store }));
    const cases: [string[], RegExp][] = [
      [['-m', '12q'], /^Error: invalid argument "12q" for "-m, --memory" flag: invalid suffix: 'q'$/],
      [['-m', '1k'], /^Error: Minimum memory limit allowed is 6MB$/],
      [['--memory-swap', '100m'], /^Error: You should always set the Memory limit when using Memoryswap limit, see usage$/],
      [['-m', '100m', '--memory-swap', '50m'], /^Error: Minimum memoryswap limit should be larger than memory limit, see usage$/],
      [['--cpus', '-1'], /^Error: Range of CPUs is from 0\.01 to \d+\.00, as there are only \d+ CPUs available$/],
      [['--cpus', 'x'], /^Error: invalid argument "x" for "--cpus" flag: failed to parse x as a rational number$/],
      [['--cpus', '1', '--cpu-quota', '50000'], /^Error: Conflicting options: Nano CPUs and CPU Quota cannot both be set$/],
      [['--ulimit', 'nofile=x'], /^Error: invalid argument "nofile=x" for "--ulimit" flag: strconv\.ParseInt: parsing "x": invalid syntax$/],
      [['--ulimit', 'foo=1'], /^Error: invalid argument "foo=1" for "--ulimit" flag: invalid ulimit type: foo$/],
      [['--ulimit', 'nofile=10:5'], /ulimit soft limit must be less than or equal to hard limit: 10 > 5$/],
      [['--ulimit', 'nofile=1:1000000000'], /^Error: --ulimit nofile=1:1000000000: the hard limit is above this user's hard limit for nofile \(\d+\)/],
      [['--oom-score-adj', '1001'], /^Error: Invalid value 1001, range for oom score adj is \[-1000, 1000\]$/],
      [['--blkio-weight', '5'], /^Error: Range of blkio weight is from 10 to 1000$/],
      [['--shm-size', '-1'], /^Error: invalid argument "-1" for "--shm-size" flag: invalid size: '-1'$/],
    ];
    for (const [args, re] of cases) {
      const r = await skiff(['run', '--rm', ...args, image, 'true'], { store });
      assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr.trimEnd(), re, args.join(' '));
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    }
    assert.equal(ok(await skiff(['ps', '-aq'], { store })), before, 'nothing was created');
  });
});
