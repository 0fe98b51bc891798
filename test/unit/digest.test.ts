import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SkiffError } from '../../src/errors.js';
import { digestOf, digestProblem, isDigest, parseDigest, sha256Digest, sha256Hex, verifyBuffer } from '../../src/oci/digest.js';
import { DigestVerifier } from '../../src/oci/digest-verifier.js';

const EMPTY = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const ABC = 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

const isEdigest = (re: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof SkiffError);
  assert.equal(e.code, 'EDIGEST');
  assert.match(e.message, re);
  assert.ok(!e.message.includes('\n'));
  return true;
};

test('sha256 of known vectors', () => {
  assert.equal(`sha256:${sha256Hex('')}`, EMPTY);
  assert.equal(sha256Digest(Buffer.from('abc')), ABC);
  assert.equal(digestOf('abc'), ABC);
  assert.equal(digestOf('abc', 'sha512').length, 'sha512:'.length + 128);
});

test('parseDigest accepts sha256/sha384/sha512 of the right length, lowercase', () => {
  assert.deepEqual(parseDigest(ABC), { algorithm: 'sha256', hex: ABC.slice(7) });
  assert.equal(parseDigest(`sha512:${'a'.repeat(128)}`).algorithm, 'sha512');
  assert.equal(parseDigest(`sha384:${'a'.repeat(96)}`).algorithm, 'sha384');
  const bad: [string, RegExp][] = [
    ['', /invalid checksum digest format/],
    ['sha256', /invalid checksum digest format/],
    ['sha256:', /invalid checksum digest format/],
    [':abc', /invalid checksum digest format/],
    [`sha256:${'a'.repeat(63)}`, /invalid checksum digest length/],
    [`sha256:${'a'.repeat(65)}`, /invalid checksum digest length/],
    [`sha256:${'A'.repeat(64)}`, /invalid checksum digest format/],
    [`sha256:${'g'.repeat(64)}`, /invalid checksum digest format/],
    [`md5:${'a'.repeat(32)}`, /unsupported digest algorithm/],
    [`sha512:${'a'.repeat(64)}`, /invalid checksum digest length/],
  ];
  for (const [d, re] of bad) {
    assert.throws(() => parseDigest(d), (e: unknown) => e instanceof SkiffError && e.code === 'EINVAL' && re.test(e.message), d);
    assert.equal(isDigest(d), false);
    assert.match(digestProblem(d)!, re);
  }
  assert.equal(digestProblem(ABC), undefined);
});

test('verifyBuffer: digest and size', () => {
  verifyBuffer(Buffer.from('abc'), ABC);
  verifyBuffer(Buffer.from('abc'), ABC, 3);
  assert.throws(() => verifyBuffer(Buffer.from('abd'), ABC, undefined, 'config of busybox'),
    isEdigest(new RegExp(`^digest mismatch for config of busybox: expected ${ABC}, got sha256:[0-9a-f]{64}$`)));
  assert.throws(() => verifyBuffer(Buffer.from('abc'), ABC, 4, 'x'), isEdigest(/^size mismatch for x: expected 4 bytes, got 3$/));
  verifyBuffer(Buffer.from('abc'), digestOf('abc', 'sha512'));
});

async function run(chunks: Buffer[], v: DigestVerifier): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), v, new Writable({ write(c, _e, cb) { out.push(c as Buffer); cb(); } }));
  return Buffer.concat(out);
}

test('DigestVerifier passes bytes through and checks them at the end', async () => {
  const v = new DigestVerifier(ABC, 3, 'layer x');
  const out = await run([Buffer.from('a'), Buffer.from('bc')], v);
  assert.equal(out.toString(), 'abc');
  assert.equal(v.bytes, 3);
  assert.equal(v.digest, ABC);
  const big = Buffer.alloc(5 * 1024 * 1024, 7);
  const v2 = new DigestVerifier(sha256Digest(big), big.length);
  assert.equal((await run([big.subarray(0, 1000), big.subarray(1000)], v2)).length, big.length);
});

test('DigestVerifier fails on a wrong digest, too few or too many bytes', async () => {
  await assert.rejects(run([Buffer.from('abd')], new DigestVerifier(ABC, undefined, 'layer sha256:ba78')),
    isEdigest(/^digest mismatch for layer sha256:ba78: expected sha256:ba78.*, got sha256:/));
  await assert.rejects(run([Buffer.from('ab')], new DigestVerifier(ABC, 3, 'blob')), isEdigest(/^size mismatch for blob: expected 3 bytes, got 2$/));
  // Too many bytes fail as soon as they arrive, before the end.
  const v = new DigestVerifier(ABC, 3, 'blob');
  let written = 0;
  const src = Readable.from((function* () { for (let i = 0; i < 100; i++) yield Buffer.from('abcd'); })());
  await assert.rejects(
    pipeline(src, v, new Writable({ write(c, _e, cb) { written += (c as Buffer).length; cb(); } })),
    isEdigest(/^size mismatch for blob: expected 3 bytes, got more$/),
  );
  assert.equal(written, 0);
  assert.throws(() => new DigestVerifier('sha256:nope', undefined), /invalid digest/);
});
