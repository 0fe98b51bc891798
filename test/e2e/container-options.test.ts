/**
 * Options of run/create/exec from Docker's everyday scripts, through the CLI, rootful and rootless:
 * `--cidfile` (written, an existing file refused, removed when the create fails), `--label-file`
 * (Docker's file rules, `--label` over it), `exec --env-file`, `exec --privileged` (every capability,
 * as `run --privileged` gives them; without it the container's).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { storeCli, storeWithImage, type TempStore } from '../helpers/fixtures.js';

describe('run/create/exec options', () => {
  let store: TempStore;
  let image: string;
  let dir: string;
  const { sk, ok } = storeCli(() => store);

  before(async () => {
    ({ store, image } = await storeWithImage());
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-ctropts-'));
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await store.cleanup();
  });

  test('--cidfile: the id written; an existing file refused; removed when the create fails', async () => {
    const f = path.join(dir, 'cid');
    const id = (await ok(['create', '--cidfile', f, image])).trim();
    assert.equal(fs.readFileSync(f, 'utf8'), id);
    const again = await sk(['run', '--cidfile', f, image, 'true']);
    assert.equal(again.code, 125);
    assert.equal(again.stderr, `Error: Container ID file found, make sure the other container isn't running or delete ${f}\n`);
    assert.equal(fs.readFileSync(f, 'utf8'), id);
    const f2 = path.join(dir, 'cid2');
    await ok(['run', '--rm', '--cidfile', f2, image, 'true']);
    assert.match(fs.readFileSync(f2, 'utf8'), /^[0-9a-f]{64}$/);
    const f3 = path.join(dir, 'cid3');
    const bad = await sk(['create', '--cidfile', f3, '--name', 'bad/name', image]);
    assert.equal(bad.code, 125, bad.stderr);
    assert.ok(!fs.existsSync(f3), 'the cidfile of a failed create stays');
  });

  test('--label-file: Docker\'s file rules, --label over it', async () => {
    const f = path.join(dir, 'labels');
    fs.writeFileSync(f, '\ufeff# a comment\n\n  team=a\nflag\nkeep=x=y\nover=file\r\n');
    await ok(['create', '--name', 'lf', '--label-file', f, '--label', 'over=flag', image]);
    assert.deepEqual(JSON.parse(await ok(['inspect', '-f', '{{json .Config.Labels}}', 'lf'])), { 'org.skiff.fixture': 'busybox', team: 'a', flag: '', keep: 'x=y', over: 'flag' });
    fs.writeFileSync(path.join(dir, 'bad-labels'), 'bad name=1\n');
    const r = await sk(['create', '--label-file', path.join(dir, 'bad-labels'), image]);
    assert.equal(r.code, 125);
    assert.equal(r.stderr, "Error: poorly formatted environment: variable 'bad name' contains whitespaces\n");
    const missing = await sk(['create', '--label-file', path.join(dir, 'nope'), image]);
    assert.equal(missing.code, 125);
    assert.equal(missing.stderr, `Error: cannot read label file: open ${path.join(dir, 'nope')}: no such file or directory\n`);
  });

  test('exec --env-file and --privileged', async () => {
    await ok(['run', '-d', '--name', 'ex', '-e', 'FROM_RUN=1', image, 'sleep', '1000']);
    try {
      const f = path.join(dir, 'env');
      fs.writeFileSync(f, 'A=from-file\nB=file\n# c\n');
      assert.equal(await ok(['exec', '--env-file', f, '-e', 'B=flag', 'ex', 'sh', '-c', 'echo $A $B $FROM_RUN']), 'from-file flag 1\n');
      const capEff = (out: string): string => /CapEff:\s*([0-9a-f]+)/.exec(out)![1]!;
      const plain = capEff(await ok(['exec', 'ex', 'cat', '/proc/self/status']));
      const priv = capEff(await ok(['exec', '--privileged', 'ex', 'cat', '/proc/self/status']));
      const runPriv = capEff(await ok(['run', '--rm', '--privileged', image, 'cat', '/proc/self/status']));
      assert.equal(priv, runPriv);
      assert.notEqual(priv, plain);
      assert.ok(BigInt(`0x${priv}`) > BigInt(`0x${plain}`));
      // as another user: the bounding set is everything, the user's own capabilities none (as run --privileged -u)
      const asUser = await ok(['exec', '--privileged', '-u', '1000', 'ex', 'cat', '/proc/self/status']);
      assert.equal(capEff(asUser), '0000000000000000');
      assert.equal(/CapBnd:\s*([0-9a-f]+)/.exec(asUser)![1], runPriv);
    } finally {
      await sk(['rm', '-f', 'ex']);
    }
  });
});
