/**
 * skiff_native's externalLatin1 (addon/src/external_string.c): the single executable's bundle text as
 * a V8 string over memory it does not copy (bin/sea.cjs). The string reads as the bytes' Latin-1
 * decoding, compiles, and only an ArrayBuffer is accepted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';
import { native } from '../../src/native.js';

type WithExternal = { externalLatin1(ab: ArrayBuffer): string };

test('externalLatin1: the bytes as a Latin-1 string, usable as source text', () => {
  const addon = native() as unknown as WithExternal;
  // kept alive for the string's life: in the executable the memory is the mapped asset itself
  const bytes = Buffer.from('(function () { return "caf\xe9 " + 6 * 7; })', 'latin1');
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  const s = addon.externalLatin1(ab);
  assert.equal(s, bytes.toString('latin1'));
  assert.equal((new vm.Script(s).runInThisContext() as () => string)(), 'caf\xe9 42');
  const big = Buffer.alloc(2 << 20, 'a');
  const bigAb = big.buffer.slice(big.byteOffset, big.byteOffset + big.length);
  assert.equal(addon.externalLatin1(bigAb).length, 2 << 20);
  assert.throws(() => addon.externalLatin1(bytes as unknown as ArrayBuffer), /expected an ArrayBuffer/);
});
