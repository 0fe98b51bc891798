/**
 * bin/skiff.cjs's trained code cache, through the CLI: the first `pull` and `run` with this bundle
 * leave a V8 cache of what they compiled in $XDG_CACHE_HOME/skiff, later ones load it without
 * writing again, other commands never train it, a damaged cache is rejected by V8 (the command
 * still works) and replaced, one that others may write is not loaded, and SKIFF_CODE_CACHE=0 writes nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, skiff, storeWithImage, type TempStore } from '../helpers/fixtures.js';

describe('trained code cache', () => {
  let store: TempStore;
  let image: string;
  let home: string;
  before(async () => {
    ({ store, image } = await storeWithImage('busybox'));
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-xdg-'));
  });
  after(async () => {
    await store.cleanup();
    fs.rmSync(home, { recursive: true, force: true });
  });

  const files = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);
  const cacheDir = (): string => path.join(home, 'skiff');
  const trained = (): string[] => {
    const j = files(cacheDir()).find((f) => f.endsWith('.json'));
    return j ? (JSON.parse(fs.readFileSync(path.join(cacheDir(), j), 'utf8')) as string[]) : [];
  };
  const cacheFile = (): string => path.join(cacheDir(), files(cacheDir()).find((f) => f.endsWith('.cache'))!);
  const env = (): Record<string, string> => ({ XDG_CACHE_HOME: home });

  test('the first pull writes it (bigger than the build-time cache); a second pull loads it and writes nothing', async () => {
    const r = await skiff(['pull', '-q', image], { store, env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(trained(), ['pull']);
    const size = fs.statSync(cacheFile()).size;
    assert.ok(size > fs.statSync(path.join(REPO, 'dist/skiff.cjs.cache')).size, `trained cache ${size} bytes`);
    const before = fs.statSync(cacheFile()).mtimeMs;
    assert.equal((await skiff(['pull', '-q', image], { store, env: env() })).code, 0);
    assert.equal(fs.statSync(cacheFile()).mtimeMs, before);
    assert.equal(files(cacheDir()).length, 2, files(cacheDir()).join(' '));
  });

  test('other commands do not train it; run does, before it becomes the shim', async () => {
    assert.equal((await skiff(['images'], { store, env: env() })).code, 0);
    assert.deepEqual(trained(), ['pull']);
    const r = await skiff(['run', '--rm', image, 'true'], { store, env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(trained(), ['pull', 'run']);
  });

  test('a damaged cache is rejected, the command works, and the cache is made again', async () => {
    fs.writeFileSync(cacheFile(), Buffer.alloc(4096, 0x5a));
    const r = await skiff(['pull', '-q', image], { store, env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(trained(), ['pull']);
    assert.notDeepEqual(fs.readFileSync(cacheFile()).subarray(0, 4096), Buffer.alloc(4096, 0x5a));
  });

  test('a cache others may write is not loaded (V8 trusts its bytecode): it is made again, ours alone', async () => {
    assert.equal((await skiff(['pull', '-q', image], { store, env: env() })).code, 0); // a good one, trained for pull
    fs.chmodSync(cacheFile(), 0o620);
    const before = fs.statSync(cacheFile()).mtimeMs;
    const r = await skiff(['pull', '-q', image], { store, env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual(fs.statSync(cacheFile()).mtimeMs, before, 'the group-writable cache was used, not replaced');
    assert.equal(fs.statSync(cacheFile()).mode & 0o777, 0o600);
    assert.deepEqual(trained(), ['pull']);
  });

  test('a cache home that cannot be written: the command works, nothing is left', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-xdg-'));
    try {
      fs.writeFileSync(path.join(dir, 'skiff'), 'a file where the cache dir would go');
      const r = await skiff(['pull', '-q', image], { store, env: { XDG_CACHE_HOME: dir } });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.deepEqual(files(dir), ['skiff']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('SKIFF_CODE_CACHE=0 writes nothing', async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-xdg-'));
    try {
      const r = await skiff(['pull', '-q', image], { store, env: { XDG_CACHE_HOME: other, SKIFF_CODE_CACHE: '0' } });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(files(other), []);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });
});
