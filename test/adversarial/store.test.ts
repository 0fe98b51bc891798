/**
 * The store against trees and paths it did not expect: staging left by a killed command that no
 * ordinary rm -rf could remove (deeper than PATH_MAX, unreadable and unwritable directories,
 * immutable and append-only files, a mount point), a container whose files are 1500 levels deep and
 * owned by its (mapped) root, and store paths that are no directory at all (`--root /dev/null`).
 * The next pull sweeps what it can and says in one line what it cannot, `system reset` removes
 * everything it should and nothing it should not, and every mistake is one `Error:` line, exit 125.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtures, isRootless, skiff, tempStore, type TempStore } from '../helpers/fixtures.js';
import { guard, oneError, stillWorks, storeState, type Outside } from './check.js';

const rootOnly = isRootless() ? 'needs root (chattr, mount)' : false;
/** A pid no process has (pid_max is at most 2^22): its staging is a leftover. */
const DEAD = 99999999;

/**
 * What a killed command may leave in tmp/ (`name`): `depth` directories deep (built by relative
 * steps: its full path is longer than PATH_MAX), a directory nobody may read or write at the
 * bottom, one that is read-only above it, and (root) an immutable and an append-only file.
 */
function plantTree(dir: string, depth: number, attrs: boolean): void {
  fs.mkdirSync(dir, { recursive: true });
  const here = process.cwd();
  process.chdir(dir);
  try {
    for (let i = 0; i < depth; i++) {
      fs.mkdirSync('d');
      process.chdir('d');
    }
    fs.mkdirSync('locked');
    fs.writeFileSync('locked/file', 'x');
    fs.chmodSync('locked', 0o000);
    fs.writeFileSync('file', 'x');
    process.chdir('..');
    fs.chmodSync('d', 0o500);
  } finally {
    process.chdir(here);
  }
  if (attrs) {
    for (const [f, flag] of [['immutable', '+i'], ['append-only', '+a']] as const) {
      fs.writeFileSync(path.join(dir, f), 'x');
      const r = spawnSync('chattr', [flag, path.join(dir, f)], { encoding: 'utf8' });
      assert.equal(r.status, 0, `chattr ${flag}: ${r.stderr}`);
    }
  }
}

describe('the store against trees no rm -rf removes', () => {
  let store: TempStore;
  let out: Outside;
  const busybox = fixtures().images.busybox.ref;

  before(async () => {
    store = await tempStore();
    assert.equal((await skiff(['pull', '-q', busybox], { store })).code, 0);
    out = guard(store);
  });
  after(async () => {
    await store.cleanup();
  });

  test('the next pull sweeps staging 1500 levels deep, unreadable, unwritable and (root) immutable', async () => {
    plantTree(path.join(store.root, 'tmp', `${DEAD}-layer-0badc0de`), 1500, !isRootless());
    const r = await skiff(['pull', '-q', busybox], { store });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.deepEqual(storeState(store).tmp, []);
    out.unchanged('sweep');
  });

  test('what the sweep cannot remove (a mount point) is one warning line; the pull goes on', { skip: rootOnly }, async () => {
    const left = path.join(store.root, 'tmp', `${DEAD}-layer-0mounted`);
    fs.mkdirSync(path.join(left, 'mnt'), { recursive: true });
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', path.join(left, 'mnt')]).status, 0);
    fs.writeFileSync(path.join(left, 'mnt', 'kept'), 'on another filesystem');
    try {
      const r = await skiff(['pull', '-q', busybox], { store });
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stderr.split('\n').filter((l) => l);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /^Warning: a leftover of an earlier command stays in the store: cannot remove .*-layer-0mounted\/mnt: it is a mount point \(another filesystem\): unmount it first$/);
      assert.equal(fs.readFileSync(path.join(left, 'mnt', 'kept'), 'utf8'), 'on another filesystem', 'the remover crossed into the mount');
    } finally {
      spawnSync('umount', [path.join(left, 'mnt')]);
    }
    assert.equal((await skiff(['pull', '-q', busybox], { store })).code, 0);
    assert.deepEqual(storeState(store).tmp, []);
  });

  test('a container whose files are 1500 levels deep and unwritable goes with rm, and the store still works', async () => {
    const script = 'cd /tmp && i=0 && while [ $i -lt 1500 ]; do mkdir d && cd d; i=$((i+1)); done && echo deep > f && chmod 0 . && echo made';
    const run = await skiff(['run', '--name', 'adv-deep', busybox, 'sh', '-c', script], { store });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'made\n');
    const rm = await skiff(['rm', 'adv-deep'], { store });
    assert.equal(rm.code, 0, rm.stderr);
    assert.deepEqual(storeState(store).tmp, []);
    await stillWorks(store);
    out.unchanged('container');
  });

  test('system reset removes such trees (and a deep container) and leaves nothing outside', async () => {
    plantTree(path.join(store.root, 'tmp', `${DEAD}-rm-ctr-0`), 1500, !isRootless());
    plantTree(path.join(store.root, 'volumes', 'deep', '_data'), 1200, false);
    const script = 'cd /tmp && i=0 && while [ $i -lt 1500 ]; do mkdir d && cd d; i=$((i+1)); done && touch f';
    assert.equal((await skiff(['run', '--name', 'adv-deep2', busybox, 'sh', '-c', script], { store })).code, 0);
    const r = await skiff(['system', 'reset', '--force'], { store });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.ok(!fs.existsSync(store.root), `${store.root} is still there: ${fs.existsSync(store.root) ? fs.readdirSync(store.root).join(' ') : ''}`);
    out.unchanged('reset');
  });
});

describe('store paths that are no store', () => {
  let work: string;
  let store: TempStore;
  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-adv-root-'));
    store = await tempStore();
  });
  after(async () => {
    fs.rmSync(work, { recursive: true, force: true });
    await store.cleanup();
  });
  const nullBefore = fs.statSync('/dev/null');
  const busybox = fixtures().images.busybox.ref;

  const cases: [string, (w: string) => string[], RegExp][] = [
    ['--root /dev/null, images', () => ['--root', '/dev/null', 'images'], /^Error: cannot use \/dev\/null as the store \(--root, SKIFF_ROOT\): not a directory$/],
    ['--root /dev/null, pull', () => ['--root', '/dev/null', 'pull', busybox], /^Error: pull .*: cannot use \/dev\/null as the store \(--root, SKIFF_ROOT\): not a directory$/],
    ['--root /dev/null, run', () => ['--root', '/dev/null', 'run', '--rm', busybox, 'true'], /^Error: cannot use \/dev\/null as the store \(--root, SKIFF_ROOT\): not a directory$/],
    ['--root /dev/null, system reset', () => ['--root', '/dev/null', 'system', 'reset', '-f'], /^Error: cannot reset \/dev\/null: it is not a directory$/],
    ['--root below a file', (w) => ['--root', `${w}/file/store`, 'images'], /^Error: cannot use .*\/file\/store as the store \(--root, SKIFF_ROOT\) \(at .*\/file\): not a directory$/],
    ['--root under /sys', () => ['--root', '/sys/skiff-store', 'images'], /^Error: cannot use \/sys\/skiff-store as the store \(--root, SKIFF_ROOT\): (operation not permitted|read-only file system|permission denied)$/],
    ['--root under /proc', () => ['--root', '/proc/skiff-store', 'images'], /^Error: cannot use \/proc\/skiff-store as the store \(--root, SKIFF_ROOT\): no such file or directory$/],
    ['--runroot /dev/null', () => ['--runroot', '/dev/null', 'ps', '--format', '{{.ID}}'], /^Error: cannot use \/dev\/null as the runtime directory \(--runroot, SKIFF_RUNROOT\): not a directory$/],
    ['system reset of a directory that is no store', (w) => ['--root', `${w}/mine`, 'system', 'reset', '-f'], /^Error: cannot reset .*\/mine: it does not look like a skiff store \(none of blobs, layers, images, locks in it\); nothing was removed$/],
    ['save -o into a missing directory', (w) => ['save', '-o', `${w}/missing/x.tar`, busybox], /^Error: failed to save image: invalid output path: directory ".*\/missing" does not exist$/],
    ['save -o /dev/null', () => ['save', '-o', '/dev/null', busybox], /^Error: failed to save image: invalid output path: "\/dev\/null" must be a regular file: it is a device$/],
    ['save -o a directory', (w) => ['save', '-o', w, busybox], /^Error: failed to save image: invalid output path: ".*" must be a regular file: it is a directory$/],
  ];
  for (const [name, args, re] of cases) {
    test(name, async () => {
      fs.writeFileSync(path.join(work, 'file'), 'a file');
      fs.mkdirSync(path.join(work, 'mine'), { recursive: true });
      fs.writeFileSync(path.join(work, 'mine', 'precious'), 'mine');
      if (name.startsWith('save')) assert.equal((await skiff(['pull', '-q', busybox], { store })).code, 0);
      const r = await skiff(args(work), { store });
      oneError(r, re, name);
      assert.equal(fs.readFileSync(path.join(work, 'mine', 'precious'), 'utf8'), 'mine');
      assert.deepEqual(fs.readdirSync(work).sort(), ['file', 'mine']);
      const now = fs.statSync('/dev/null');
      assert.ok(now.isCharacterDevice() && now.rdev === nullBefore.rdev, '/dev/null was replaced');
    });
  }
});
