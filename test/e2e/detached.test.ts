/**
 * Detached containers and their native monitor (`skiff-shim run --detach`) through the CLI binary:
 * the json-file log (`logs` with -t, --tail, --since/--until, -f, rotation), `attach`, restart
 * policies, health checks, start failures, and what a monitor killed with SIGKILL leaves (nothing).
 * Runs rootful and rootless. Waits are bounded polls for a state, never timing assertions.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { hostIfName } from '../../src/network/plan.js';
import { SKIFF_BIN, isRootless, skiff, until, type TempStore, storeWithImage } from '../helpers/fixtures.js';
import { leftSince, storeMounts, storeProcesses, storeSnapshot } from '../helpers/leftovers.js';
import { freePort, hostLinks, portFree } from '../helpers/netns.js';
import { Terminal } from '../helpers/terminal.js';

interface Health {
  Status: string;
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}
interface Inspect {
  Id: string;
  RestartCount: number;
  LogPath: string;
  State: { Status: string; Running: boolean; Restarting: boolean; ExitCode: number; Pid: number; Error: string; Health?: Health };
  Config: { Healthcheck?: { Test: string[] } };
}

function alive(pid: number): boolean {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(st);
  } catch {
    return false;
  }
}

describe('detached containers', () => {
  let store: TempStore;
  let image: string;
  const inspect = async (name: string): Promise<Inspect> => {
    const r = await skiff(['inspect', name], { store });
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as Inspect[])[0]!;
  };
  const runD = async (args: string[]): Promise<string> => {
    const r = await skiff(['run', '-d', ...args], { store });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
    return r.stdout.trim();
  };
  /** The container has exited and its monitor is gone (no restart can follow). */
  const finished = async (name: string): Promise<Inspect> =>
    until(`${name} to finish`, async () => {
      const id = (await inspect(name)).Id;
      if (alive(monitorPid(id))) return undefined;
      const j = await inspect(name); // read after the monitor is gone: final
      return j.State.Status === 'exited' ? j : undefined;
    });
  const monitorPid = (id: string): number =>
    (JSON.parse(fs.readFileSync(path.join(store.root, 'containers', id, 'monitor.json'), 'utf8')) as { monitorPid: number }).monitorPid;
  /** Resolves once process `pid` has `file` open (so it will read what is written there next). */
  const hasOpen = (pid: number, file: string): boolean => {
    try {
      return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
        try {
          return fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === file;
        } catch {
          return false;
        }
      });
    } catch {
      return false;
    }
  };
  /** A CLI run we watch while it runs: `done` settles with its exit code. */
  // `exec C touch /go` tells a container to go on. It must not end before the exec's `touch` has
  // exited: the init's exit kills what is left in its pid namespace, and a `touch` that made the file
  // but had not exited yet would die with it (exec then reports 137, as Docker's would).
  const NO_TOUCH = 'while grep -qs "^touch$" /proc/[0-9]*/comm; do sleep 0.05; done';
  const AWAIT_GO = `while [ ! -e /go ]; do sleep 0.05; done; ${NO_TOUCH}`;
  const spawnSkiff = (args: string[]): ChildProcessWithoutNullStreams & { done: Promise<number | null> } => {
    const c = spawn(SKIFF_BIN, args, { env: { ...process.env, NO_COLOR: '1', ...store.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    return Object.assign(c, { done: new Promise<number | null>((r) => c.on('close', r)) });
  };

  before(async () => {
    ({ store, image } = await storeWithImage());
  });
  after(async () => store.cleanup());

  test('logs: stdout and stderr apart, Docker json-file lines, -t, --tail, --since/--until', async () => {
    await runD(['--name', 'lg', image, 'sh', '-c', 'echo o1; echo e1 >&2; echo o2; printf partial']);
    const j = await finished('lg');
    assert.equal(j.State.ExitCode, 0);
    const r = await skiff(['logs', 'lg'], { store });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'o1\no2\npartial\n');
    assert.equal(r.stderr, 'e1\n');
    // the file, as Docker's json-file driver writes it
    const lines = fs.readFileSync(j.LogPath, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 4);
    for (const l of lines) assert.match(l, /^\{"log":"[^"]*","stream":"(stdout|stderr)","time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z"\}$/);
    // the two streams are read apart (as Docker's copiers do): the order within each is kept
    const entries = lines.map((l) => JSON.parse(l) as { log: string; stream: string });
    assert.deepEqual(entries.filter((e) => e.stream === 'stdout').map((e) => e.log), ['o1\n', 'o2\n', 'partial\n']);
    assert.deepEqual(entries.filter((e) => e.stream === 'stderr').map((e) => e.log), ['e1\n']);
    const t = await skiff(['logs', '-t', 'lg'], { store });
    const ts = t.stdout.trimEnd().split('\n');
    assert.equal(ts.length, 3);
    for (const [i, l] of ts.entries()) assert.match(l, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z ${['o1', 'o2', 'partial'][i]}$`));
    const last = await skiff(['logs', '--tail', '1', 'lg'], { store });
    assert.equal(last.stdout + last.stderr, (JSON.parse(lines[3]!) as { log: string }).log);
    assert.equal((await skiff(['logs', '--tail', '0', 'lg'], { store })).stdout, '');
    assert.equal((await skiff(['logs', '--details', 'lg'], { store })).stdout, ' o1\n o2\n partial\n');
    assert.equal((await skiff(['logs', '-n', 'all', 'lg'], { store })).stdout, 'o1\no2\npartial\n');
    const future = String(Math.floor(Date.now() / 1000) + 3600);
    assert.equal((await skiff(['logs', '--since', future, 'lg'], { store })).stdout, '');
    assert.equal((await skiff(['logs', '--since', '10m', 'lg'], { store })).stdout, 'o1\no2\npartial\n');
    assert.equal((await skiff(['logs', '--until', '2000-01-01T00:00:00Z', 'lg'], { store })).stdout, '');
    // --since/--until an entry's own time (both inclusive)
    const o2 = lines.map((l) => JSON.parse(l) as { log: string; time: string }).find((e) => e.log === 'o2\n')!;
    const win = await skiff(['logs', '--since', o2.time, '--until', o2.time, 'lg'], { store });
    assert.equal(win.stdout, 'o2\n');
    const bad = await skiff(['logs', '--since', 'yesterday', 'lg'], { store });
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: invalid value for "since"/);
  });

  test('logs: escaping as Docker (control characters, <>&, invalid UTF-8) and lines over 16 KiB', async () => {
    await runD(['--name', 'esc', image, 'sh', '-c', `printf 'a"b\\\\c\\001<&>\\377\\t\\n'; head -c 20000 /dev/zero | tr '\\000' x; echo`]);
    const j = await finished('esc');
    const lines = fs.readFileSync(j.LogPath, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.ok(lines[0]!.startsWith('{"log":"a\\"b\\\\c\\u0001\\u003c\\u0026\\u003e\\ufffd\\t\\n","stream":"stdout"'), lines[0]);
    // Docker's copier: a 16 KiB partial entry without a newline, then the rest with it
    const parts = lines.slice(1).map((l) => (JSON.parse(l) as { log: string }).log);
    assert.deepEqual(parts.map((p) => p.length), [16384, 20000 - 16384 + 1]);
    assert.ok(!parts[0]!.endsWith('\n') && parts[1]!.endsWith('\n'));
    const r = await skiff(['logs', '--tail', '2', 'esc'], { store });
    assert.equal(r.stdout, 'x'.repeat(20000) + '\n');
  });

  test('logs of a big log: --tail reads backwards across chunks, a full read streams', async () => {
    // 3000 lines of ~100 bytes of JSON each: ~300 KiB, many 64 KiB chunks; some non-ASCII to cut through
    await runD(['--name', 'big', image, 'sh', '-c', 'i=1; while [ $i -le 3000 ]; do echo "n-$i-ünïcødé-.........................."; i=$((i+1)); done']);
    await finished('big');
    const line = (i: number): string => `n-${i}-ünïcødé-..........................\n`;
    const all = await skiff(['logs', 'big'], { store });
    assert.equal(all.stdout, Array.from({ length: 3000 }, (_, i) => line(i + 1)).join(''));
    const t = await skiff(['logs', '--tail', '2500', 'big'], { store });
    assert.equal(t.stdout, Array.from({ length: 2500 }, (_, i) => line(i + 501)).join(''));
    assert.equal((await skiff(['logs', '--tail', '5000', 'big'], { store })).stdout, all.stdout);
  });

  test('logs -f follows until the container exits', async () => {
    await runD(['--name', 'fol', image, 'sh', '-c', `echo first; ${AWAIT_GO}; echo second; exit 3`]);
    const f = spawnSkiff(['logs', '-f', 'fol']);
    let out = '';
    f.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    await until('the first line', () => out.includes('first\n'));
    assert.equal((await skiff(['exec', 'fol', 'touch', '/go'], { store })).code, 0);
    const code = await f.done;
    assert.equal(code, 0);
    assert.equal(out, 'first\nsecond\n');
  });

  test('rotation: --log-opt max-size/max-file keep N files, logs reads across them (also -f)', async () => {
    const bad = await skiff(['run', '-d', '--log-opt', 'max-file=0', image, 'true'], { store });
    assert.equal(bad.code, 125);
    assert.equal(bad.stderr, 'Error: max-file cannot be less than 1\n');
    const unknown = await skiff(['run', '-d', '--log-opt', 'compress=true', image, 'true'], { store });
    assert.equal(unknown.stderr, "Error: unknown log opt 'compress' for json-file log driver\n");
    const driver = await skiff(['run', '-d', '--log-driver', 'syslog', image, 'true'], { store });
    assert.equal(driver.code, 125);
    assert.match(driver.stderr, /^Error: log driver "syslog" is not supported/);
    // the container waits until `logs -f` has the log open, then writes 100 numbered lines, 10 a second
    // (the 5 files hold ~65 lines: `logs -f` may fall seconds behind and still see every line)
    const id = await runD(['--name', 'rot', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=5', image, 'sh', '-c',
      'while [ ! -e /go ]; do sleep 0.05; done; i=1; while [ $i -le 100 ]; do echo line-$i; i=$((i+1)); sleep 0.1; done']);
    const f = spawnSkiff(['logs', '-f', 'rot']);
    let followed = '';
    f.stdout.setEncoding('utf8').on('data', (d: string) => (followed += d));
    const logPath = (await inspect('rot')).LogPath;
    await until('logs -f to open the log', () => hasOpen(f.pid!, logPath));
    assert.equal((await skiff(['exec', 'rot', 'touch', '/go'], { store })).code, 0);
    const j = await finished('rot');
    assert.equal(await f.done, 0);
    const dir = path.dirname(j.LogPath);
    const names = fs.readdirSync(dir).filter((n) => n.startsWith(`${id}-json.log`)).sort();
    assert.deepEqual(names, [`${id}-json.log`, ...[1, 2, 3, 4].map((n) => `${id}-json.log.${n}`)]);
    for (const n of names.slice(1)) {
      const size = fs.statSync(path.join(dir, n)).size;
      assert.ok(size >= 1024 && size < 1024 + 100, `${n} is ${size} bytes: rotated at 1k`);
    }
    const kept = [...names.slice(1).reverse(), names[0]!]
      .flatMap((n) => fs.readFileSync(path.join(dir, n), 'utf8').trimEnd().split('\n'))
      .map((l) => (JSON.parse(l) as { log: string }).log);
    const r = await skiff(['logs', 'rot'], { store });
    assert.equal(r.stdout, kept.join(''));
    const nums = r.stdout.trimEnd().split('\n').map((l) => Number(l.slice(5)));
    assert.equal(nums[nums.length - 1], 100);
    assert.ok(nums[0]! > 1, 'the oldest lines went with the dropped files');
    nums.forEach((n, i) => assert.equal(n, nums[0]! + i, 'consecutive lines across the files'));
    // -f saw every line, across all the rotations
    assert.equal(followed, Array.from({ length: 100 }, (_, i) => `line-${i + 1}\n`).join(''));
  });

  test('--log-driver none: no log file, logs refuses like Docker', async () => {
    await runD(['--name', 'nolog', '--log-driver', 'none', image, 'echo', 'hi']);
    const j = await finished('nolog');
    assert.equal(j.LogPath, '');
    const r = await skiff(['logs', 'nolog'], { store });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error: configured logging driver does not support reading\n');
  });

  test('attach: output, -i input to the container, the exit code', async () => {
    await runD(['-i', '--name', 'att', image, 'sh', '-c', 'read x; echo got-$x; echo err >&2; exit 7']);
    const a = await skiff(['attach', 'att'], { store, input: 'hello\n' });
    assert.equal(a.stdout, 'got-hello\n');
    assert.equal(a.stderr, 'err\n');
    assert.equal(a.code, 7);
    // without -i at run: output only; the container ends when told to
    await runD(['--name', 'att2', image, 'sh', '-c', `while [ ! -e /go ]; do echo tick; sleep 0.1; done; ${NO_TOUCH}; echo done; exit 3`]);
    const c = spawnSkiff(['attach', '--no-stdin', 'att2']);
    let out = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    await until('attach to relay output', () => out.includes('tick\n'));
    assert.equal((await skiff(['exec', 'att2', 'touch', '/go'], { store })).code, 0);
    assert.equal(await c.done, 3);
    assert.match(out, /^(tick\n)+done\n$/);
    // --sig-proxy (the default): a signal to the attach CLI reaches the container
    await runD(['--name', 'att3', image, 'sh', '-c', 'trap "echo got-term; exit 9" TERM; while :; do echo tick; sleep 0.1; done']);
    const p = spawnSkiff(['container', 'attach', 'att3']);
    let pout = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (pout += d));
    await until('attach to relay output', () => pout.includes('tick\n'));
    p.kill('SIGTERM');
    assert.equal(await p.done, 9);
    assert.match(pout, /got-term\n$/);
    const stopped = await skiff(['attach', 'att2'], { store });
    assert.equal(stopped.code, 1);
    assert.equal(stopped.stderr, 'Error: You cannot attach to a stopped container, start it first\n');
  });

  test('attach to a tty: input and size of the terminal, ctrl-p ctrl-q detaches and leaves it running (exit 1, as Docker)', async () => {
    await runD(['-it', '--name', 'tty', image, 'sh']);
    const notty = await skiff(['attach', 'tty'], { store, input: 'x\n' });
    assert.equal(notty.code, 1);
    assert.equal(notty.stderr, 'Error: the input device is not a TTY\n');
    // a real terminal for the attach CLI: the typed line reaches the container's shell, whose
    // terminal took the size of ours; ctrl-p ctrl-q is typed only once attach relays (raw mode:
    // before it, the terminal would take ctrl-q as flow control)
    const t = new Terminal([SKIFF_BIN, 'attach', 'tty'], { env: store.env, rows: 33, cols: 77 });
    t.type('echo mark-$((6*7)); stty size\r');
    await t.waitFor(/mark-42\n33 77\n/);
    t.type('\x10\x11');
    const r = await t.exited;
    // Docker's attach reports a detach as its error: "read escape sequence", exit 1
    assert.equal(r.code, 1, t.output);
    assert.match(t.output, /read escape sequence\n/);
    assert.equal((await inspect('tty')).State.Status, 'running', 'detached, not ended');
    assert.equal((await skiff(['rm', '-f', 'tty'], { store })).code, 0);
  });

  test('restart on-failure:2 restarts twice, then stays exited', async () => {
    await runD(['--name', 'rf', '--restart', 'on-failure:2', image, 'sh', '-c', 'echo run; exit 3']);
    const j = await finished('rf');
    assert.equal(j.RestartCount, 2);
    assert.equal(j.State.ExitCode, 3);
    assert.equal((await skiff(['logs', 'rf'], { store })).stdout, 'run\nrun\nrun\n');
    // a clean exit is no failure
    await runD(['--name', 'rf0', '--restart', 'on-failure', image, 'true']);
    assert.equal((await finished('rf0')).RestartCount, 0);
  });

  test('restart always / unless-stopped: restarted until stop, never after it', async () => {
    for (const policy of ['always', 'unless-stopped']) {
      const name = `r-${policy}`;
      await runD(['--name', name, '--restart', policy, image, 'sh', '-c', 'echo up; sleep 0.2; exit 0']);
      await until(`${name} to restart twice`, async () => (await inspect(name)).RestartCount >= 2);
      const s = await skiff(['stop', '-t', '1', name], { store });
      assert.equal(s.code, 0, s.stderr);
      const j = await finished(name);
      assert.equal(j.State.Running, false);
      const count = j.RestartCount;
      // the monitor is gone: nothing can start it again
      assert.equal((await inspect(name)).RestartCount, count);
      assert.equal((await inspect(name)).State.Status, 'exited');
    }
    const rm = await skiff(['run', '-d', '--rm', '--restart', 'always', image, 'true'], { store });
    assert.equal(rm.code, 125);
    assert.equal(rm.stderr, 'Error: Conflicting options: --restart and --rm\n');
    const bad = await skiff(['run', '-d', '--restart', 'sometimes', image, 'true'], { store });
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: invalid restart policy: unknown policy 'sometimes'/);
    const count = await skiff(['run', '-d', '--restart', 'always:3', image, 'true'], { store });
    assert.match(count.stderr, /maximum retry count can only be used with 'on-failure'/);
  });

  test('health: healthy, unhealthy after retries, start period, timeout', async () => {
    await runD(['--name', 'hok', '--health-cmd', 'test -e /ok', '--health-interval', '100ms', image, 'sh', '-c', 'touch /ok; sleep 60']);
    const ok = await until('healthy', async () => {
      const h = (await inspect('hok')).State.Health;
      return h?.Status === 'healthy' ? h : undefined;
    });
    assert.equal(ok.FailingStreak, 0);
    assert.equal(ok.Log[ok.Log.length - 1]!.ExitCode, 0);

    await runD(['--name', 'hbad', '--health-cmd', 'echo bad; exit 1', '--health-interval', '100ms', '--health-retries', '2', image, 'sleep', '60']);
    const seen: Health[] = [];
    const bad = await until('unhealthy', async () => {
      const h = (await inspect('hbad')).State.Health;
      if (h) seen.push(h);
      return h?.Status === 'unhealthy' && h.Log.length >= 5 ? h : undefined;
    });
    for (const h of seen) if (h.Status === 'starting') assert.ok(h.FailingStreak < 2);
    assert.ok(bad.FailingStreak >= 5);
    assert.equal(bad.Log.length, 5, 'the last 5 results are kept');
    assert.deepEqual(bad.Log[4]!, { ...bad.Log[4]!, ExitCode: 1, Output: 'bad\n' });
    assert.ok(Date.parse(bad.Log[4]!.End) >= Date.parse(bad.Log[4]!.Start));

    await runD(['--name', 'hstart', '--health-cmd', 'exit 1', '--health-interval', '100ms', '--health-retries', '1', '--health-start-period', '1h', image, 'sleep', '60']);
    const st = await until('3 checks', async () => {
      const h = (await inspect('hstart')).State.Health;
      return h && h.Log.length >= 3 ? h : undefined;
    });
    assert.equal(st.Status, 'starting', 'failures inside the start period do not count');
    assert.equal(st.FailingStreak, 0);

    await runD(['--name', 'hslow', '--health-cmd', 'sleep 30', '--health-timeout', '200ms', '--health-interval', '100ms', '--health-retries', '1', image, 'sleep', '60']);
    const slow = await until('a timed-out check', async () => {
      const h = (await inspect('hslow')).State.Health;
      return h && h.Log.length ? h : undefined;
    });
    assert.equal(slow.Status, 'unhealthy');
    assert.deepEqual(slow.Log[0]!, { ...slow.Log[0]!, ExitCode: -1, Output: 'Health check exceeded timeout (200ms)' });
    assert.equal((await skiff(['rm', '-f', 'hok', 'hbad', 'hstart', 'hslow'], { store })).code, 0);
  });

  test("the image's HEALTHCHECK applies; --no-healthcheck disables it", async () => {
    const ctx = fs.mkdtempSync('/tmp/skiff-hc-');
    fs.chmodSync(ctx, 0o755);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${image}\nHEALTHCHECK --interval=100ms --retries=1 CMD exit 0\n`);
    const b = await skiff(['build', '-q', '-t', 'hc:1', ctx], { store });
    fs.rmSync(ctx, { recursive: true, force: true });
    assert.equal(b.code, 0, b.stderr);
    await runD(['--name', 'himg', 'hc:1', 'sleep', '60']);
    await until('healthy from the image HEALTHCHECK', async () => (await inspect('himg')).State.Health?.Status === 'healthy');
    await runD(['--name', 'hnone', '--no-healthcheck', 'hc:1', 'sleep', '60']);
    const j = await inspect('hnone');
    assert.deepEqual(j.Config.Healthcheck?.Test, ['NONE']);
    assert.equal(j.State.Health, undefined);
    assert.equal(fs.existsSync(path.join(path.dirname(j.LogPath), 'health.json')), false);
    const conflict = await skiff(['run', '-d', '--no-healthcheck', '--health-cmd', 'true', 'hc:1', 'true'], { store });
    assert.equal(conflict.stderr, 'Error: --no-healthcheck conflicts with --health-* options\n');
    assert.equal((await skiff(['rm', '-f', 'himg', 'hnone'], { store })).code, 0);
  });

  test('a detached start that fails reports the error line and exit code, as a foreground run', async () => {
    const nf = await skiff(['run', '-d', '--name', 'nf', image, 'no-such-command'], { store });
    assert.equal(nf.code, 127);
    assert.equal(nf.stdout, '');
    assert.equal(nf.stderr, 'Error: exec: "no-such-command": executable file not found in $PATH\n');
    const j = await inspect('nf');
    assert.equal(j.State.Status, 'exited');
    assert.equal(j.State.ExitCode, 127);
    const ni = await skiff(['run', '-d', image, '/etc/passwd'], { store });
    assert.equal(ni.code, 126);
    assert.equal(ni.stderr.split('\n').length, 2);
    const wd = await skiff(['run', '-d', '-w', '/etc/passwd', image, 'true'], { store });
    assert.equal(wd.code, 125);
    assert.match(wd.stderr, /^Error: [^\n]*\/etc\/passwd[^\n]*: Not a directory\n$/);
  });

  test('start runs a detached container again: the log goes on, the restart count starts over', async () => {
    await runD(['--name', 'again', '--restart', 'on-failure:1', image, 'sh', '-c', 'echo round; exit 1']);
    assert.equal((await finished('again')).RestartCount, 1);
    const s = await skiff(['start', 'again'], { store });
    assert.equal(s.code, 0, s.stderr);
    const j = await finished('again');
    assert.equal(j.RestartCount, 1);
    assert.equal(j.State.ExitCode, 1);
    assert.equal((await skiff(['container', 'logs', 'again'], { store })).stdout, 'round\n'.repeat(4));
  });

  test('--rm: the container is removed after it exits, its name free, nothing left in the staging dir', async () => {
    const id = await runD(['--rm', '--name', 'rmd', image, 'true']);
    await until('removal', async () => !(await skiff(['ps', '-a', '-q', '--no-trunc'], { store })).stdout.includes(id));
    assert.equal((await skiff(['create', '--name', 'rmd', image, 'true'], { store })).code, 0);
    assert.equal((await skiff(['rm', 'rmd'], { store })).code, 0);
    // renamed into the store's staging dir (skiff.trashDir), deleted there by the monitor's detached child
    const tmp = path.join(store.root, 'tmp');
    await until('the staging dir to be empty of the removal', () => !fs.readdirSync(tmp).some((n) => n.includes('-rm-')));
    assert.ok(!fs.existsSync(path.join(store.root, 'containers', id)));
  });

  test('a monitor killed with SIGKILL takes its container along: exited (-1), no process, no mount', async () => {
    await runD(['--name', 'victim', image, 'sleep', '300']);
    const j = await inspect('victim');
    assert.equal(j.State.Status, 'running');
    const mon = monitorPid(j.Id);
    assert.ok(alive(mon) && alive(j.State.Pid));
    process.kill(mon, 'SIGKILL');
    await until('the container to die with its monitor', () => !alive(j.State.Pid) && !alive(mon));
    const after = await inspect('victim');
    assert.equal(after.State.Status, 'exited');
    assert.equal(after.State.ExitCode, -1);
    assert.equal(after.State.Running, false);
    assert.deepEqual(storeProcesses(store).filter((p) => !p.includes(' inspect ')), []);
    assert.deepEqual(storeMounts(store), []);
  });


  test('SKIFF_TRACE_STARTUP=1: the shim prints its start phases (run -d and run --rm), nothing without it', async () => {
    const env = { SKIFF_TRACE_STARTUP: '1' };
    const phases = (stderr: string): Map<string, number> => {
      const lines = stderr.split('\n').filter((l) => l.startsWith('skiff-trace-shim '));
      assert.equal(lines.length, 1, stderr);
      const w = lines[0]!.split(' ').slice(1);
      const m = new Map<string, number>();
      for (let i = 0; i + 1 < w.length; i += 2) m.set(w[i]!, Number(w[i + 1]));
      return m;
    };
    const port = await freePort();
    for (const args of [['-d', '--name', 'traced', '-p', `127.0.0.1:${port}:80`, image, 'sleep', '300'], ['--rm', image, 'true']]) {
      const r = await skiff(['run', ...args], { store, env });
      assert.equal(r.code, 0, r.stderr);
      const p = phases(r.stderr);
      const want = ['loaded', 'cloned', 'mounted', 'go', 'exec', ...(isRootless() ? ['mapped'] : ['cgroups'])];
      for (const k of want) assert.ok(Number.isFinite(p.get(k)), `${k} in ${r.stderr}`);
      // what follows what (the shim's and the child's phases overlap): the child runs before it
      // mounts, GO is sent and the child has mounted before the shim sees it exec
      const at = (k: string): number => p.get(k)!;
      assert.ok(at('loaded') <= at('cloned') && at('cloned') <= at('mounted') && at('mounted') <= at('exec'), r.stderr);
      assert.ok(at('loaded') <= at('go') && at('go') <= at('exec'), r.stderr);
    }
    assert.equal((await skiff(['rm', '-f', 'traced'], { store })).code, 0);
    const quiet = await skiff(['run', '--rm', image, 'true'], { store });
    assert.equal(quiet.code, 0);
    assert.equal(quiet.stderr, '');
  });

  test('a child that fails while the shim sets its network up: one Error line, nothing left', async () => {
    // the child mounts its rootfs while the shim places it in its cgroups and sets the network up
    // (ports held, pasta rootless): a rootfs that cannot be mounted fails it there
    const snap = storeSnapshot(store);
    const port = await freePort();
    const c = await skiff(['create', '--name', 'nowork', '-p', `127.0.0.1:${port}:80`, image, 'sleep', '300'], { store });
    assert.equal(c.code, 0, c.stderr);
    const id = c.stdout.trim();
    fs.rmSync(path.join(store.root, 'containers', id, 'work'), { recursive: true });
    for (const verb of [['start', 'nowork'], ['start', '-a', 'nowork']]) {
      const r = await skiff(verb, { store });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /^Error: mount overlay rootfs: workdir \S+\/work: No such file or directory\n$/);
      assert.equal(await portFree(port), true, 'the host port is free again');
      assert.deepEqual(hostLinks([hostIfName(id, 0)]), [], 'no veth left');
      assert.deepEqual(storeMounts(store), []);
    }
    assert.equal((await skiff(['rm', 'nowork'], { store })).code, 0);
    assert.deepEqual(await leftSince(store, snap), {});
  });

  test('the monitor stays small (VmRSS of an idle detached container)', async () => {
    await runD(['--name', 'idle', image, 'sleep', '300']);
    const j = await inspect('idle');
    const mon = monitorPid(j.Id);
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${mon}/status`, 'utf8'))![1]);
    assert.ok(rss <= 1024, `monitor VmRSS ${rss} kB (goal: <= 1 MiB)`);
    assert.equal((await skiff(['rm', '-f', 'idle'], { store })).code, 0);
    assert.equal(alive(mon), false);
  });
});
