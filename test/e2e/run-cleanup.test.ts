/**
 * After a run that fails to start — a refused option, a mount the shim cannot make, a missing
 * command — no mount (overlay or other), no process and, with --rm, no container is left behind;
 * the user sees one `Error:` line and Docker's exit code. (A normal run and a killed CLI:
 * run.test.ts; a terminal that goes away: tty.test.ts.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { leftSince, storeMounts, storeProcessesSettled, storeSnapshot } from '../helpers/leftovers.js';
import { skiff, type TempStore, storeWithImage, until } from '../helpers/fixtures.js';



describe('failed starts leave nothing behind', () => {
  let store: TempStore;
  let image: string;
  before(async () => {
    ({ store, image } = await storeWithImage());
  });
  after(async () => store.cleanup());

  const containers = (): string[] => {
    const d = path.join(store.root, 'containers');
    // container directories (64 hex), not the names index beside them
    return fs.existsSync(d) ? fs.readdirSync(d).filter((n) => /^[0-9a-f]{64}$/.test(n)).sort() : [];
  };

  const cases: [string, string[], number, RegExp][] = [
    // -v makes a missing source (Docker's daemon), unless it cannot
    ['a -v bind source that cannot be made', ['-v', '/proc/skiff-nonexistent/src:/x'], 125, /^Error: error while creating mount source path '\/proc\/skiff-nonexistent\/src': mkdir \/proc\/skiff-nonexistent: no such file or directory$/],
    ['a --mount bind source that does not exist', ['--mount', 'type=bind,src=/nonexistent-skiff-src,dst=/x'], 125, /^Error: .*\/nonexistent-skiff-src$/],
    ['a tmpfs the kernel refuses (the shim fails after the overlay is mounted)', ['--tmpfs', '/x:size=bogus'], 125, /^Error: mount tmpfs on \/x: Invalid argument$/],
    ['a bind of a file onto a directory', ['--mount', 'type=bind,src=/etc/hostname,dst=/bin'], 125, /^Error: .*\/bin.*$/],
    ['a working directory below a file', ['-w', '/etc/passwd/sub'], 125, /^Error: .*\/etc\/passwd\/sub.*$/],
  ];
  for (const [name, flags, code, msg] of cases) {
    test(`${name}: ${code}, one line, nothing left`, async () => {
      const mounts = storeMounts(store);
      const before = containers();
      const r = await skiff(['run', '--rm', ...flags, image, 'true'], { store });
      assert.equal(r.code, code, r.stderr);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.match(r.stderr.trimEnd(), msg);
      assert.deepEqual(storeMounts(store), mounts, 'no mount is left on the host');
      assert.deepEqual(await storeProcessesSettled(store), []);
      assert.deepEqual(containers(), before, 'the --rm container is gone');
    });
  }

  test('a missing command: 127; with --rm nothing is left, without it the container stays Exited (127)', async () => {
    const mounts = storeMounts(store);
    const before = containers();
    const r = await skiff(['run', '--rm', image, 'no-such-command-skiff'], { store });
    assert.equal(r.code, 127);
    assert.match(r.stderr, /no-such-command-skiff/);
    assert.deepEqual(storeMounts(store), mounts);
    assert.deepEqual(await storeProcessesSettled(store), []);
    assert.deepEqual(containers(), before);
    const kept = await skiff(['run', '--name', 'failkeep', image, 'no-such-command-skiff'], { store });
    assert.equal(kept.code, 127);
    assert.deepEqual(storeMounts(store), mounts);
    assert.deepEqual(await storeProcessesSettled(store), []);
    const ps = await skiff(['ps', '-a', '--filter', 'name=failkeep', '--format', '{{.Status}}'], { store });
    assert.match(ps.stdout, /^Exited \(127\)/, ps.stdout + ps.stderr);
    assert.equal((await skiff(['rm', 'failkeep'], { store })).code, 0);
    assert.deepEqual(containers(), before);
  });

  const names = (): string[] => {
    const d = path.join(store.root, 'containers', 'names');
    return fs.existsSync(d) ? fs.readdirSync(d).sort() : [];
  };

  test('a failed --rm run leaves no name link, record, volume, cgroup or staging either', async () => {
    const snap = storeSnapshot(store);
    for (const flags of [['--tmpfs', '/x:size=bogus'], ['-v', '/anon', '--tmpfs', '/x:size=bogus'], ['-w', '/etc/passwd/sub']]) {
      for (const detach of [[], ['-d']]) {
        const r = await skiff(['run', '--rm', ...detach, '--name', 'failing', ...flags, image, 'true'], { store });
        assert.equal(r.code, 125, r.stderr);
        assert.deepEqual(await leftSince(store, snap), {}, `${detach.join('')} ${flags.join(' ')}`);
      }
    }
    const missing = await skiff(['run', '--rm', '--name', 'failing', image, 'no-such-command-skiff'], { store });
    assert.equal(missing.code, 127);
    assert.deepEqual(await leftSince(store, snap), {});
  });

  test('every --rm run takes its name link with it (foreground and detached); nothing accumulates', async () => {
    const snap = storeSnapshot(store);
    for (let i = 0; i < 10; i++) {
      const r = await skiff(['run', '--rm', ...(i % 2 ? ['--name', `rmname${i}`] : []), image, 'true'], { store });
      assert.equal(r.code, 0, r.stderr);
      // gone when run returns (the shim removes it before it exits)
      assert.deepEqual(names(), snap.names, `after run ${i}`);
    }
    for (let i = 0; i < 5; i++) {
      const r = await skiff(['run', '-d', '--rm', ...(i % 2 ? ['--name', `rmdname${i}`] : []), image, 'true'], { store });
      assert.equal(r.code, 0, r.stderr);
    }
    // the detached ones go once their monitor has seen the exit
    assert.deepEqual(await leftSince(store, snap), {});
    // the same name again and again (a link left behind would make each next run wait on nothing, or fail)
    for (let i = 0; i < 3; i++) assert.equal((await skiff(['run', '--rm', '--name', 'again', image, 'true'], { store })).code, 0);
    assert.deepEqual(names(), snap.names);
  });

  test("a --rm container renamed while it runs takes its new name's link, not the old name a new container took", async () => {
    const snap = storeSnapshot(store);
    const first = (await skiff(['run', '-d', '--rm', '--name', 'taken', image, 'sleep', '60'], { store })).stdout.trim();
    assert.equal((await skiff(['rename', 'taken', 'renamed'], { store })).code, 0);
    const second = (await skiff(['create', '--name', 'taken', image, 'true'], { store })).stdout.trim();
    assert.match(second, /^[0-9a-f]{64}$/);
    assert.equal((await skiff(['stop', '-t', '0', 'renamed'], { store })).code, 0);
    await until('the --rm container to go', () => !fs.existsSync(path.join(store.root, 'containers', first)));
    assert.deepEqual(names(), [...snap.names, 'taken'].sort(), 'the new container keeps its name');
    assert.equal(fs.readlinkSync(path.join(store.root, 'containers', 'names', 'taken')), second);
    const byName = await skiff(['inspect', '--format', '{{.Id}}', 'taken'], { store });
    assert.equal(byName.stdout.trim(), second);
    assert.equal((await skiff(['rm', 'taken'], { store })).code, 0);
    assert.deepEqual(await leftSince(store, snap), {});
  });

  test('container prune removes name links whose container is gone (left by an older skiff)', async () => {
    const dir = path.join(store.root, 'containers', 'names');
    fs.mkdirSync(dir, { recursive: true });
    fs.symlinkSync('0'.repeat(64), path.join(dir, 'stale_link'));
    assert.equal((await skiff(['create', '--name', 'kept', image, 'true'], { store })).code, 0);
    const r = await skiff(['container', 'prune', '-f'], { store });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!names().includes('stale_link'), 'the stale link is gone');
    assert.ok(!names().includes('kept'), 'prune removed the stopped container and its link');
  });
});
