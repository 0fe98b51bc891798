/**
 * The parsers behind `run`/`create` options: `--env-file` and `-e` (Docker's opts.ParseEnvFile and
 * env merge rules) and `-v`/`--mount`/`--tmpfs` (Docker's mount specifications).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mergeEnv, parseMounts } from '../../src/container/create.js';
import { SkiffError } from '../../src/errors.js';

function envFile(text: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-envfile-'));
  fs.writeFileSync(path.join(d, 'env'), text);
  return path.join(d, 'env');
}

test('env file: BOM, comments, blank and indented lines, values verbatim, CRLF', () => {
  const f = envFile('\ufeffA=1\n# c\n\n \t\n  B=2\nC="x y" \nD=\nE=a=b\r\n#F=no\n');
  assert.deepEqual(mergeEnv([], [f], []), ['A=1', 'B=2', 'C="x y" ', 'D=', 'E=a=b']);
});

test('env file: a name alone takes the host value, or is left out', () => {
  process.env.SKIFF_UNIT_HOSTVAR = 'h';
  delete process.env.SKIFF_UNIT_UNSET;
  const f = envFile('SKIFF_UNIT_HOSTVAR\nSKIFF_UNIT_UNSET\n');
  assert.deepEqual(mergeEnv([], [f], []), ['SKIFF_UNIT_HOSTVAR=h']);
});

test('image env, then env files in order, then -e; a later value replaces the earlier in place', () => {
  const f1 = envFile('A=file1\nB=file1\n');
  const f2 = envFile('B=file2\n');
  assert.deepEqual(mergeEnv(['PATH=/bin', 'A=image'], [f1, f2], ['A=flag', 'Z=1']), ['PATH=/bin', 'A=flag', 'B=file2', 'Z=1']);
});

test("env file: Docker's errors for a name with whitespace or no name", () => {
  const bad = (text: string, msg: string): void =>
    assert.throws(() => mergeEnv([], [envFile(text)], []), (e: unknown) => e instanceof SkiffError && e.message === msg);
  bad('A B=1\n', "poorly formatted environment: variable 'A B' contains whitespaces");
  bad('A\tB\n', "poorly formatted environment: variable 'A\tB' contains whitespaces");
  bad('=1\n', "poorly formatted environment: no variable name on line '=1'");
});

test('-v, --mount and --tmpfs specifications', () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-mounts-'));
  const m = parseMounts(
    [`${d}:/b:ro`, 'vol:/v', '/anon'],
    [`type=bind,src=${d},dst=/c,readonly`, 'type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770', 'type=volume,source=v2,destination=/w,ro=true', 'type=volume,dst=/a2'],
    ['/x:size=1m,mode=1777'],
  );
  assert.deepEqual(
    m.map((x) => [x.Type, x.Source, x.Destination, x.Mode, x.RW]),
    [
      ['bind', d, '/b', 'ro', false],
      ['volume', 'vol', '/v', '', true],
      ['volume', '', '/anon', '', true],
      ['bind', d, '/c', '', false],
      ['tmpfs', '', '/t', 'size=1m,mode=1770', true],
      ['volume', 'v2', '/w', '', false],
      ['volume', '', '/a2', '', true],
      ['tmpfs', '', '/x', 'size=1m,mode=1777', true],
    ],
  );
  assert.throws(() => parseMounts([], ['type=bind,src=/nonexistent-skiff,dst=/x'], []), /bind source path does not exist: \/nonexistent-skiff/);
  assert.throws(() => parseMounts([], ['type=tmpfs'], []), /target is required/);
  assert.throws(() => parseMounts(['a:b'], [], []), /destination must be an absolute path/);
  // a volume name is one path component (Docker's rule): nothing outside volumes/
  for (const bad of ['x/../../etc:/v', 'a/b:/v']) assert.throws(() => parseMounts([bad], [], []), /invalid characters for a local volume name/, bad);
  assert.throws(() => parseMounts([], ['type=volume,src=../x,dst=/v'], []), /invalid characters for a local volume name/);
});
