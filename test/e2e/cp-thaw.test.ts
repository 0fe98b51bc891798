/**
 * `cp` into a running container freezes it while it writes (issue 15): a `cp` ended by SIGTERM
 * thaws it before it dies, and one killed with SIGKILL leaves a freeze that the next command undoes
 * (state.c: the freeze's holder is gone). The freezer state is read from the host's cgroup files,
 * never through skiff (which would undo the freeze it looks at). Containers without a freezer
 * (rootless without a delegated cgroup) are not frozen by cp: skipped.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processes, skiff, SKIFF_BIN, storeWithImage, until, type TempStore } from '../helpers/fixtures.js';

/** The cgroup2 mount point of this host (hybrid: /sys/fs/cgroup/unified), or undefined. */
function v2Mount(): string | undefined {
  for (const l of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = l.split(' - ');
    if (post?.startsWith('cgroup2 ')) return pre!.split(' ')[4];
  }
  return undefined;
}

/** Whether the container whose init is `pid` is frozen, as skiff decides it (its own v2 group, else the v1 freezer). */
function frozenOnHost(pid: number, id: string): boolean {
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v2 = lines.find((l) => l.startsWith('0::') && l.includes(id))?.slice(3);
  const mnt = v2Mount();
  if (v2 !== undefined && mnt) return /^frozen 1$/m.test(fs.readFileSync(path.join(mnt, v2, 'cgroup.events'), 'utf8'));
  const fr = lines.map((l) => /^\d+:([^:]*\bfreezer\b[^:]*):(.*)$/.exec(l)).find(Boolean);
  assert.ok(fr, `no freezer group for ${pid}`);
  return fs.readFileSync(path.join('/sys/fs/cgroup/freezer', fr[2]!, 'freezer.state'), 'utf8').trim() === 'FROZEN';
}

describe('cp never leaves a container frozen', () => {
  let store: TempStore;
  let image: string;
  let src: string;
  let pid = 0;
  let id = '';
  let hasFreezer = false;
  const ok = async (args: string[]): Promise<string> => {
    const r = await skiff(args, { store });
    assert.equal(r.code, 0, `skiff ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    ({ store, image } = await storeWithImage('busybox'));
    id = (await ok(['run', '-d', '--network', 'none', '--name', 'frz', image, 'sleep', '600'])).trim();
    pid = Number(await ok(['inspect', '-f', '{{.State.Pid}}', 'frz']));
    hasFreezer = (await skiff(['pause', 'frz'], { store })).code === 0;
    if (hasFreezer) await ok(['unpause', 'frz']);
    // enough files that the copy is still going on when the test sees the freeze (seconds here)
    src = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-cp-thaw-'));
    for (let i = 0; i < 4000; i++) fs.writeFileSync(path.join(src, `f${i}`), `${i}\n`);
    fs.chmodSync(src, 0o755);
  });
  after(async () => {
    await skiff(['rm', '-f', 'frz'], { store });
    fs.rmSync(src, { recursive: true, force: true });
    await store.cleanup();
  });

  /** `skiff cp SRC frz:DEST` started, once the container is frozen: the CLI and its exit. */
  async function frozenCp(dest: string): Promise<{ cli: number; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }> {
    const child = spawn(SKIFF_BIN, ['cp', src, `frz:${dest}`], { env: { ...process.env, ...store.env }, stdio: 'ignore' });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    await until('the container frozen by cp', () => frozenOnHost(pid, id), 60_000);
    return { cli: child.pid!, exited };
  }

  test('SIGTERM: cp thaws the container before it dies of the signal', async (t) => {
    if (!hasFreezer) return t.skip('the container has no freezer (rootless without a delegated cgroup)');
    const { cli, exited } = await frozenCp('/tmp/a');
    process.kill(cli, 'SIGTERM');
    const r = await exited;
    assert.ok(r.signal === 'SIGTERM' || r.code === 143, `cp ended with ${r.code}/${r.signal}`);
    assert.equal(frozenOnHost(pid, id), false);
    assert.equal(await ok(['exec', 'frz', 'echo', 'alive']), 'alive\n');
  });

  test('SIGKILL: the freeze of a dead cp is undone by the next command (ps, inspect)', async (t) => {
    if (!hasFreezer) return t.skip('the container has no freezer (rootless without a delegated cgroup)');
    const { cli, exited } = await frozenCp('/tmp/b');
    // the process doing the copy: rootless, the CLI runs it again inside the user namespace (the innermost one)
    const mine = processes((c) => c.includes(` cp ${src} frz:/tmp/b`)).map((l) => Number(l.split(' ')[0]));
    const parentOf = (p: number): number => Number(fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    const inner = mine.find((p) => !mine.some((q) => q !== p && parentOf(q) === p)) ?? cli;
    process.kill(inner, 'SIGKILL');
    await exited;
    assert.equal(frozenOnHost(pid, id), true, 'the killed cp left the container frozen');
    assert.match(await ok(['ps', '--filter', 'name=frz', '--format', '{{.Status}}']), /^Up .*\n$/);
    assert.equal(frozenOnHost(pid, id), false);
    assert.equal(await ok(['inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'frz']), 'running false\n');
    assert.equal(await ok(['exec', 'frz', 'echo', 'alive']), 'alive\n');
  });
});
