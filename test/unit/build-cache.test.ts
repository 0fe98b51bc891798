/** Build cache keys and content hashes: what changes a key and what must not. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { baseKey, canonicalJson, stepKey } from '../../src/builder/cache.js';
import { hashSources } from '../../src/builder/context.js';
import { IgnoreMatcher } from '../../src/builder/dockerignore.js';
import { ContextTree } from '../../src/builder/tree.js';

test('canonical JSON sorts keys and drops undefined', () => {
  assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: undefined }], e: null }), '{"a":[{"d":2}],"b":1,"e":null}');
});

test('a step key covers the parent and every field of the step', () => {
  const base = baseKey({ imageId: 'sha256:' + '1'.repeat(64) });
  assert.notEqual(base, baseKey({ imageId: 'sha256:' + '2'.repeat(64) }));
  assert.notEqual(base, baseKey({ scratch: true }));
  const k = stepKey(base, { kind: 'RUN', argv: ['sh', '-c', 'x'], env: ['A=1'] });
  assert.equal(k, stepKey(base, { env: ['A=1'], argv: ['sh', '-c', 'x'], kind: 'RUN' }));
  assert.notEqual(k, stepKey(base, { kind: 'RUN', argv: ['sh', '-c', 'x'], env: ['A=2'] }));
  assert.notEqual(k, stepKey(baseKey({ scratch: true }), { kind: 'RUN', argv: ['sh', '-c', 'x'], env: ['A=1'] }));
  assert.match(k, /^sha256:[0-9a-f]{64}$/);
});

test('content hash: bytes, names and modes count; mtimes do not; ignored files do not', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-hash-'));
  try {
    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(path.join(dir, 'src/a'), 'one');
    fs.writeFileSync(path.join(dir, 'src/skip.tmp'), 'x');
    // each build looks at the context afresh (a ContextTree remembers what it has seen)
    const hash = (): string => {
      const tree = new ContextTree(dir, new IgnoreMatcher(['src/*.tmp']));
      try {
        return hashSources(tree, [{ name: 'src', rel: 'src' }]);
      } finally {
        tree.close();
      }
    };
    const h1 = hash();
    fs.utimesSync(path.join(dir, 'src/a'), new Date(2000, 0, 1), new Date(2000, 0, 1));
    assert.equal(hash(), h1, 'mtime changed the hash');
    fs.writeFileSync(path.join(dir, 'src/skip.tmp'), 'changed');
    assert.equal(hash(), h1, 'an ignored file changed the hash');
    fs.chmodSync(path.join(dir, 'src/a'), 0o755);
    const h2 = hash();
    assert.notEqual(h2, h1, 'mode did not change the hash');
    fs.writeFileSync(path.join(dir, 'src/a'), 'two');
    assert.notEqual(hash(), h2, 'content did not change the hash');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
