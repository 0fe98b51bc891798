/**
 * What the container sees of `--mount type=bind|tmpfs|volume`, `--tmpfs`, `-v` (binds and named or
 * anonymous volumes) and of the masked paths, read from its own /proc/self/mountinfo; and the
 * contents of `--env-file` (Docker's rules: comments, blank lines, NAME alone takes the host's value,
 * -e overrides). Rootful and rootless.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { skiff, type TempStore, storeWithImage } from '../helpers/fixtures.js';
import { mountAt, parseMountinfo, type MountInfo } from '../helpers/mountinfo.js';
import { leftSince, storeSnapshot } from '../helpers/leftovers.js';

describe('mounts and env files', () => {
  let store: TempStore;
  let image: string;
  let dir: string;
  before(async () => {
    ({ store, image } = await storeWithImage());
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-mounts-'));
    fs.chmodSync(dir, 0o777);
    fs.writeFileSync(path.join(dir, 'in'), 'from-host\n');
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await store.cleanup();
  });

  /** Runs script in a container with these flags; returns its stdout lines and its mounts. */
  async function inside(flags: string[], script: string): Promise<{ lines: string[]; mounts: MountInfo[] }> {
    const r = await skiff(['run', '--rm', ...flags, image, 'sh', '-c', `${script}; echo ==mountinfo==; cat /proc/self/mountinfo`], { store });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const [out, mi] = r.stdout.split('==mountinfo==\n') as [string, string];
    return { lines: out.split('\n').filter(Boolean), mounts: parseMountinfo(mi) };
  }

  test('--mount type=bind: rw by default; readonly, readonly=true and ro=1 make it read-only; a file bind', async () => {
    const rw = await inside(['--mount', `type=bind,source=${dir},target=/b`], 'cat /b/in; echo w > /b/out && echo wrote');
    assert.deepEqual(rw.lines, ['from-host', 'wrote']);
    assert.equal(fs.readFileSync(path.join(dir, 'out'), 'utf8'), 'w\n');
    assert.equal(mountAt(rw.mounts, '/b')?.options[0], 'rw');
    for (const ro of ['readonly', 'readonly=true', 'ro=1']) {
      const r = await inside(['--mount', `type=bind,src=${dir},dst=/b,${ro}`], 'cat /b/in; echo w > /b/out2 2>/dev/null || echo refused');
      assert.deepEqual(r.lines, ['from-host', 'refused'], ro);
      assert.equal(mountAt(r.mounts, '/b')?.options[0], 'ro', ro);
    }
    assert.equal(fs.existsSync(path.join(dir, 'out2')), false);
    const file = await inside(['--mount', `type=bind,src=${dir}/in,dst=/etc/in.txt,readonly=false`], 'cat /etc/in.txt');
    assert.deepEqual(file.lines, ['from-host']);
    assert.equal(mountAt(file.mounts, '/etc/in.txt')?.options[0], 'rw');
  });

  test('--mount type=tmpfs with tmpfs-size and tmpfs-mode; --tmpfs with size and mode; --tmpfs defaults', async () => {
    const r = await inside(
      ['--mount', 'type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1770', '--tmpfs', '/x:size=1m,mode=1777', '--tmpfs', '/y'],
      'stat -c "%n %a" /t /x /y; dd if=/dev/zero of=/t/f bs=1024 count=2048 2>/dev/null || echo t-full; dd if=/dev/zero of=/x/f bs=1024 count=512 2>/dev/null && echo x-fits',
    );
    assert.deepEqual(r.lines, ['/t 1770', '/x 1777', '/y 1777', 't-full', 'x-fits']);
    for (const [point, sizeMode] of [['/t', ['size=1024k', 'mode=1770']], ['/x', ['size=1024k']], ['/y', []]] as const) {
      const m = mountAt(r.mounts, point);
      assert.ok(m, `${point} is mounted`);
      assert.equal(m.fstype, 'tmpfs');
      // as Podman: rw,nosuid,nodev (Docker adds noexec)
      assert.deepEqual(m.options.filter((o) => o !== 'relatime'), ['rw', 'nosuid', 'nodev'], point);
      // rootless, the kernel adds uid=/gid= of the tmpfs root: the container's root, the user outside
      assert.deepEqual(m.superOptions.filter((o) => o !== 'rw' && !/^[ug]id=/.test(o)), sizeMode, point);
    }
  });

  test('named volumes persist across containers (-v and --mount type=volume), nosuid,nodev; readonly', async () => {
    const w = await inside(['-v', 'data1:/data'], 'echo kept > /data/f && echo wrote');
    assert.deepEqual(w.lines, ['wrote']);
    const m = mountAt(w.mounts, '/data');
    assert.deepEqual(m?.options.filter((o) => o !== 'relatime'), ['rw', 'nosuid', 'nodev']);
    assert.ok(m?.root.endsWith('/volumes/data1/_data'), m?.root);
    const r = await inside(['--mount', 'type=volume,src=data1,dst=/d2,readonly'], 'cat /d2/f; echo x > /d2/g 2>/dev/null || echo refused');
    assert.deepEqual(r.lines, ['kept', 'refused']);
    assert.equal(mountAt(r.mounts, '/d2')?.options[0], 'ro');
    assert.ok(fs.existsSync(path.join(store.root, 'volumes/data1/_data')));
  });

  test('an anonymous volume (-v /path, --mount type=volume without src) goes with its --rm container', async () => {
    const vols = (): string[] => (fs.existsSync(path.join(store.root, 'volumes')) ? fs.readdirSync(path.join(store.root, 'volumes')).sort() : []);
    const before = vols();
    const r = await inside(['-v', '/anon', '--mount', 'type=volume,dst=/anon2'], 'echo x > /anon/f && echo x > /anon2/f && echo wrote');
    assert.deepEqual(r.lines, ['wrote']);
    assert.match(mountAt(r.mounts, '/anon')?.root ?? '', /\/volumes\/[0-9a-f]{64}\/_data$/);
    assert.deepEqual(vols(), before, 'no anonymous volume is left behind by --rm');
    // without --rm it stays with the container (Docker removes it with `rm -v`)
    const keep = await skiff(['run', '--name', 'anonkeep', '-v', '/anon', image, 'true'], { store });
    assert.equal(keep.code, 0, keep.stderr);
    assert.equal(vols().length, before.length + 1);
    assert.equal((await skiff(['rm', 'anonkeep'], { store })).code, 0);
  });

  test('masked paths are read-only: /dev/null over files, an empty tmpfs over directories (as Podman)', async () => {
    const r = await inside([], 'chmod 600 /proc/keys 2>&1; touch /proc/acpi/x 2>&1; stat -c %a /dev/null; cat /proc/keys | wc -c');
    assert.deepEqual(r.lines, ['chmod: /proc/keys: Read-only file system', 'touch: /proc/acpi/x: Read-only file system', '666', '0']);
    for (const p of ['/proc/keys', '/proc/timer_list', '/proc/acpi', '/sys/firmware']) {
      const m = mountAt(r.mounts, p);
      if (!m) continue; // not every kernel has every path
      assert.equal(m.options[0], 'ro', `${p}: ${m.options.join(',')}`);
    }
    assert.equal(mountAt(r.mounts, '/proc/keys')?.root, '/null', 'the container\'s /dev/null is bound over a masked file');
  });

  test('--env-file: comments, blank lines, NAME alone takes the host\'s value, values verbatim, later files and -e win', async () => {
    const f1 = path.join(dir, 'env1');
    const f2 = path.join(dir, 'env2');
    fs.writeFileSync(
      f1,
      [
        '\ufeffFIRST=1', // a UTF-8 byte order mark is not part of the name
        '# a comment',
        '   # an indented comment',
        '',
        '   ',
        '  INDENTED=yes',
        'QUOTED="a b" ',
        'EMPTY=',
        'EQUALS=x=y',
        'HOSTVAR',
        'NOT_ON_HOST',
        'CRLF=dos\r',
        'OVERRIDDEN=file1',
        'BYFLAG=file',
      ].join('\n'),
    );
    fs.writeFileSync(f2, 'OVERRIDDEN=file2\n');
    const r = await skiff(['run', '--rm', '--env-file', f1, '--env-file', f2, '-e', 'BYFLAG=flag', image, 'env'], {
      store,
      env: { HOSTVAR: 'from-host' },
    });
    assert.equal(r.code, 0, r.stderr);
    const env = new Map(r.stdout.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    assert.equal(env.get('FIRST'), '1');
    assert.equal(env.get('INDENTED'), 'yes');
    assert.equal(env.get('QUOTED'), '"a b" ', 'the value is passed through, quotes and spaces included');
    assert.equal(env.get('EMPTY'), '');
    assert.equal(env.get('EQUALS'), 'x=y');
    assert.equal(env.get('HOSTVAR'), 'from-host');
    assert.equal(env.has('NOT_ON_HOST'), false, 'a name without value that the host lacks is left out');
    assert.equal(env.get('CRLF'), 'dos');
    assert.equal(env.get('OVERRIDDEN'), 'file2');
    assert.equal(env.get('BYFLAG'), 'flag');
    assert.equal([...env.keys()].some((k) => k.includes('#') || k.trim() === ''), false);
    // Docker's errors for a bad line, one line, exit 125
    for (const [line, msg] of [
      ['BAD NAME=1', /^Error: poorly formatted environment: variable 'BAD NAME' contains whitespaces$/],
      ['=value', /^Error: poorly formatted environment: no variable name on line '=value'$/],
    ] as const) {
      fs.writeFileSync(f2, `${line}\n`);
      const bad = await skiff(['run', '--rm', '--env-file', f2, image, 'true'], { store });
      assert.equal(bad.code, 125);
      assert.match(bad.stderr.trimEnd(), msg);
    }
    const missing = await skiff(['run', '--rm', '--env-file', path.join(dir, 'nope'), image, 'true'], { store });
    assert.equal(missing.code, 125);
    assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  });

  test("specifications Docker refuses, with Docker's words and exit code 125; nothing is created (not even a named volume)", async () => {
    const cases: [string[], string][] = [
      [['-v', `${dir}:/x:bogus`], 'invalid mode: bogus'],
      [['-v', `${dir}:/x:ro,rw`], 'invalid mode: ro,rw'],
      [['-v', ':/x'], 'invalid spec: :/x: empty section between colons'],
      [['-v', `${dir}::/x`], `invalid spec: ${dir}::/x: empty section between colons`],
      [['-v', `${dir}:/x:ro:z`], `invalid spec: ${dir}:/x:ro:z: too many colons`],
      [['-v', ''], 'invalid empty volume spec'],
      [['-v', '/x:ro'], "invalid volume specification: '/x:ro'"],
      [['-v', 'novol:rel'], `invalid volume specification: 'novol:rel': invalid mount config for type "volume": invalid mount path: 'rel' mount path must be absolute`],
      [['-v', `${dir}:/`], `invalid volume specification: '${dir}:/': invalid mount config for type "bind": invalid specification: destination can't be '/'`],
      // one mount per destination (paths compared cleaned), whichever flags name it
      [['-v', 'dupa:/x', '-v', 'dupb:/x'], 'Duplicate mount point: /x'],
      [['-v', `${dir}:/x`, '-v', '/etc:/x/'], 'Duplicate mount point: /x'],
      [['-v', `${dir}:/x`, '--mount', 'type=bind,src=/etc,dst=/x'], 'Duplicate mount point: /x'],
      [['-v', 'dupa:/x', '--tmpfs', '/x'], 'Duplicate mount point: /x'],
      [['--mount', 'type=tmpfs,dst=/y/../x', '--tmpfs', '/x:size=1m'], 'Duplicate mount point: /x'],
      [['-v', '/x', '--mount', 'type=volume,dst=/x'], 'Duplicate mount point: /x'],
    ];
    for (const [flags, line] of cases) {
      for (const cmd of [['run', '--rm'], ['create']]) {
        const snap = storeSnapshot(store);
        const r = await skiff([...cmd, ...flags, image, 'true'], { store });
        assert.equal(r.code, 125, `${flags.join(' ')}: ${r.stderr}`);
        assert.equal(r.stderr, `Error: ${line}\n`, flags.join(' '));
        assert.deepEqual(await leftSince(store, snap), {}, `${cmd[0]} ${flags.join(' ')} left something`);
      }
    }
    // the modes Docker takes (one of each kind) are accepted, and a trailing slash is the same target
    const ok = await inside(['-v', `${dir}:/x/:ro,z,rslave,nocopy,cached`], 'cat /x/in');
    assert.deepEqual(ok.lines, ['from-host']);
    assert.equal(mountAt(ok.mounts, '/x')?.options[0], 'ro');
  });
});
