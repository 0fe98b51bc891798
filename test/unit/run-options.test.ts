/**
 * The parsers behind `run`/`create` options: `--env-file` and `-e` (Docker's opts.ParseEnvFile and
 * env merge rules) and `-v`/`--mount`/`--tmpfs` (Docker's mount specifications).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mergeEnv } from '../../src/container/options.js';
import { parseMounts } from '../../src/volume/mounts.js';
import { SkiffError } from '../../src/errors.js';

/** Temporary dirs of this file's tests, removed after them. */
const temps: string[] = [];
const tempDir = (prefix: string): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(d);
  return d;
};
after(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function envFile(text: string): string {
  const d = tempDir('skiff-envfile-');
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
  const d = tempDir('skiff-mounts-');
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
  assert.throws(() => parseMounts(['a:b'], [], []), { message: `invalid volume specification: 'a:b': invalid mount config for type "volume": invalid mount path: 'b' mount path must be absolute` });
  // a volume name is one path component (Docker's rule): nothing outside volumes/
  for (const bad of ['x/../../etc:/v', 'a/b:/v']) assert.throws(() => parseMounts([bad], [], []), /invalid characters for a local volume name/, bad);
  assert.throws(() => parseMounts([], ['type=volume,src=../x,dst=/v'], []), /invalid characters for a local volume name/);
});

test("-v: Docker's words for an empty section, too many colons, a bad mode, a target with a mode, '/'", () => {
  const bad = (v: string, message: string): void => assert.throws(() => parseMounts([v], [], []), { message }, v);
  bad('', 'invalid empty volume spec');
  bad(':/x', 'invalid spec: :/x: empty section between colons');
  bad('/tmp::/x', 'invalid spec: /tmp::/x: empty section between colons');
  bad('/tmp:/x:', 'invalid spec: /tmp:/x:: empty section between colons');
  bad('/tmp:/x:ro:z', 'invalid spec: /tmp:/x:ro:z: too many colons');
  bad('/tmp:/x:bogus', 'invalid mode: bogus');
  bad('/tmp:/x:ro,rw', 'invalid mode: ro,rw'); // one of each kind
  bad('/x:rw', "invalid volume specification: '/x:rw'");
  bad('/tmp:/', `invalid volume specification: '/tmp:/': invalid mount config for type "bind": invalid specification: destination can't be '/'`);
  // every mode Docker takes, one of each kind
  const m = parseMounts(['/tmp:/a:ro,z,rslave,nocopy,cached', '/tmp:/b/:rw'], [], []);
  assert.deepEqual(m.map((x) => [x.Destination, x.RW, x.Propagation]), [['/a', false, 'rslave'], ['/b', true, '']]);
});

test('one mount per destination across -v, --mount and --tmpfs (cleaned paths): Duplicate mount point', () => {
  const dup = (v: string[], mnt: string[], t: string[]): void =>
    assert.throws(() => parseMounts(v, mnt, t), { message: 'Duplicate mount point: /x' }, [...v, ...mnt, ...t].join(' '));
  dup(['/tmp:/x', '/etc:/x'], [], []);
  dup(['/tmp:/x/'], ['type=bind,src=/etc,dst=/x'], []);
  dup(['/tmp:/x'], [], ['/x']);
  dup([], ['type=tmpfs,dst=/y/../x'], ['/x:size=1m']);
  dup(['vol:/x', '/x'], [], []);
});

test('-e: an empty name is refused (Docker: invalid environment variable)', () => {
  for (const e of ['', '=1']) assert.throws(() => mergeEnv([], [], [e]), { message: `invalid environment variable: ${e}` });
});

test("env file: a NUL byte or bytes that are not UTF-8 are refused, naming the file and line", () => {
  const nul = envFile('A=1\nB=x\0y\n');
  assert.throws(() => mergeEnv([], [nul], []), { message: `invalid environment variable "B=x\\x00y" in ${nul} (line 2): it contains a NUL byte` });
  const d = tempDir('skiff-envfile-');
  fs.writeFileSync(path.join(d, 'env'), Buffer.from([0x41, 0x3d, 0xff, 0x0a]));
  assert.throws(() => mergeEnv([], [path.join(d, 'env')], []), { message: `env file ${path.join(d, 'env')} contains invalid utf8 bytes at line 1: [65 61 255]` });
});

test("an image's NAME without a value is taken as it is: only the user's own NAME reads the host environment", () => {
  process.env.SKIFF_UNIT_SECRET = 'host-secret';
  assert.deepEqual(mergeEnv(['SKIFF_UNIT_SECRET', 'A=1'], [], []), ['SKIFF_UNIT_SECRET', 'A=1']);
  assert.deepEqual(mergeEnv(['SKIFF_UNIT_SECRET'], [], ['SKIFF_UNIT_SECRET']), ['SKIFF_UNIT_SECRET=host-secret']);
});
