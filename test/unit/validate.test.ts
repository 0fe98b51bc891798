/** The checks a container's values pass before anything of it is created (src/container/validate.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkContainerName, checkHostname, refuseNul } from '../../src/container/validate.js';
import { goQuote } from '../../src/lib/strconv.js';

test("goQuote quotes as Go's %q: NUL and control characters escaped, one line", () => {
  assert.equal(goQuote('A=1\0B'), '"A=1\\x00B"');
  assert.equal(goQuote('a\nb\t"c"\\'), '"a\\nb\\t\\"c\\"\\\\"');
  assert.equal(goQuote('é\x7f'), '"é\\x7f"');
});

test('container names: Docker\'s characters, at most 255 (a file name in the names index)', () => {
  checkContainerName('a'.repeat(255));
  assert.throws(() => checkContainerName('a'.repeat(256)), { message: `Invalid container name (${'a'.repeat(256)}): it is 256 characters long, at most 255 are allowed` });
  assert.throws(() => checkContainerName('a/b'), { message: 'Invalid container name (a/b), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed' });
  assert.throws(() => checkContainerName('x'), /only \[a-zA-Z0-9\]/);
});

test('hostnames: at most 64 bytes (HOST_NAME_MAX)', () => {
  checkHostname('h'.repeat(64));
  assert.throws(() => checkHostname('h'.repeat(65)), { message: `invalid hostname "${'h'.repeat(65)}": it is longer than 64 bytes (the kernel's limit)` });
});

test('a NUL anywhere in the record or spec is refused, named in the user\'s words', () => {
  refuseNul({ record: { Config: { Env: ['A=1'], Labels: { k: 'v' } } }, spec: { process: { args: ['sh'] } } });
  const cases: [Record<string, unknown>, string][] = [
    [{ spec: { process: { env: ['PATH=/bin', 'A=\0'] } } }, 'invalid environment variable "A=\\x00": it contains a NUL byte'],
    [{ record: { Path: 'sh', Args: ['-c', 'x\0'] } }, 'invalid command "x\\x00": it contains a NUL byte'],
    [{ record: { Config: { Labels: { 'k\0': 'v' } } } }, 'invalid label "k\\x00": it contains a NUL byte'],
    [{ record: { Config: { WorkingDir: '/w\0' } } }, 'invalid working directory "/w\\x00": it contains a NUL byte'],
    [{ spec: { linux: { seccomp: { syscalls: [{ names: ['read\0'] }] } } } }, 'invalid seccomp profile value "read\\x00": it contains a NUL byte'],
    [{ spec: { skiff: { other: 'x\0' } } }, 'invalid value of spec.skiff.other "x\\x00": it contains a NUL byte'],
  ];
  for (const [parts, message] of cases) assert.throws(() => refuseNul(parts), { message }, message);
});
