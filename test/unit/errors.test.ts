/** describeError: what a user reads for any thrown value, one line, Node's system errors in words. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describeError, errnoWords, SkiffError } from '../../src/errors.js';

const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
};

test('Node system errors become "cannot <verb> <path>: <words>"', () => {
  assert.equal(describeError(thrown(() => fs.mkdirSync('/dev/null/x'))), 'cannot create directory /dev/null/x: not a directory');
  assert.equal(describeError(thrown(() => fs.readFileSync('/nonexistent/skiff'))), 'cannot open /nonexistent/skiff: no such file or directory');
  assert.equal(describeError(thrown(() => fs.readdirSync('/etc/passwd'))), 'cannot list /etc/passwd: not a directory');
  assert.equal(describeError(thrown(() => fs.renameSync('/nonexistent/a', '/nonexistent/b'))), 'cannot rename /nonexistent/a to /nonexistent/b: no such file or directory');
  assert.equal(describeError(thrown(() => fs.statSync(`/tmp/${'x'.repeat(300)}`))), `cannot access /tmp/${'x'.repeat(300)}: file name too long`);
});

test('a full disk says what to do; SkiffErrors and other errors keep their first line', () => {
  const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write', path: '/s/f' });
  assert.equal(describeError(full), 'cannot write /s/f: no space left on device: free some disk space and retry');
  assert.equal(describeError(new SkiffError('EINVAL', 'exactly this')), 'exactly this');
  assert.equal(describeError(new Error('first\nsecond')), 'first');
  assert.equal(describeError('a string'), 'a string');
  assert.equal(errnoWords('EROFS'), 'read-only file system');
  assert.equal(errnoWords('ENOTAREALCODE'), undefined);
});

test("shimMessage: the shim's last Error: line without its prefix, else its last line, else nothing", async () => {
  const { shimMessage } = await import('../../src/native.js');
  assert.equal(shimMessage('Error: mount overlay: No such file or directory\n'), 'mount overlay: No such file or directory');
  assert.equal(shimMessage('pasta: warning\nError: first\nnoise\nError: second\n'), 'second');
  assert.equal(shimMessage('killed by a signal\n\n'), 'killed by a signal');
  assert.equal(shimMessage(''), '');
});
