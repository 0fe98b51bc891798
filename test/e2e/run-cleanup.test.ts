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
import { storeMounts, storeProcessesSettled } from '../helpers/leftovers.js';
import { skiff, type TempStore, storeWithImage } from '../helpers/fixtures.js';



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
    ['a bind source that does not exist', ['-v', '/nonexistent-skiff-src:/x'], 125, /^Error: .*bind source path does not exist: \/nonexistent-skiff-src$/],
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
});
