/**
 * `run`, `create`/`start`, `exec`, `ps`, `rm`, `inspect` through the CLI binary, on the real kernel,
 * with the busybox image made by umoci from Debian's busybox-static (test fixtures).
 * Runs as root (rootful) and, in CI's second pass, as an unprivileged user (SKIFF_TEST_ROOTLESS=1).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { processes, skiff, type TempStore, storeWithImage } from '../helpers/fixtures.js';
import { storeMounts } from '../helpers/leftovers.js';

const rootless = process.env.SKIFF_TEST_ROOTLESS === '1';

/** The shim's processes (the tests keep those of their own store). */
const shimProcesses = (): string[] => processes((c) => c.startsWith('skiff-shim') || c.includes('/skiff-shim'));

describe('run', () => {
  let store: TempStore;
  let image: string;
  before(async () => {
    ({ store, image } = await storeWithImage());
  });
  after(async () => store.cleanup());

  test('echo prints and exits 0', async () => {
    const r = await skiff(['run', '--rm', image, 'echo', 'hi'], { store });
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'hi\n');
    assert.equal(r.code, 0);
  });

  test('--rm: the container is gone when run returns, its name free; its files are deleted after', async () => {
    const r = await skiff(['run', '--rm', '--name', 'gone', image, 'sh', '-c', 'echo data > /keep; echo ok'], { store });
    assert.equal(r.stdout, 'ok\n', r.stderr);
    const ps = await skiff(['ps', '-a', '--format', '{{.Names}}'], { store });
    assert.ok(!ps.stdout.split('\n').includes('gone'), ps.stdout);
    assert.equal((await skiff(['run', '--rm', '--name', 'gone', image, 'true'], { store })).code, 0);
    // the detached deleter (inside the user namespace when rootless) leaves nothing in the staging dir
    const tmp = path.join(store.root, 'tmp');
    let left: string[] = [];
    for (let i = 0; i < 100; i++) {
      left = fs.readdirSync(tmp).filter((n) => n.includes('-rm-'));
      if (!left.length) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.deepEqual(left, []);
  });

  test('the container command keeps its own flags', async () => {
    const r = await skiff(['run', '--rm', '-e', 'A=1', image, 'sh', '-c', 'echo $A-$0', 'x'], { store });
    assert.equal(r.stdout, '1-x\n', r.stderr);
  });

  test('exit codes pass through; 127 and 126 like Docker', async () => {
    assert.equal((await skiff(['run', '--rm', image, 'sh', '-c', 'exit 3'], { store })).code, 3);
    const nf = await skiff(['run', '--rm', image, 'no-such-command'], { store });
    assert.equal(nf.code, 127);
    assert.match(nf.stderr, /no-such-command/);
    const ni = await skiff(['run', '--rm', image, '/etc/passwd'], { store });
    assert.equal(ni.code, 126);
    // PID 1 ignores signals it has no handler for (even SIGKILL from inside): use --init to be PID 2
    const killed = await skiff(['run', '--rm', '--init', image, 'sh', '-c', 'kill -9 $$'], { store });
    assert.equal(killed.code, 137);
  });

  test('stdin passes through with -i', async () => {
    const r = await skiff(['run', '--rm', '-i', image, 'tr', 'a-z', 'A-Z'], { store, input: 'hello\n' });
    assert.equal(r.stdout, 'HELLO\n', r.stderr);
  });

  test('the container sees its own pid namespace, hostname and, with --network none, a loopback-only network', async () => {
    const r = await skiff(['run', '--rm', '--network', 'none', '--hostname', 'box1', image, 'sh', '-c', 'echo $$; hostname; cat /etc/hostname; ls /sys/class/net'], { store });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['1', 'box1', 'box1', 'lo']);
  });

  test('default hostname is the first 12 hex of the id', async () => {
    const c = await skiff(['create', image, 'hostname'], { store });
    assert.equal(c.code, 0, c.stderr);
    const id = c.stdout.trim();
    const s = await skiff(['start', '-a', id], { store });
    assert.equal(s.stdout.trim(), id.slice(0, 12), s.stderr);
    assert.equal((await skiff(['rm', id], { store })).code, 0);
  });

  test('security defaults match Podman: capabilities, seccomp, masked paths', async () => {
    const masked = 'for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do [ -e $p ] && echo "$p $(cat $p | wc -c)"; done; true';
    const r = await skiff(['run', '--rm', image, 'sh', '-c', `grep -E "^(CapEff|CapBnd|Seccomp|NoNewPrivs):" /proc/self/status; ${masked}`], { store });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /CapEff:\s+00000000800405fb/);
    assert.match(r.stdout, /CapBnd:\s+00000000800405fb/);
    assert.match(r.stdout, /Seccomp:\s+2/);
    assert.match(r.stdout, /NoNewPrivs:\s+0/);
    for (const line of r.stdout.split('\n').filter((l) => l.startsWith('/proc/'))) assert.match(line, / 0$/, `${line} is masked`);
    const nnp = await skiff(['run', '--rm', '--security-opt', 'no-new-privileges', '--cap-drop', 'all', image, 'grep', '-E', '^(CapEff|NoNewPrivs):', '/proc/self/status'], { store });
    assert.match(nnp.stdout, /CapEff:\s+0000000000000000/);
    assert.match(nnp.stdout, /NoNewPrivs:\s+1/);
    const unconfined = await skiff(['run', '--rm', '--security-opt', 'seccomp=unconfined', image, 'grep', '^Seccomp:', '/proc/self/status'], { store });
    assert.match(unconfined.stdout, /Seccomp:\s+0/);
    const priv = await skiff(['run', '--rm', '--privileged', image, 'grep', '^CapEff:', '/proc/self/status'], { store });
    // rootful: every capability the host has; rootless: every capability of the user namespace
    const lastCap = Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
    const hostBnd = rootless
      ? ((1n << BigInt(lastCap + 1)) - 1n).toString(16).padStart(16, '0')
      : /CapBnd:\s+(\w+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]!;
    assert.match(priv.stdout, new RegExp(`CapEff:\\s+${hostBnd}`), 'privileged gets every capability the host has');
  });

  test('-u resolves names from the image passwd, -w sets the cwd, env and workdir from flags', async () => {
    const r = await skiff(['run', '--rm', '-u', 'app', '-w', '/tmp/work', '--env-file', '/dev/null', image, 'sh', '-c', 'id -u; id -g; pwd'], { store });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['1000', '1000', '/tmp/work']);
    const bad = await skiff(['run', '--rm', '-u', 'nosuchuser', image, 'true'], { store });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /^Error: .*nosuchuser/m);
  });

  test('bind mounts, read-only binds and --read-only rootfs', async () => {
    const dir = fs.mkdtempSync('/tmp/skiff-bind-');
    fs.chmodSync(dir, 0o777);
    fs.writeFileSync(`${dir}/in`, 'from-host\n');
    const r = await skiff(['run', '--rm', '-v', `${dir}:/data`, image, 'sh', '-c', 'cat /data/in; echo out > /data/out'], { store });
    assert.equal(r.stdout, 'from-host\n', r.stderr);
    assert.equal(fs.readFileSync(`${dir}/out`, 'utf8'), 'out\n');
    const ro = await skiff(['run', '--rm', '-v', `${dir}:/data:ro`, image, 'sh', '-c', 'echo x > /data/y'], { store });
    assert.notEqual(ro.code, 0);
    const rofs = await skiff(['run', '--rm', '--read-only', image, 'sh', '-c', 'touch /x'], { store });
    assert.notEqual(rofs.code, 0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('--entrypoint resets the image CMD; --init reaps and forwards', async () => {
    const r = await skiff(['run', '--rm', '--entrypoint', 'echo', image], { store });
    assert.equal(r.stdout, '\n', r.stderr);
    const init = await skiff(['run', '--rm', '--init', image, 'sh', '-c', 'echo $PPID; exit 4'], { store });
    assert.equal(init.code, 4, init.stderr);
    assert.equal(init.stdout.trim(), '1');
  });

  test('ps, inspect and rm of a stopped container; names are unique', async () => {
    const r = await skiff(['run', '--name', 'keepme', image, 'sh', '-c', 'exit 2'], { store });
    assert.equal(r.code, 2);
    const ps = await skiff(['ps', '-a', '--format', '{{.Names}} {{.Status}}'], { store });
    assert.match(ps.stdout, /^keepme Exited \(2\)/m, ps.stdout);
    const running = await skiff(['ps', '-q'], { store });
    assert.equal(running.stdout, '');
    const insp = await skiff(['container', 'inspect', 'keepme'], { store });
    const j = JSON.parse(insp.stdout) as { Name: string; State: { Status: string; ExitCode: number }; Config: { Cmd: string[] } }[];
    assert.equal(j[0]!.Name, '/keepme');
    assert.equal(j[0]!.State.Status, 'exited');
    assert.equal(j[0]!.State.ExitCode, 2);
    const dup = await skiff(['run', '--name', 'keepme', image, 'true'], { store });
    assert.equal(dup.code, 125);
    assert.match(dup.stderr, /^Error: .*already in use/m);
    assert.equal((await skiff(['rm', 'keepme'], { store })).stdout, 'keepme\n');
    const gone = await skiff(['rm', 'keepme'], { store });
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, 'Error: No such container: keepme\n');
  });

  test('exec joins a running container; rm refuses it until -f', async () => {
    const d = await skiff(['run', '-d', '--name', 'sleeper', image, 'sleep', '60'], { store });
    assert.equal(d.code, 0, d.stderr);
    const e = await skiff(['exec', '-e', 'X=7', 'sleeper', 'sh', '-c', 'echo $X; hostname; cat /proc/1/cmdline | tr "\\0" " "'], { store });
    assert.equal(e.code, 0, e.stderr);
    const [x, host, cmd] = e.stdout.trim().split('\n');
    assert.equal(x, '7');
    assert.equal(host, d.stdout.trim().slice(0, 12));
    assert.equal(cmd!.trim(), 'sleep 60');
    assert.equal((await skiff(['exec', 'sleeper', 'sh', '-c', 'exit 5'], { store })).code, 5);
    const ps = await skiff(['ps', '--format', '{{.Names}}'], { store });
    assert.equal(ps.stdout, 'sleeper\n');
    const rm = await skiff(['rm', 'sleeper'], { store });
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /container is running/);
    assert.equal((await skiff(['rm', '-f', 'sleeper'], { store })).code, 0);
    assert.equal(shimProcesses().filter((p) => p.includes(store.root)).length, 0);
  });

  test('nothing is left behind: no mount and no process, even when the CLI is killed', async () => {
    const before = storeMounts(store);
    await skiff(['run', '--rm', image, 'true'], { store });
    assert.deepEqual(storeMounts(store), before);
    // a duration of our own: other test runs on this machine sleep too
    const nap = String(31 + (process.pid % 997));
    const r = await skiff(['run', '--rm', '--name', 'victim', image, 'sleep', nap], { store, killAfterMs: 1500 });
    assert.equal(r.signal, 'SIGKILL');
    await new Promise((res) => setTimeout(res, 500));
    assert.deepEqual(storeMounts(store), before);
    const left = execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l === `sleep ${nap}`);
    assert.deepEqual(left, []);
  });

  test('errors: unknown image, bad flag value', async () => {
    const r = await skiff(['run', '--rm', '--pull', 'never', 'nosuchimage:1', 'true'], { store });
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^Error: .*nosuchimage/m);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  test('rootless mode maps root to the invoking user', { skip: !rootless }, async () => {
    const r = await skiff(['run', '--rm', image, 'cat', '/proc/self/uid_map'], { store });
    const uid = process.getuid!();
    assert.match(r.stdout, new RegExp(`^\\s*0\\s+${uid}\\s+1$`, 'm'), r.stdout + r.stderr);
  });
});
