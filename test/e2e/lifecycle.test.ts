/**
 * The lifecycle of detached containers through the CLI binary on the real kernel: pause/unpause
 * (freezer cgroups), stats, top, wait, stop/kill/restart/rm with Docker's messages, rename,
 * container prune, ps filters and STATUS, inspect's shape, crash safety (dead monitor, reboot) and
 * 20 concurrent `run -d` with `ps` and `rm -f` loops.
 * Rootless (SKIFF_TEST_ROOTLESS=1): scripts/test.sh runs the suite in a cgroup v2 group delegated
 * to the user (SKIFF_TEST_CGROUP) with a non-delegated one inside (SKIFF_TEST_CGROUP_NODELEG).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  isRootless, processes, skiff, SKIFF_BIN, until, type RunResult, type TempStore, storeWithImage,
} from '../helpers/fixtures.js';
import { leftSince, storeProcesses, storeSnapshot } from '../helpers/leftovers.js';

const rootless = isRootless();
const delegated = process.env.SKIFF_TEST_CGROUP ?? '';
const nodeleg = process.env.SKIFF_TEST_CGROUP_NODELEG ?? '';
/** whether containers started by this test process get a cgroup of their own */
const ownCgroups = !rootless || delegated !== '';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function ok(r: RunResult, what = ''): string {
  assert.equal(r.code, 0, `${what} exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}


interface Inspect {
  Id: string;
  Name: string;
  RestartCount: number;
  LogPath: string;
  State: { Status: string; Running: boolean; Paused: boolean; Pid: number; ExitCode: number; Error: string; StartedAt: string; FinishedAt: string; Health?: unknown };
  Config: { StopSignal?: string; StopTimeout?: number; Labels: Record<string, string> };
  HostConfig: { RestartPolicy: { Name: string; MaximumRetryCount: number }; LogConfig: { Type: string } };
}

describe('lifecycle', () => {
  let store: TempStore;
  let image: string;
  const inspect = async (ref: string): Promise<Inspect> => (JSON.parse(ok(await skiff(['inspect', ref], { store }), 'inspect')) as Inspect[])[0]!;
  const runD = async (...args: string[]): Promise<string> => ok(await skiff(['run', '-d', ...args], { store }), `run -d ${args.join(' ')}`).trim();
  const ctrDir = (id: string): string => path.join(store.root, 'containers', id);
  /** remove every container (tests that list all of them start clean) */
  const clean = async (): Promise<void> => {
    const all = ok(await skiff(['ps', '-aq'], { store })).split('\n').filter(Boolean);
    if (all.length) ok(await skiff(['rm', '-f', ...all], { store }), 'rm -f all');
  };

  before(async () => {
    ({ store, image } = await storeWithImage());
  });
  after(async () => {
    await clean();
    await store.cleanup();
  });

  test('pause freezes every process of the container, unpause thaws it; Docker errors otherwise', { skip: !ownCgroups && 'rootless without a delegated cgroup (see the next test)' }, async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-pause-'));
    fs.chmodSync(out, 0o777);
    const id = await runD('--name', 'freezer', '-v', `${out}:/out`, image, 'sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i > /out/n; sleep 0.05; done');
    const counter = (): string => fs.readFileSync(path.join(out, 'n'), 'utf8');
    await until('the counter', () => fs.existsSync(path.join(out, 'n')) && counter().trim() !== '');
    assert.equal(ok(await skiff(['pause', 'freezer'], { store })), 'freezer\n');
    const ps = ok(await skiff(['ps', '--format', '{{.Names}}|{{.Status}}|{{.State}}'], { store }));
    assert.match(ps, /^freezer\|Up .* \(Paused\)\|paused$/m);
    const st = (await inspect('freezer')).State;
    assert.equal(st.Status, 'paused');
    assert.equal(st.Paused, true);
    assert.equal(st.Running, true);
    const frozenAt = counter();
    await sleep(400);
    assert.equal(counter(), frozenAt, 'the loop ran while paused');
    const again = await skiff(['pause', 'freezer'], { store });
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `Error: container ${id} is already paused\n`);
    const ex = await skiff(['exec', 'freezer', 'true'], { store });
    assert.equal(ex.code, 1);
    assert.match(ex.stderr, /is paused, unpause the container before exec/);
    assert.equal(ok(await skiff(['unpause', 'freezer'], { store })), 'freezer\n');
    await until('the loop to run again', () => counter() !== frozenAt);
    assert.equal((await inspect('freezer')).State.Status, 'running');
    const un = await skiff(['unpause', 'freezer'], { store });
    assert.equal(un.code, 1);
    assert.equal(un.stderr, `Error: container ${id} is not paused\n`);
    // stop of a paused container: thawed so the signal lands
    ok(await skiff(['pause', 'freezer'], { store }));
    assert.equal(ok(await skiff(['stop', '-t', '1', 'freezer'], { store })), 'freezer\n');
    assert.equal((await inspect('freezer')).State.Status, 'exited');
    const stopped = await skiff(['pause', 'freezer'], { store });
    assert.equal(stopped.code, 1);
    assert.equal(stopped.stderr, `Error: container ${id} is not running\n`);
    // the shim removed the container's cgroups when it exited
    if (!rootless) {
      for (const ctrl of ['freezer', 'memory', 'pids', 'unified']) {
        if (fs.existsSync(`/sys/fs/cgroup/${ctrl}/skiff`)) assert.ok(!fs.existsSync(`/sys/fs/cgroup/${ctrl}/skiff/${id}`), `${ctrl} cgroup left`);
      }
    } else {
      assert.ok(!fs.existsSync(path.join(delegated, `skiff-${id}`)), 'cgroup left'); // the delegated group is shared by the whole run
    }
    fs.rmSync(out, { recursive: true, force: true });
  });

  test('the container is in its own cgroups, and its cgroup namespace is rooted there', { skip: !ownCgroups && 'rootless without a delegated cgroup' }, async () => {
    const id = await runD('--name', 'cgself', image, 'sleep', '60');
    const pid = (await inspect(id)).State.Pid;
    const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
    const own = lines.filter((l) => l.endsWith(rootless ? `/skiff-${id}` : `/skiff/${id}`));
    assert.ok(own.some((l) => l.startsWith('0::')), `no v2 cgroup of its own: ${lines.join(' ')}`);
    if (!rootless) assert.ok(own.some((l) => /:freezer:/.test(l)) && own.some((l) => /:memory:/.test(l)), lines.join(' '));
    const inside = ok(await skiff(['exec', 'cgself', 'cat', '/proc/self/cgroup'], { store }));
    assert.match(inside, /^0::\/$/m, 'the cgroup namespace root is the container cgroup');
    // an exec'd process joins the container's cgroups
    const execProc = spawn(SKIFF_BIN, ['exec', 'cgself', 'sleep', '30'], { env: { ...process.env, ...store.env }, stdio: 'ignore' });
    const v2dir = rootless ? path.join(delegated, `skiff-${id}`) : `/sys/fs/cgroup/unified/skiff/${id}`;
    await until('the exec in the cgroup', () => fs.readFileSync(path.join(v2dir, 'cgroup.procs'), 'utf8').trim().split('\n').length >= 2);
    execProc.kill('SIGKILL');
    ok(await skiff(['rm', '-f', 'cgself'], { store }));
    assert.ok(!fs.existsSync(v2dir), 'cgroup left after rm -f');
  });

  test('every start gets its cgroups (monitor restarts, foreground runs), each exit removes them', { skip: !ownCgroups && 'rootless without a delegated cgroup' }, async () => {
    const v2dir = (id: string): string => (rootless ? path.join(delegated, `skiff-${id}`) : `/sys/fs/cgroup/unified/skiff/${id}`);
    // fails twice (restarted by the monitor), then stays up; each start prints its cgroup namespace's view
    const script = 'grep ^0:: /proc/self/cgroup; n=$(cat /n 2>/dev/null || echo 0); echo $((n + 1)) > /n; [ "$n" -ge 2 ] && exec sleep 60; exit 3';
    const id = await runD('--name', 'cgrestart', '--restart', 'on-failure:2', image, 'sh', '-c', script);
    const up = await until('the third start to run', async () => {
      const j = await inspect(id);
      return j.RestartCount === 2 && j.State.Status === 'running' && j.State.Pid > 0 ? j : undefined;
    });
    const lines = fs.readFileSync(`/proc/${up.State.Pid}/cgroup`, 'utf8').trim().split('\n');
    assert.ok(lines.some((l) => l.startsWith('0::') && l.endsWith(rootless ? `/skiff-${id}` : `/skiff/${id}`)), lines.join(' '));
    await until('three starts logged', async () => ok(await skiff(['logs', id], { store })).split('\n').filter((l) => l === '0::/').length === 3);
    ok(await skiff(['stop', '-t', '1', 'cgrestart'], { store }));
    assert.ok(!fs.existsSync(v2dir(id)), 'cgroup left after the monitor recorded the exit');
    // a foreground run: the same placement, removed before it returns
    const fg = await skiff(['run', '--name', 'cgfg', image, 'grep', '^0::', '/proc/self/cgroup'], { store });
    assert.equal(fg.stdout, '0::/\n', fg.stderr);
    assert.ok(!fs.existsSync(v2dir((await inspect('cgfg')).Id)), 'cgroup left after a foreground run');
    ok(await skiff(['rm', 'cgrestart', 'cgfg'], { store }));
  });

  test('rootless without a delegated cgroup: no cgroup of its own, pause fails with the reason', { skip: !nodeleg && 'needs SKIFF_TEST_CGROUP_NODELEG (scripts/test.sh, rootless pass)' }, async () => {
    // a shell moved into the non-delegated group starts the container
    const r = await new Promise<RunResult>((resolve) => {
      const child = spawn('sh', ['-c', `echo $$ > ${nodeleg}/cgroup.procs && exec "$0" "$@"`, SKIFF_BIN, 'run', '-d', '--name', 'nocg', image, 'sleep', '60'], {
        env: { ...process.env, ...store.env }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
    const id = ok(r, 'run -d in the non-delegated cgroup').trim();
    const p = await skiff(['pause', 'nocg'], { store });
    assert.equal(p.code, 1);
    assert.equal(p.stderr.split('\n').length, 2, p.stderr);
    assert.match(p.stderr, new RegExp(`^Error: cannot pause: container ${id} has no cgroup of its own: rootless containers get one only when the user's cgroup v2 group is delegated`));
    // stats still work, from /proc of its processes
    const s = ok(await skiff(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}} {{.MemUsage}}', 'nocg'], { store }));
    assert.match(s, /^nocg 1 (?!0B)\S+ \/ \S+$/m);
    ok(await skiff(['rm', '-f', 'nocg'], { store }));
  });

  test('stop: STOPSIGNAL from --stop-signal, -t / --stop-timeout, the stopped marker; a stopped one stops silently', async () => {
    const id = await runD('--name', 'trapper', '--stop-signal', 'USR1', image, 'sh', '-c', 'trap "exit 7" USR1; while :; do sleep 0.1; done');
    assert.equal((await inspect(id)).Config.StopSignal, 'USR1');
    assert.equal(ok(await skiff(['stop', 'trapper'], { store })), 'trapper\n');
    let st = (await inspect(id)).State;
    assert.equal(st.Status, 'exited');
    assert.equal(st.ExitCode, 7);
    assert.ok(fs.existsSync(path.join(ctrDir(id), 'stopped')), 'stop leaves the stopped marker for the monitor');
    assert.equal(ok(await skiff(['stop', 'trapper'], { store })), 'trapper\n', 'stopping a stopped container succeeds');
    // start removes the marker; pid 1 without a TERM handler ignores SIGTERM: killed after --stop-timeout
    ok(await skiff(['start', 'trapper'], { store }));
    assert.ok(!fs.existsSync(path.join(ctrDir(id), 'stopped')), 'start removes the stopped marker');
    ok(await skiff(['stop', 'trapper'], { store }));
    const idle = await runD('--name', 'idle', '--stop-timeout', '1', image, 'sleep', '60');
    assert.equal((await inspect(idle)).Config.StopTimeout, 1);
    ok(await skiff(['stop', 'idle'], { store }));
    st = (await inspect(idle)).State;
    assert.equal(st.ExitCode, 137);
    // batch: every item reported, one error line for the unknown one, exit 1
    const b = await skiff(['stop', '-t', '0', 'idle', 'nosuch', 'trapper'], { store });
    assert.equal(b.code, 1);
    assert.equal(b.stdout, 'idle\ntrapper\n');
    assert.equal(b.stderr, 'Error: No such container: nosuch\n');
    const bad = await skiff(['run', '-d', '--stop-signal', 'NOPE', image, 'true'], { store });
    assert.equal(bad.code, 125);
    assert.equal(bad.stderr, 'Error: invalid signal: NOPE\n');
  });

  test('kill -s sends the signal; killing a stopped container and unknown ones fail like Docker', async () => {
    const id = await runD('--name', 'killme', image, 'sh', '-c', 'trap "exit 3" HUP; while :; do sleep 0.1; done');
    assert.equal(ok(await skiff(['kill', '-s', 'HUP', 'killme'], { store })), 'killme\n');
    assert.equal(ok(await skiff(['wait', 'killme'], { store })), '3\n');
    assert.ok(fs.existsSync(path.join(ctrDir(id), 'stopped')));
    const again = await skiff(['kill', 'killme'], { store });
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `Error: cannot kill container: killme: container ${id} is not running\n`);
    const unknown = await skiff(['kill', 'nosuch'], { store });
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'Error: No such container: nosuch\n');
    const sig = await skiff(['kill', '-s', 'BOGUS', 'killme'], { store });
    assert.equal(sig.code, 125);
    assert.equal(sig.stderr, 'Error: invalid signal: BOGUS\n');
  });

  test('rm: a running container needs -f; rm -f kills it and leaves no process', async () => {
    const id = await runD('--name', 'busy', image, 'sleep', '60');
    const r = await skiff(['rm', 'busy'], { store });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error: cannot remove container "/busy": container is running: stop the container before removing or force remove\n');
    const pid = (await inspect(id)).State.Pid;
    const f = await skiff(['rm', '-f', 'busy', 'nosuch'], { store });
    assert.equal(f.code, 1);
    assert.equal(f.stdout, 'busy\n');
    assert.equal(f.stderr, 'Error: No such container: nosuch\n');
    assert.ok(!fs.existsSync(`/proc/${pid}`), 'the init survived rm -f');
    assert.ok(!fs.existsSync(ctrDir(id)));
    assert.deepEqual(storeProcesses(store), []);
  });

  test('wait blocks until exit and prints each exit code; restart; rename', async () => {
    await runD('--name', 'quick', image, 'sh', '-c', 'sleep 0.5; exit 3');
    await runD('--name', 'quick2', image, 'sh', '-c', 'exit 4');
    assert.equal(ok(await skiff(['wait', 'quick', 'quick2'], { store })), '3\n4\n');
    const w = await skiff(['wait', 'nosuch'], { store });
    assert.equal(w.code, 1);
    assert.equal(w.stderr, 'Error: No such container: nosuch\n');

    const id = await runD('--name', 'again', image, 'sleep', '60');
    const first = (await inspect(id)).State;
    assert.equal(ok(await skiff(['restart', '-t', '0', 'again'], { store })), 'again\n');
    const second = (await inspect(id)).State;
    assert.equal(second.Status, 'running');
    assert.notEqual(second.Pid, first.Pid);
    assert.ok(second.StartedAt > first.StartedAt);
    assert.equal(ok(await skiff(['restart', 'quick'], { store })), 'quick\n', 'restart starts an exited container');
    assert.equal(ok(await skiff(['wait', 'quick'], { store })), '3\n');

    ok(await skiff(['rename', 'again', 'renamed'], { store }));
    assert.equal((await inspect(id)).Name, '/renamed');
    assert.match(ok(await skiff(['ps', '--format', '{{.Names}}'], { store })), /^renamed$/m);
    const gone = await skiff(['inspect', 'again'], { store });
    assert.equal(gone.code, 1);
    ok(await skiff(['create', '--name', 'again', image, 'true'], { store }), 'the old name is free again');
    const clash = await skiff(['rename', 'renamed', 'again'], { store });
    assert.equal(clash.code, 125);
    assert.match(clash.stderr, /^Error: Error when allocating new name: the container name "\/again" is already in use by container "[0-9a-f]{64}"/);
    const same = await skiff(['rename', 'renamed', 'renamed'], { store });
    assert.equal(same.stderr, 'Error: Renaming a container with the same name as its current name\n');
    const bad = await skiff(['rename', 'renamed', 'bad/name'], { store });
    assert.match(bad.stderr, /^Error: Invalid container name \(bad\/name\)/);
    ok(await skiff(['rm', '-f', 'renamed', 'again', 'quick', 'quick2'], { store }));
  });

  test('top lists the processes of the container pid namespace, with ps options', async () => {
    const id = await runD('--name', 'tops', image, 'sh', '-c', 'sleep 101 & sleep 102 & wait');
    await until('both sleeps', async () => (await skiff(['top', 'tops'], { store })).stdout.includes('sleep 102') || undefined);
    const out = ok(await skiff(['top', 'tops'], { store })).split('\n').filter(Boolean);
    assert.deepEqual(out[0]!.trim().split(/\s+/), ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    const cmds = out.slice(1).map((l) => l.trim().split(/\s{2,}/).pop());
    assert.deepEqual(cmds.sort(), ['sh -c sleep 101 & sleep 102 & wait', 'sleep 101', 'sleep 102']);
    const pid = (await inspect(id)).State.Pid;
    const custom = ok(await skiff(['top', 'tops', '-o', 'pid,comm'], { store })).split('\n').filter(Boolean);
    assert.deepEqual(custom[0]!.trim().split(/\s+/), ['PID', 'COMMAND']);
    assert.equal(custom.length, 4);
    assert.ok(custom.some((l) => l.trim().split(/\s+/)[0] === String(pid) && l.trim().endsWith('sh')));
    const stopped = await skiff(['top', 'nosuch'], { store });
    assert.equal(stopped.stderr, 'Error: No such container: nosuch\n');
    ok(await skiff(['rm', '-f', 'tops'], { store }));
  });

  test('stats --no-stream: Docker columns, counters from the cgroups (or /proc), --format, -a', async () => {
    await runD('--name', 'stat1', '--network', 'none', image, 'sh', '-c', 'sleep 100 & sleep 100 & wait');
    await until('three processes', async () => (await skiff(['stats', '--no-stream', '--format', '{{.PIDs}}', 'stat1'], { store })).stdout === '3\n' || undefined);
    const table = ok(await skiff(['stats', '--no-stream'], { store })).split('\n');
    assert.deepEqual(table[0]!.split(/\s{2,}/), ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS']);
    const row = table.find((l) => l.includes('stat1'))!.split(/\s{2,}/);
    assert.match(row[0]!, /^[0-9a-f]{12}$/);
    assert.match(row[2]!, /^\d+\.\d\d%$/);
    assert.match(row[3]!, /^\d+(\.\d+)?(B|KiB|MiB) \/ \d+(\.\d+)?(MiB|GiB|TiB)$/);
    assert.doesNotMatch(row[3]!, /^0B/, 'memory usage of three processes is not zero');
    assert.equal(row[5], '0B / 0B', 'loopback only: no network traffic counted');
    assert.equal(row[7], '3');
    ok(await skiff(['create', '--name', 'stat2', image, 'true'], { store }));
    const all = ok(await skiff(['stats', '--no-stream', '-a', '--format', '{{.Name}}: {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}'], { store }));
    assert.match(all, /^stat2: 0\.00% 0B \/ 0B 0$/m);
    assert.match(all, /^stat1: /m);
    const running = ok(await skiff(['stats', '--no-stream', '--format', '{{.Name}}'], { store }));
    assert.doesNotMatch(running, /stat2/);
    // without --no-stream it keeps sampling (every second) until interrupted
    const streamed = await new Promise<string>((resolve, reject) => {
      const c = spawn(SKIFF_BIN, ['stats', '--format', '{{.Name}} {{.PIDs}}', 'stat1'], { env: { ...process.env, ...store.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout.on('data', (d: Buffer) => {
        out += d;
        if (out.split('\n').length > 3) c.kill('SIGINT');
      });
      c.on('error', reject);
      c.on('close', () => resolve(out));
    });
    assert.deepEqual(streamed.split('\n').slice(0, 3), ['stat1 3', 'stat1 3', 'stat1 3']);
    const unknown = await skiff(['stats', '--no-stream', 'nosuch'], { store });
    assert.equal(unknown.code, 1);
    ok(await skiff(['rm', '-f', 'stat1', 'stat2'], { store }));
  });

  test('ps: filters, -n/-l, -q, --no-trunc, STATUS text; container prune with filters', async () => {
    await clean();
    const a = ok(await skiff(['create', '--name', 'psa', '--label', 'tier=db', image, 'true'], { store })).trim();
    const b = await runD('--name', 'psb', '--label', 'tier=web', image, 'sleep', '60');
    assert.equal((await skiff(['run', '--name', 'psc', image, 'sh', '-c', 'exit 2'], { store })).code, 2);
    const names = async (...args: string[]): Promise<string[]> => ok(await skiff(['ps', ...args, '--format', '{{.Names}}'], { store })).split('\n').filter(Boolean);
    assert.deepEqual(await names(), ['psb']);
    assert.deepEqual(await names('-a'), ['psc', 'psb', 'psa']);
    assert.deepEqual(await names('--filter', 'status=exited'), ['psc'], 'a status filter includes stopped containers');
    assert.deepEqual(await names('--filter', 'status=exited', '--filter', 'status=created'), ['psc', 'psa']);
    assert.deepEqual(await names('-a', '--filter', 'exited=2'), ['psc']);
    assert.deepEqual(await names('-a', '--filter', 'label=tier'), ['psb', 'psa']);
    assert.deepEqual(await names('-a', '--filter', 'label=tier=db'), ['psa']);
    assert.deepEqual(await names('-a', '--filter', 'name=ps[ab]'), ['psb', 'psa']);
    assert.deepEqual(await names('-a', '--filter', `id=${b.slice(0, 8)}`), ['psb']);
    assert.deepEqual(await names('-a', '--filter', `ancestor=${image}`), ['psc', 'psb', 'psa']);
    assert.deepEqual(await names('-a', '--filter', 'before=psc'), ['psb', 'psa']);
    assert.deepEqual(await names('-a', '--filter', 'since=psa'), ['psc', 'psb']);
    assert.deepEqual(await names('-a', '--filter', 'health=none'), ['psc', 'psb', 'psa']);
    assert.deepEqual(await names('-n', '2'), ['psc', 'psb']);
    assert.deepEqual(await names('-l'), ['psc']);
    assert.equal(ok(await skiff(['ps', '-q'], { store })), `${b.slice(0, 12)}\n`);
    assert.equal(ok(await skiff(['ps', '-q', '--no-trunc'], { store })), `${b}\n`);
    const status = ok(await skiff(['ps', '-a', '--format', '{{.Names}}|{{.Status}}'], { store }));
    assert.match(status, /^psa\|Created$/m);
    // the wording of durations is statusText's unit test; here only the states (a slow machine may pass a minute)
    assert.match(status, /^psb\|Up \S.*$/m);
    assert.match(status, /^psc\|Exited \(2\) .+ ago$/m);
    for (const [f, msg] of [['status=sleepy', "invalid filter 'status=sleepy'"], ['color=red', "invalid filter 'color'"], ['health=meh', 'Unrecognised filter value for health: meh']]) {
      const r = await skiff(['ps', '--filter', f!], { store });
      assert.equal(r.code, 125);
      assert.equal(r.stderr, `Error: ${msg}\n`);
    }
    const table = ok(await skiff(['ps', '-a'], { store })).split('\n')[0]!;
    assert.deepEqual(table.split(/\s{2,}/), ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES']);

    const pr = ok(await skiff(['container', 'prune', '-f', '--filter', 'label=tier=db'], { store }));
    assert.equal(pr, `Deleted Containers:\n${a}\n\nTotal reclaimed space: 0B\n`);
    const pr2 = ok(await skiff(['container', 'prune', '-f'], { store }));
    assert.match(pr2, /^Deleted Containers:\n[0-9a-f]{64}\n\nTotal reclaimed space: \d+(\.\d+)?k?B\n$/);
    assert.deepEqual(await names('-a'), ['psb'], 'prune keeps running containers');
    assert.equal(ok(await skiff(['container', 'prune', '-f', '--filter', 'until=1h'], { store })), 'Total reclaimed space: 0B\n');
    ok(await skiff(['rm', '-f', 'psb'], { store }));
  });

  test('inspect: Docker fields and types', async () => {
    const id = await runD('--name', 'insp', image, 'sleep', '60');
    const j = JSON.parse(ok(await skiff(['container', 'inspect', 'insp'], { store })))[0] as Record<string, unknown>;
    for (const k of ['Id', 'Created', 'Path', 'Args', 'State', 'Image', 'ResolvConfPath', 'HostnamePath', 'HostsPath', 'LogPath', 'Name', 'RestartCount', 'Driver', 'Platform', 'HostConfig', 'GraphDriver', 'Mounts', 'Config', 'NetworkSettings']) {
      assert.ok(k in j, `no ${k}`);
    }
    const st = j.State as Record<string, unknown>;
    assert.deepEqual(Object.keys(st), ['Status', 'Running', 'Paused', 'Restarting', 'OOMKilled', 'Dead', 'Pid', 'ExitCode', 'Error', 'StartedAt', 'FinishedAt']);
    assert.equal(typeof st.Pid, 'number');
    assert.ok(!('Health' in st), 'Health only when a health check is configured');
    const hc = j.HostConfig as Inspect['HostConfig'] & Record<string, unknown>;
    assert.deepEqual(hc.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
    assert.deepEqual(hc.LogConfig, { Type: 'json-file', Config: {} });
    assert.equal(j.LogPath, path.join(ctrDir(id), `${id}-json.log`));
    assert.equal(j.RestartCount, 0);
    assert.equal(fs.readFileSync(j.HostnamePath as string, 'utf8'), `${id.slice(0, 12)}\n`);
    assert.ok(Array.isArray(j.Mounts));
    assert.equal(typeof (j.NetworkSettings as Record<string, unknown>).Networks, 'object');
    assert.equal(ok(await skiff(['inspect', '--format', '{{.State.Status}} {{.State.Running}} {{.HostConfig.RestartPolicy.Name}}', 'insp'], { store })), 'running true no\n');
    ok(await skiff(['rm', '-f', 'insp'], { store }));
  });

  test('crash safety: a killed monitor shows as exited (-1) and rm -f takes its init; a reboot (boot id) too', async () => {
    await clean();
    const id = await runD('--name', 'orphan', image, 'sleep', '60');
    const pid = (await inspect(id)).State.Pid;
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const shim = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    assert.equal(fs.readFileSync(`/proc/${shim}/comm`, 'utf8').trim(), 'skiff-shim');
    process.kill(shim, 'SIGKILL');
    const st = await until('the state to change', async () => {
      const s = (await inspect(id)).State;
      return s.Status === 'exited' ? s : undefined;
    });
    assert.equal(st.ExitCode, -1);
    assert.equal(st.Error, 'container monitor exited without recording an exit code');
    assert.match(ok(await skiff(['ps', '-a', '--format', '{{.Names}} {{.Status}}'], { store })), /^orphan Exited \(-1\)/m);
    ok(await skiff(['rm', '-f', 'orphan'], { store }));
    await until('the init to be gone', () => !fs.existsSync(`/proc/${pid}`) || fs.readFileSync(`/proc/${pid}/stat`, 'latin1').includes(') Z'));

    // a state from another boot: the machine rebooted since, nothing of it can be running
    const c = ok(await skiff(['create', '--name', 'rebooted', image, 'sleep', '60'], { store })).trim();
    fs.writeFileSync(path.join(ctrDir(c), 'state.json'), JSON.stringify({ StartedAt: new Date().toISOString(), BootId: '00000000-0000-0000-0000-000000000000', Detached: true }));
    const r = (await inspect(c)).State;
    assert.equal(r.Status, 'exited');
    assert.equal(r.Error, 'container state lost: the machine rebooted');
    assert.deepEqual(ok(await skiff(['ps', '-q'], { store })), '');
    ok(await skiff(['rm', 'rebooted'], { store }));
  });

  /**
   * Starts `skiff ARGS` and freezes it (SIGSTOP) the moment its new container's state.json exists: the
   * CLI has recorded the start but not yet spawned the shim (checked: the CLI has no child and no
   * process names the container; else it is let go and tried again). A tight synchronous poll: that window is a few milliseconds.
   */
  async function frozenAtStart(args: string[]): Promise<{ id: string; cli: ReturnType<typeof spawn>; closed: Promise<unknown> }> {
    const cdir = path.join(store.root, 'containers');
    for (let attempt = 0; attempt < 20; attempt++) {
      const known = new Set(fs.readdirSync(cdir));
      const cli = spawn(SKIFF_BIN, args, { env: { ...process.env, ...store.env }, stdio: 'ignore' });
      const closed = new Promise((r) => cli.on('close', r));
      let id: string | undefined;
      for (const end = Date.now() + 30_000; Date.now() < end && cli.exitCode === null; ) {
        const fresh = fs.readdirSync(cdir).find((n) => /^[0-9a-f]{64}$/.test(n) && !known.has(n));
        if (fresh && fs.existsSync(path.join(cdir, fresh, 'state.json'))) {
          cli.kill('SIGSTOP');
          id = fresh;
          break;
        }
      }
      assert.ok(id, `${args.join(' ')}: no container appeared`);
      // too late when the shim runs, or is being spawned (a forked child of the CLI, not yet exec'd)
      const children = fs.readdirSync('/proc').filter((p) => {
        try {
          const stat = fs.readFileSync(`/proc/${p}/stat`, 'latin1');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === cli.pid;
        } catch {
          return false;
        }
      });
      if (children.length === 0 && processes((c) => c.includes(id!)).length === 0) return { id, cli, closed };
      cli.kill('SIGCONT'); // too late: the shim runs; let it finish and try again
      await closed;
      ok(await skiff(['rm', '-f', id], { store }));
    }
    throw new Error('never caught the CLI between its start record and the shim');
  }

  test('a run -d whose CLI is killed before the monitor runs is exited (-1) at once, never Up; with --rm the next ps removes it', async () => {
    await clean();
    const snap = storeSnapshot(store);
    const { id, cli, closed } = await frozenAtStart(['run', '-d', '--name', 'cutshort', image, 'sleep', '60']);
    cli.kill('SIGKILL');
    await closed;
    const st = (await inspect(id)).State;
    assert.deepEqual([st.Status, st.Running, st.Pid, st.ExitCode], ['exited', false, 0, -1]);
    assert.equal(st.Error, 'container monitor exited without recording an exit code');
    for (const env of [{}, { SKIFF_PS_NODE: '1' }] as Record<string, string>[]) {
      assert.equal(ok(await skiff(['ps', '-q'], { store, env })), '', 'not listed as running');
      assert.match(ok(await skiff(['ps', '-a'], { store, env })), / Exited \(-1\) .* cutshort\n/);
    }
    // it starts again as any exited container does
    ok(await skiff(['start', 'cutshort'], { store }));
    assert.equal((await inspect(id)).State.Status, 'running');
    ok(await skiff(['rm', '-f', 'cutshort'], { store }));
    // --rm: nobody is left to remove it; the next listing does (native ps hands it to the CLI)
    for (const env of [{}, { SKIFF_PS_NODE: '1' }] as Record<string, string>[]) {
      const rm = await frozenAtStart(['run', '-d', '--rm', '--name', 'cutshort', image, 'sleep', '60']);
      rm.cli.kill('SIGKILL');
      await rm.closed;
      assert.equal(ok(await skiff(['ps', '-a', '--no-trunc'], { store, env })).includes(rm.id), false);
      assert.deepEqual(await leftSince(store, snap), {});
    }
  });

  test('a --rm container whose monitor or shim is killed is removed by the next skiff that sees it (ps, or a run that wants its name)', async () => {
    await clean();
    const snap = storeSnapshot(store);
    const initOf = async (ref: string): Promise<number> => until(`${ref} to run`, async () => {
      const r = await skiff(['inspect', '--format', '{{.State.Pid}}', ref], { store });
      return r.code === 0 && Number(r.stdout) > 0 ? Number(r.stdout) : undefined;
    });
    const gone = (pid: number): boolean => !fs.existsSync(`/proc/${pid}`) || fs.readFileSync(`/proc/${pid}/stat`, 'latin1').includes(') Z');
    // detached: SIGKILL the monitor (the init dies with it), then a native ps, then the CLI's ps
    for (const env of [{}, { SKIFF_PS_NODE: '1' }] as Record<string, string>[]) {
      const id = await runD('--rm', '--name', 'rmorphan', image, 'sleep', '60');
      const init = await initOf(id);
      const mon = (JSON.parse(fs.readFileSync(path.join(ctrDir(id), 'monitor.json'), 'utf8')) as { monitorPid: number }).monitorPid;
      process.kill(mon, 'SIGKILL');
      await until('the init to die with its monitor', () => gone(init));
      assert.equal(ok(await skiff(['ps', '-a', '--no-trunc'], { store, env })).includes(id), false, 'listed after its monitor was killed');
      assert.deepEqual(await leftSince(store, snap), {});
    }
    // foreground: SIGKILL the shim (the CLI became it); the name is free for the next run at once
    const fg = spawn(SKIFF_BIN, ['run', '--rm', '--name', 'fgorphan', image, 'sleep', '60'], { env: { ...process.env, ...store.env }, stdio: 'ignore' });
    const fgClosed = new Promise((r) => fg.on('close', r));
    const init = await initOf('fgorphan');
    fg.kill('SIGKILL');
    await fgClosed;
    await until('the init to die with its shim', () => gone(init));
    const again = await skiff(['run', '--rm', '--name', 'fgorphan', image, 'echo', 'mine'], { store });
    assert.equal(again.stdout, 'mine\n', again.stderr);
    assert.deepEqual(await leftSince(store, snap), {});
  });

  test('the native ps fast path (bin/skiff → skiff-shim ps) prints what the CLI prints', async () => {
    await clean();
    const shim = path.join(path.dirname(SKIFF_BIN), '..', 'dist', 'skiff-shim');
    ok(await skiff(['create', '--name', 'fp-created', image, 'true'], { store }));
    await runD('--name', 'fp-running', image, 'sh', '-c', 'echo a long command line to be truncated; sleep 60');
    await runD('--name', 'fp-exited', image, 'sh', '-c', 'exit 5');
    if (ownCgroups) {
      await runD('--name', 'fp-paused', image, 'sleep', '60');
      ok(await skiff(['pause', 'fp-paused'], { store }));
    }
    const orphan = await runD('--name', 'fp-orphan', image, 'sleep', '60');
    const pid = (await inspect(orphan)).State.Pid;
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    process.kill(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]), 'SIGKILL'); // its monitor
    // health (written by the monitor): one that became healthy, one whose first probe is an hour away
    await runD('--name', 'fp-healthy', '--health-cmd', 'true', '--health-interval', '100ms', image, 'sleep', '60');
    await runD('--name', 'fp-starting', '--health-cmd', 'true', '--health-interval', '1h', image, 'sleep', '60');
    await until('fp-exited to exit', async () => (await inspect('fp-exited')).State.Status === 'exited' || undefined);
    await until('fp-orphan to be lost', async () => (await inspect('fp-orphan')).State.Status === 'exited' || undefined);
    await until('fp-healthy to be healthy', async () => (await skiff(['ps'], { store, env: { SKIFF_PS_NODE: '1' } })).stdout.includes('(healthy)') || undefined);
    for (const args of [['ps'], ['ps', '-a'], ['ps', '-aq'], ['ps', '-a', '--no-trunc'], ['ps', '-l'], ['container', 'ls', '-qa']]) {
      // the texts hold durations ("3 seconds ago"): the native output must equal the CLI's before or after it
      const before = ok(await skiff(args, { store, env: { SKIFF_PS_NODE: '1' } }));
      const fast = ok(await skiff(args, { store }));
      const direct = ok(await new Promise<RunResult>((resolve) => {
        const c = spawn(shim, ['ps', ...args.slice(args[0] === 'container' ? 2 : 1)], { env: { ...process.env, ...store.env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        c.stdout.on('data', (d: Buffer) => (stdout += d));
        c.stderr.on('data', (d: Buffer) => (stderr += d));
        c.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
      }));
      const afterwards = ok(await skiff(args, { store, env: { SKIFF_PS_NODE: '1' } }));
      // durations may tick between the runs, and with them the column widths: compare cells, with
      // the numbers of the durations left out (the texts around them must match exactly)
      const cells = (out: string): string => out.replace(/(Less than a second|\d+ (second|minute)s?)/g, 'N').replace(/ {2,}/g, '|');
      assert.ok([before, afterwards].map(cells).includes(cells(fast)), `${args.join(' ')}:\nnative:\n${fast}\ncli:\n${before}`);
      assert.ok([before, afterwards].map(cells).includes(cells(direct)), `skiff-shim ${args.join(' ')}:\n${direct}\ncli:\n${before}`);
      if (fast === before || fast === afterwards) continue;
      // when nothing ticked, the bytes are the same (alignment included)
      assert.notEqual(before, afterwards, `${args.join(' ')}: native output differs from a stable CLI output`);
    }
    const listed = ok(await skiff(['ps', '-a'], { store }));
    assert.match(listed, /"sh -c echo a long c…"/);
    assert.match(listed, /Exited \(5\)/);
    assert.match(listed, /Exited \(-1\)/);
    assert.match(listed, /Created/);
    assert.match(listed, /Up .* \(healthy\) /);
    assert.match(listed, /Up .* \(health: starting\) /);
    if (ownCgroups) assert.match(listed, /\(Paused\)/);
    await clean();
  });

  test('20 concurrent run -d with ps and rm -f loops leave a consistent store', async () => {
    await clean();
    const names = Array.from({ length: 20 }, (_, i) => `conc${i}`);
    let running = true;
    const psErrors: string[] = [];
    const psLoop = (async () => {
      while (running) {
        const r = await skiff(['ps', '-a', '--format', '{{.ID}} {{.Names}} {{.State}}'], { store });
        if (r.code !== 0 || r.stderr) psErrors.push(`exit ${r.code}: ${r.stderr}`);
      }
    })();
    // the native listing (bin/skiff → skiff-shim ps) under the same churn
    const nativeLoop = (async () => {
      while (running) {
        const r = await skiff(['ps', '-a'], { store });
        if (r.code !== 0 || r.stderr || !r.stdout.startsWith('CONTAINER ID')) psErrors.push(`native: exit ${r.code}: ${r.stderr}`);
      }
    })();
    const rmErrors: string[] = [];
    const rmLoop = (async () => {
      for (let i = 0; running; i = (i + 7) % 20) {
        const r = await skiff(['rm', '-f', names[i]!], { store });
        if (r.code !== 0 && r.stderr !== `Error: No such container: ${names[i]}\n`) rmErrors.push(r.stderr);
      }
    })();
    // a duration of our own: other test runs on this shared machine sleep too (only our leftovers count)
    const nap = String(300 + (process.pid % 997));
    const runs = await Promise.all(names.map((n) => skiff(['run', '-d', '--name', n, image, 'sleep', nap], { store })));
    await sleep(500);
    running = false;
    await psLoop;
    await rmLoop;
    await nativeLoop;
    assert.deepEqual(psErrors, []);
    assert.deepEqual(rmErrors, []);
    for (const [i, r] of runs.entries()) {
      // a run may lose its container to an rm -f before it started it: then it says so
      if (r.code !== 0) assert.match(r.stderr, /No such container/, `run ${names[i]}: ${r.stderr}`);
    }
    // every container is fully there (record, spec, running) or fully gone (no dir, no name)
    const ids = fs.readdirSync(path.join(store.root, 'containers')).filter((n) => /^[0-9a-f]{64}$/.test(n));
    for (const id of ids) {
      for (const f of ['config.json', 'bundle/config.json', 'upper', 'work']) assert.ok(fs.existsSync(path.join(ctrDir(id), f)), `${id}: no ${f}`);
    }
    const listed = ok(await skiff(['ps', '-a', '--format', '{{.Names}}'], { store })).split('\n').filter(Boolean);
    assert.equal(listed.length, ids.length);
    const links = fs.readdirSync(path.join(store.root, 'containers', 'names'));
    for (const n of listed) assert.ok(links.includes(n), `no name link for ${n}`);
    // clean up: nothing is left behind
    ok(await skiff(['rm', '-f', ...listed], { store }));
    const leftIds = fs.readdirSync(path.join(store.root, 'containers')).filter((n) => /^[0-9a-f]{64}$/.test(n));
    assert.deepEqual(leftIds, []);
    assert.deepEqual(fs.readdirSync(path.join(store.root, 'tmp')).filter((n) => /-(ctr|rm-ctr|names)-/.test(n)), [], 'staging left');
    assert.deepEqual(fs.readdirSync(path.join(store.root, 'containers', 'names')), [], 'name links left');
    assert.deepEqual(storeProcesses(store), []);
    assert.deepEqual(execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l === `sleep ${nap}`), []);
    if (!rootless && fs.existsSync('/sys/fs/cgroup/freezer/skiff')) {
      const left = fs.readdirSync('/sys/fs/cgroup/freezer/skiff').filter((d) => /^[0-9a-f]{64}$/.test(d) && ids.includes(d));
      assert.deepEqual(left, []);
    }
  });
});
