/**
 * `run -it` and `exec -it` through a real terminal (test/helpers/terminal.ts: util-linux `script`
 * gives the CLI a pty as its controlling terminal). Checked: the container's own pty (/dev/pts/0,
 * as Docker and Podman show), the terminal size from the start and after a resize (SIGWINCH),
 * typed input echoed by the container's line discipline, Ctrl-C reaching the container's foreground
 * process (not the CLI), the exit code, the host terminal's mode restored, nothing left behind.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { leftSince, storeMounts, storeProcesses, storeProcessesSettled, storeSnapshot } from '../helpers/leftovers.js';
import { SKIFF_BIN, skiff, type TempStore, storeWithImage } from '../helpers/fixtures.js';
import { Terminal } from '../helpers/terminal.js';



describe('run -it and exec -it on a terminal', () => {
  let store: TempStore;
  let image: string;
  const terminals: Terminal[] = [];
  const term = (argv: string[], rows?: number, cols?: number): Terminal => {
    const t = new Terminal([SKIFF_BIN, ...argv], { env: store.env, ...(rows ? { rows } : {}), ...(cols ? { cols } : {}) });
    terminals.push(t);
    return t;
  };
  before(async () => {
    ({ store, image } = await storeWithImage());
  });
  after(async () => {
    for (const t of terminals) await t.close();
    await store.cleanup();
  });

  test('an interactive shell: its own pty, the terminal size, echo, exit code, terminal restored', async () => {
    const t = term(['run', '--rm', '-it', image, 'sh'], 24, 80);
    await t.waitFor(/# /);
    let from = t.output.length;
    // the container's line discipline echoes what is typed; "\x31" keeps the answer apart from the echo
    t.type('tty; stty size; printf "typed-\\x31\\n"\r');
    const m = await t.waitFor(/^(\/dev\/\S+)\n(\d+ \d+)\ntyped-1\n/m, from);
    assert.equal(m[1], '/dev/pts/0', 'a pty of the container\'s own devpts, as Docker and Podman give');
    assert.equal(m[2], '24 80', 'the size of the user\'s terminal');
    assert.match(t.output.slice(from), /tty; stty size; printf "typed-\\x31\\n"\n/, 'typed input is echoed');
    from = t.output.length;
    t.type('ls -l /dev/console | cut -c1-10; echo $TERM\r');
    await t.waitFor(/^crw--w----\nxterm\n/m, from);
    t.type('exit 7\r');
    const r = await t.exited;
    assert.equal(r.code, 7, t.output);
    const s = t.settings();
    assert.ok(s.before && s.after, t.output);
    assert.equal(s.after, s.before, 'the host terminal is back in the mode it had (not raw)');
  });

  test('a resize reaches the container (SIGWINCH) and Ctrl-C its foreground process, not the CLI', async () => {
    const script = 'trap "echo size \\$(stty size)" WINCH; trap "echo got INT; exit 3" INT; echo ready; while :; do sleep 1; done';
    const t = term(['run', '--rm', '-it', image, 'sh', '-c', script], 24, 80);
    await t.waitFor(/^ready$/m);
    await t.resize(30, 100);
    await t.waitFor(/^size 30 100$/m);
    await t.resize(40, 120);
    await t.waitFor(/^size 40 120$/m);
    t.type('\x03');
    await t.waitFor(/got INT$/m); // after the ^C the terminal echoes
    const r = await t.exited;
    assert.equal(r.code, 3, `the container's INT trap decided the exit code:\n${t.output}`);
    assert.equal(t.settings().after, t.settings().before);
  });

  test('exec -it: a pty in the running container, its size, a resize, the exec\'s exit code', async () => {
    const d = await skiff(['run', '-d', '--name', 'ttyexec', image, 'sleep', '600'], { store });
    assert.equal(d.code, 0, d.stderr);
    try {
      const t = term(['exec', '-it', 'ttyexec', 'sh'], 20, 70);
      await t.waitFor(/# /);
      let from = t.output.length;
      t.type('tty; stty size; echo $$\r');
      const m = await t.waitFor(/^(\/dev\/\S+)\n(\d+ \d+)\n(\d+)\n/m, from);
      assert.match(m[1]!, /^\/dev\/pts\/\d+$/);
      assert.equal(m[2], '20 70');
      assert.notEqual(m[3], '1', 'exec runs a new process next to the init');
      from = t.output.length;
      await t.resize(33, 99);
      t.type('stty size\r');
      await t.waitFor(/^33 99$/m, from);
      from = t.output.length;
      const nap = napCommand();
      t.type(`${nap}\r`);
      // the shell reads its line in a mode of its own and flushes input when it switches back: type
      // Ctrl-C once the command runs
      assert.ok(await waitUntil(async () => commandsRunning(nap) > 0), t.output);
      t.type('\x03');
      t.type('printf "rc \\x31 %s\\n" $?\r');
      await t.waitFor(/^rc 1 130$/m, from);
      t.type('exit 5\r');
      const r = await t.exited;
      assert.equal(r.code, 5, t.output);
      assert.equal(t.settings().after, t.settings().before);
      const ps = await skiff(['ps', '--format', '{{.Names}}'], { store });
      assert.equal(ps.stdout, 'ttyexec\n', 'the container outlives the exec');
    } finally {
      await skiff(['rm', '-f', 'ttyexec'], { store });
    }
  });

  test('exec -it detaches on ctrl-p ctrl-q (or --detach-keys): exit 0, the process runs on, a broken sequence is typed through', async () => {
    const d = await skiff(['run', '-d', '--name', 'ttydetach', image, 'sleep', '600'], { store });
    assert.equal(d.code, 0, d.stderr);
    const naps: string[] = [];
    try {
      for (const [flags, keys] of [[[], '\x10\x11'], [['--detach-keys', 'z,q'], 'zq']] as const) {
        const t = term(['exec', '-it', ...flags, 'ttydetach', 'sh']);
        await t.waitFor(/# /);
        let from = t.output.length;
        if (flags.length) {
          // a partial match is held back and sent once the sequence breaks
          t.type('echo zz1\r');
          await t.waitFor(/^zz1$/m, from);
          from = t.output.length;
        }
        const nap = napCommand();
        naps.push(nap);
        if (!flags.length) {
          t.type(`${nap}\r`);
          assert.ok(await waitUntil(async () => commandsRunning(nap) > 0), t.output);
        } else {
          // after the detach, 3 MB of output (more than a terminal holds) before the sleep: someone reads it
          t.type(`until [ -e /tmp/go ]; do sleep 0.1; done; yes | head -c 3000000; ${nap}\r`);
          await t.waitFor(/go \]; do/, from);
        }
        t.type(keys);
        const r = await t.exited;
        assert.equal(r.code, 0, t.output);
        assert.match(t.output.slice(from), /read escape sequence\n/);
        assert.equal(t.settings().after, t.settings().before);
        if (flags.length) assert.equal((await skiff(['exec', 'ttydetach', 'touch', '/tmp/go'], { store })).code, 0);
        assert.ok(await waitUntil(async () => commandsRunning(nap) === 1), 'the exec\'s process runs on');
      }
      const bad = term(['exec', '-it', 'ttydetach', 'no-such-command']);
      assert.equal((await bad.exited).code, 127, bad.output);
      assert.match(bad.output, /^Error: .*no-such-command.*$/m);
    } finally {
      await skiff(['rm', '-f', 'ttydetach'], { store });
    }
    assert.ok(await waitUntil(async () => naps.every((n) => commandsRunning(n) === 0)), 'the detached execs end with their container');
    assert.ok(await waitUntil(async () => storeProcesses(store).every((p) => !/ exec /.test(p))), 'no exec shim is left');
  });

  test('run -it, start -ai and attach detach on ctrl-p ctrl-q, --detach-keys or config.json\'s detachKeys; the container runs on', async () => {
    const inspectState = async (name: string): Promise<string> => (await skiff(['inspect', '-f', '{{.State.Status}}', name], { store })).stdout.trim();
    try {
      // run -it: Docker's run ends quietly with 0 on a detach
      const r = term(['run', '-it', '--name', 'rundet', image, 'sh']);
      await r.waitFor(/# /);
      r.type('echo mark-$((6*7))\r');
      await r.waitFor(/^mark-42$/m);
      let from = r.output.length;
      r.type('\x10\x11');
      assert.equal((await r.exited).code, 0, r.output);
      assert.doesNotMatch(r.output.slice(from), /escape/);
      assert.equal(r.settings().after, r.settings().before, 'the host terminal is restored');
      assert.equal(await inspectState('rundet'), 'running');
      // attach --detach-keys: the same shell; Docker's attach reports a detach as its error (1)
      const a = term(['attach', '--detach-keys', 'ctrl-a,x', 'rundet']);
      // (keys are typed once attach relays, after a line's answer: before raw mode, ctrl-q would be flow control)
      a.type('echo again-$((1+1))\r');
      await a.waitFor(/^again-2$/m);
      a.type('\x01x');
      assert.equal((await a.exited).code, 1, a.output);
      assert.match(a.output, /read escape sequence\n/);
      assert.equal(await inspectState('rundet'), 'running');
      // config.json's detachKeys, for attach and start -ai; the default sequence is then typed through
      fs.mkdirSync(store.env.DOCKER_CONFIG!, { recursive: true });
      fs.writeFileSync(`${store.env.DOCKER_CONFIG}/config.json`, JSON.stringify({ detachKeys: 'ctrl-e,e' }));
      const c = term(['attach', 'rundet']);
      c.type('echo cfg-$((2+2))\r');
      await c.waitFor(/^cfg-4$/m);
      c.type('\x05e');
      assert.equal((await c.exited).code, 1, c.output);
      const e = term(['attach', 'rundet']);
      e.type('exit 5\r');
      assert.equal((await e.exited).code, 5, e.output);
      assert.equal(await inspectState('rundet'), 'exited');
      // start -ai: the container's shell again, detached with config.json's keys (quietly, 0)
      const s = term(['start', '-ai', 'rundet']);
      await s.waitFor(/# /);
      s.type('echo st-$((2+3))\r');
      await s.waitFor(/^st-5$/m);
      from = s.output.length;
      s.type('\x05e');
      assert.equal((await s.exited).code, 0, s.output);
      assert.doesNotMatch(s.output.slice(from), /escape/);
      assert.equal(await inspectState('rundet'), 'running');
      fs.rmSync(`${store.env.DOCKER_CONFIG}/config.json`);
      // run -it --detach-keys: a partial match is held back, then typed through when the sequence breaks
      const k = term(['run', '-it', '--rm', '--detach-keys', 'z,q', '--name', 'rundet2', image, 'sh']);
      await k.waitFor(/# /);
      k.type('echo zz1\r');
      await k.waitFor(/^zz1$/m);
      k.type('zq');
      assert.equal((await k.exited).code, 0, k.output);
      assert.equal(await inspectState('rundet2'), 'running');
      // bad keys: Docker's words, nothing made
      const snap = storeSnapshot(store);
      const bad = term(['run', '-it', '--rm', '--detach-keys', 'ctrl-1', image, 'sh']);
      assert.equal((await bad.exited).code, 125, bad.output);
      assert.match(bad.output, /^Error: Invalid detach keys \(ctrl-1\) provided$/m);
      assert.deepEqual(await leftSince(store, snap), {});
    } finally {
      await skiff(['rm', '-f', 'rundet', 'rundet2'], { store });
    }
  });

  test('--init on a terminal: the command is the foreground process group (job control, Ctrl-C)', async () => {
    const t = term(['run', '--rm', '-it', '--init', image, 'sh']);
    await t.waitFor(/# /);
    let from = t.output.length;
    t.type('tty; ps -o pid,stat,args | grep -c "^ *[0-9]* T"\r');
    // a shell outside the foreground group would be stopped (T) by SIGTTIN and print nothing
    await t.waitFor(/^\/dev\/pts\/0\n0\n/m, from);
    from = t.output.length;
    const nap = napCommand();
    t.type(`${nap}\r`);
    assert.ok(await waitUntil(async () => commandsRunning(nap) > 0), t.output);
    t.type('\x03');
    t.type('printf "rc \\x31 %s\\n" $?\r');
    await t.waitFor(/^rc 1 130$/m, from);
    t.type('exit 6\r');
    assert.equal((await t.exited).code, 6, t.output);
    assert.equal(t.settings().after, t.settings().before);
  });

  test('a container killed under -it: exit 137 and the host terminal restored', async () => {
    const t = term(['run', '--rm', '-it', '--name', 'ttykill', image, 'sh']);
    await t.waitFor(/# /);
    const k = await skiff(['kill', 'ttykill'], { store });
    assert.equal(k.code, 0, k.stderr);
    const r = await t.exited;
    assert.equal(r.code, 137, t.output);
    assert.equal(t.settings().after, t.settings().before);
  });

  test('the terminal of an exec -it goes away: the exec ends, the container stays', async () => {
    const d = await skiff(['run', '-d', '--name', 'ttyhup', image, 'sleep', '600'], { store });
    assert.equal(d.code, 0, d.stderr);
    try {
      const t = term(['exec', '-it', 'ttyhup', 'sh']);
      await t.waitFor(/# /);
      t.type('echo st""arted\r');
      await t.waitFor(/^started$/m);
      await t.hangup();
      const inside = async (): Promise<string[]> => (await skiff(['exec', 'ttyhup', 'ps', '-o', 'args'], { store })).stdout.trim().split('\n').slice(1);
      assert.ok(await waitUntil(async () => !(await inside()).includes('sh')), `the exec's shell ended: ${(await inside()).join(' | ')}`);
      assert.deepEqual((await inside()).filter((l) => l !== 'ps -o args'), ['sleep 600']);
      assert.deepEqual(storeProcesses(store).filter((p) => / exec /.test(p)), [], 'no exec shim is left');
    } finally {
      await skiff(['rm', '-f', 'ttyhup'], { store });
    }
  });

  test('-it without a terminal on stdin is refused up front by run and exec (Docker: the input device is not a TTY, exit 1)', async () => {
    const snap = storeSnapshot(store);
    for (const flags of [['-it'], ['-i', '-t'], ['--interactive', '--tty']]) {
      // stdin is a pipe here (skiff() closes it at once): a shell on the pty would read nothing for ever
      const r = await skiff(['run', '--rm', ...flags, image, 'sh'], { store });
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stderr, 'Error: the input device is not a TTY\n');
      assert.deepEqual(await leftSince(store, snap), {});
    }
    // what Docker takes: -t alone (no stdin to attach), -i alone, and -dit (nothing attached here)
    const t = await skiff(['run', '--rm', '-t', image, 'echo', 'tty'], { store });
    assert.equal(t.code, 0, t.stderr);
    assert.equal(t.stdout, 'tty\r\n');
    const i = await skiff(['run', '--rm', '-i', image, 'cat'], { store, input: 'piped\n' });
    assert.equal(i.stdout, 'piped\n', i.stderr);
    const d = await skiff(['run', '-dit', '--rm', '--name', 'dit', image, 'sh'], { store });
    assert.equal(d.code, 0, d.stderr);
    // exec -it too (Docker's exec checks the same)
    const e = await skiff(['exec', '-it', 'dit', 'sh'], { store });
    assert.equal(e.code, 1, e.stderr);
    assert.equal(e.stderr, 'Error: the input device is not a TTY\n');
    assert.equal((await skiff(['exec', '-i', 'dit', 'cat'], { store, input: 'x\n' })).stdout, 'x\n');
    assert.equal((await skiff(['rm', '-f', 'dit'], { store })).code, 0);
    // (an exec's process file stays in staging under its pid, as designed, until a later sweep)
    const left = await leftSince(store, { ...snap, staging: [...snap.staging, ...storeSnapshot(store).staging.filter((n) => /^\d+-exec-/.test(n))] });
    assert.deepEqual(left, {});
  });

  test('nothing is left behind after -it: a normal exit, and a terminal that goes away', async () => {
    const before = storeMounts(store);
    const t = term(['run', '--rm', '-it', image, 'sh', '-c', 'echo ok']);
    await t.waitFor(/^ok$/m);
    assert.equal((await t.exited).code, 0);
    assert.deepEqual(storeMounts(store), before);
    assert.deepEqual(await storeProcessesSettled(store), []);
    // the terminal (emulator) dies: the pty is hung up under the CLI and the container
    const h = term(['run', '--rm', '-it', '--name', 'hangup', image, 'sh']);
    await h.waitFor(/# /);
    // output still coming when the terminal goes: its write fails (EIO) under the CLI, maybe before the SIGHUP
    h.type('echo st""arted; echo a; echo b; echo c\r');
    await h.waitFor(/^started$/m);
    await h.hangup();
    const gone = await waitUntil(async () => (await skiff(['ps', '-a', '-q', '--filter', 'name=hangup'], { store })).stdout === '');
    assert.ok(gone, `the --rm container of a hung-up terminal is removed: ${JSON.stringify(storeProcesses(store))}`);
    assert.deepEqual(storeMounts(store), before);
    assert.deepEqual(await storeProcessesSettled(store), []);
  });
});

/** How many processes run exactly this command line. */
/**
 * A sleep whose command line no other run on the machine has (another suite running at the same time
 * would otherwise have "the command runs" seen through its own, and Ctrl-C typed too early).
 */
function napCommand(): string {
  return `sleep ${1000 + crypto.randomInt(100000)}`;
}

/** Processes on the machine whose command line is exactly `cmd`. */
function commandsRunning(cmd: string): number {
  let n = 0;
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (fs.readFileSync(`/proc/${p}/cmdline`, 'utf8') === `${cmd.split(' ').join('\0')}\0`) n++;
    } catch {
      /* gone */
    }
  }
  return n;
}

/** Polls cond every 100 ms for up to 20 s (the container's end is asynchronous to the terminal's). */
async function waitUntil(cond: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
