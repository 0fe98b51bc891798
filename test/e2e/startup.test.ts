/**
 * What `run` loads on its way to the shim (docs/design/startup.md, start-up path 4): none of node's
 * builtins it does not use, each of which costs every start 1-4 ms. Through the checkout's launcher
 * (node, which takes a --require hook from NODE_OPTIONS): the hook lists the builtins node has loaded
 * when the CLI is about to become the shim (the launcher's code-cache hook, off here otherwise).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, skiff, storeWithImage, type TempStore } from '../helpers/fixtures.js';

describe('start-up path', () => {
  let store: TempStore;
  let image: string;
  let dir: string;
  before(async () => {
    ({ store, image } = await storeWithImage('busybox'));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-startup-'));
  });
  after(async () => {
    await store.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('run --rm IMAGE true loads no node:net, fs/promises, stream, readline, http(s), tls or zlib before the shim', async () => {
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
});
