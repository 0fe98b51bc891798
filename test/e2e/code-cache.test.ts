/**
 * bin/skiff.cjs's trained code cache, through the CLI: the first `pull` and `run` with this bundle
 * leave a V8 cache of what they compiled in $XDG_CACHE_HOME/skiff (run one of its own), later ones
 * load it without writing again, other commands never train it, a damaged cache is rejected by V8 (the command
 * still works) and replaced, one that others may write is not loaded, and SKIFF_CODE_CACHE=0 writes nothing.
 * Root with another user's HOME (`sudo -E`) neither reads nor writes a cache there, whatever links
 * that user planted (issue 12, escape 3). The launcher's hook before the execve of the shim also
 * shows what `run` loaded on its way there: none of node's builtins it does not use
 * (docs/design/startup.md, start-up path 4).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isRootless, REPO, skiff, storeWithImage, type TempStore } from '../helpers/fixtures.js';
import { treeSnapshot } from '../helpers/tree.js';

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

  // the entries of DIR but the single executable's native parts, which it keeps beside its code cache
  // when rootless (dist/skiff: $XDG_CACHE_HOME/skiff/native, ARCHITECTURE.md "The shipped form")
  const files = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f !== 'native').sort() : []);
  const cacheDir = (): string => path.join(home, 'skiff');
  const trained = (): string[] => {
    const j = files(cacheDir()).find((f) => f.endsWith('.json'));
    return j ? (JSON.parse(fs.readFileSync(path.join(cacheDir(), j), 'utf8')) as string[]) : [];
  };
  // the shared cache (pull, create, other commands), code-KEY.cache; run's own is code-KEY.run.cache
  const cacheFile = (): string => path.join(cacheDir(), files(cacheDir()).find((f) => f.endsWith('.cache') && !f.endsWith('.run.cache'))!);
  const runCacheFile = (): string | undefined => files(cacheDir()).find((f) => f.endsWith('.run.cache'));
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

  test("other commands do not train it; run trains one of its own (not pull's code), before it becomes the shim, and starts the shared one over", async () => {
    assert.equal((await skiff(['images'], { store, env: env() })).code, 0);
    assert.deepEqual(trained(), ['pull']);
    assert.equal(runCacheFile(), undefined);
    const r = await skiff(['run', '--rm', image, 'true'], { store, env: env() });
    assert.equal(r.code, 0, r.stderr);
    // the shared cache (start, exec, rm load it) holds run's code too: made from run's, pull adds its own again
    assert.deepEqual(trained(), ['run']);
    assert.deepEqual(fs.readFileSync(cacheFile()), fs.readFileSync(path.join(cacheDir(), runCacheFile()!)));
    const own = path.join(cacheDir(), runCacheFile()!);
    assert.equal(path.basename(own), path.basename(cacheFile()).replace(/\.cache$/, '.run.cache'));
    assert.ok(fs.statSync(own).size > fs.statSync(path.join(REPO, 'dist/skiff.cjs.cache')).size);
    const before = fs.statSync(own).mtimeMs;
    assert.equal((await skiff(['run', '--rm', image, 'true'], { store, env: env() })).code, 0);
    assert.equal(fs.statSync(own).mtimeMs, before);
    assert.equal(fs.statSync(own).mode & 0o777, 0o600);
    assert.equal(files(cacheDir()).length, 3, files(cacheDir()).join(' '));
    assert.equal((await skiff(['pull', '-q', image], { store, env: env() })).code, 0);
    assert.deepEqual(trained(), ['run', 'pull']);
    assert.equal(fs.statSync(own).mtimeMs, before);
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

  test("other bundles' caches (other checkouts, other builds): a training keeps the newest three of its kind", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-xdg-'));
    try {
      assert.equal((await skiff(['pull', '-q', image], { store, env: { XDG_CACHE_HOME: dir } })).code, 0);
      const skiffDir = path.join(dir, 'skiff');
      const ours = files(skiffDir).find((f) => f.endsWith('.cache'))!;
      const kind = ours.startsWith('code-sea-') ? 'code-sea-' : 'code-';
      // five other bundles of our kind, trained one minute apart (fake0 the oldest), and one of the other kind
      const other = (i: number): string => `${kind}fake${i}-v0`;
      for (let i = 0; i < 5; i++) {
        for (const ext of ['cache', 'json', 'run.cache']) {
          const f = path.join(skiffDir, `${other(i)}.${ext}`);
          fs.writeFileSync(f, ext === 'json' ? '["run"]' : 'x', { mode: 0o600 });
          const t = new Date(Date.now() - (10 - i) * 60_000);
          fs.utimesSync(f, t, t);
        }
      }
      const otherKind = kind === 'code-' ? 'code-sea-fake-v0.cache' : 'code-fake-v0.cache';
      fs.writeFileSync(path.join(skiffDir, otherKind), 'x', { mode: 0o600 });
      // without its record of what trained it, our cache is trained again by the next pull
      fs.rmSync(path.join(skiffDir, ours.replace(/\.cache$/, '.json')));
      assert.equal((await skiff(['pull', '-q', image], { store, env: { XDG_CACHE_HOME: dir } })).code, 0);
      const expected = [ours, ours.replace(/\.cache$/, '.json'), otherKind, ...[2, 3, 4].flatMap((i) => [`${other(i)}.cache`, `${other(i)}.json`, `${other(i)}.run.cache`])].sort();
      assert.deepEqual(files(skiffDir), expected);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('SKIFF_CODE_CACHE=0 writes nothing', async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-xdg-'));
    try {
      const r = await skiff(['pull', '-q', image], { store, env: { XDG_CACHE_HOME: other, SKIFF_CODE_CACHE: '0' } });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(files(path.join(other, 'skiff')), []);
      assert.deepEqual(files(other).filter((f) => f !== 'skiff'), []);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  test('root with a HOME another user owns (sudo -E): links planted there make root write nothing', { skip: isRootless() && 'root only' }, async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-sudo-'));
    const nobody = 65534;
    try {
      // what the user wants root to overwrite: a root-owned dir with a cache-looking file and a victim file
      const victim = path.join(base, 'victim');
      fs.mkdirSync(victim);
      fs.writeFileSync(path.join(victim, 'code-old.cache'), 'root data\n');
      fs.writeFileSync(path.join(victim, 'passwd'), 'root:x:0:0\n');
      // home 1: ~/.cache/skiff is a link to the victim dir
      const home1 = path.join(base, 'home1');
      fs.mkdirSync(path.join(home1, '.cache'), { recursive: true });
      fs.symlinkSync(victim, path.join(home1, '.cache', 'skiff'));
      // home 2: a real ~/.cache/skiff whose cache files (every name this bundle would use) link to the victim file
      const home2 = path.join(base, 'home2');
      const dir2 = path.join(home2, '.cache', 'skiff');
      fs.mkdirSync(dir2, { recursive: true });
      const key = (f: string): string => f.replace(/^code-/, '').replace(/\.(cache|json)$/, '');
      const ours = path.basename(cacheFile());
      for (const f of [`code-${key(ours)}.cache`, `code-${key(ours)}.json`, `code-${key(ours)}.run.cache`]) fs.symlinkSync(path.join(victim, 'passwd'), path.join(dir2, f));
      // home 3: ~/.cache is the user's, skiff/ below it root's (the user can still rename it away)
      const home3 = path.join(base, 'home3');
      fs.mkdirSync(path.join(home3, '.cache', 'skiff'), { recursive: true });
      for (const h of [home1, home2, home3]) {
        for (const p of [h, path.join(h, '.cache'), ...(h === home2 ? [dir2, ...fs.readdirSync(dir2).map((f) => path.join(dir2, f))] : [])]) {
          fs.lchownSync(p, nobody, nobody);
        }
      }
      const before = treeSnapshot(base);
      for (const h of [home1, home2, home3]) {
        for (const args of [['pull', '-q', image], ['run', '--rm', image, 'true']]) {
          const r = await skiff(args, { store, env: { HOME: h, XDG_CACHE_HOME: '' } });
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stderr, '', `${args[0]} with HOME=${h}`);
        }
      }
      assert.deepEqual(treeSnapshot(base), before);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  test('run --rm IMAGE true loads no node:net, fs/promises, stream, readline, http(s), tls or zlib before the shim', async () => {
    // node (the checkout's launcher) takes a --require from NODE_OPTIONS; SKIFF_CODE_CACHE=0 leaves the
    // hook that the CLI calls just before it becomes the shim to this one, which lists node's builtins
    const dir = fs.mkdtempSync(path.join(home, 'loaded-'));
    const hook = path.join(dir, 'hook.cjs');
    const out = path.join(dir, 'loaded.txt');
    fs.writeFileSync(hook, `globalThis.__skiffSaveCodeCache = () => require('fs').writeFileSync(${JSON.stringify(out)}, process.moduleLoadList.join('\\n'));\n`);
    const r = await skiff(['run', '--rm', image, 'true'], { store, bin: path.join(REPO, 'bin/skiff'), env: { NODE_OPTIONS: `--require ${hook}`, SKIFF_CODE_CACHE: '0' } });
    assert.equal(r.code, 0, r.stderr);
    const loaded = new Set(fs.readFileSync(out, 'utf8').split('\n').filter((l) => l.startsWith('NativeModule ')).map((l) => l.slice('NativeModule '.length)));
    assert.ok(loaded.has('fs'), [...loaded].join(' ')); // the list is node's own
    const unneeded = ['net', 'fs/promises', 'stream', 'readline', 'http', 'https', 'tls', 'zlib'].filter((m) => loaded.has(m));
    assert.deepEqual(unneeded, [], `run loaded node:${unneeded.join(', node:')}`);
  });

  test('run -d prints the id to a pipe without loading node:child_process, net, dgram, stream or tty', async () => {
    // the list at exit: run -d waits for the detached shim through the addon and writes its id to fd 1
    const dir = fs.mkdtempSync(path.join(home, 'loaded-d-'));
    const hook = path.join(dir, 'hook.cjs');
    const out = path.join(dir, 'loaded.txt');
    fs.writeFileSync(hook, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, process.moduleLoadList.join('\\n')));\n`);
    const r = await skiff(['run', '-d', image, 'sleep', '30'], { store, bin: path.join(REPO, 'bin/skiff'), env: { NODE_OPTIONS: `--require ${hook}`, SKIFF_CODE_CACHE: '0' } });
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    try {
      const loaded = new Set(fs.readFileSync(out, 'utf8').split('\n').filter((l) => l.startsWith('NativeModule ')).map((l) => l.slice('NativeModule '.length)));
      assert.ok(loaded.has('fs'), [...loaded].join(' '));
      const unneeded = ['child_process', 'net', 'dgram', 'stream', 'tty', 'fs/promises'].filter((m) => loaded.has(m));
      assert.deepEqual(unneeded, [], `run -d loaded node:${unneeded.join(', node:')}`);
      const ps = await skiff(['ps', '-q', '--no-trunc', '--filter', `id=${id}`], { store });
      assert.equal(ps.stdout.trim(), id);
    } finally {
      await skiff(['rm', '-f', id], { store });
    }
  });
});
