/**
 * The shipped form (issue 18): dist/skiff (`make dist`), one executable carrying the CLI bundle and the
 * native parts (bin/sea.cjs). Copied alone into an empty directory and run with no node on PATH it
 * pulls, runs, builds and lists. Its native parts are written to a directory only the user (or root)
 * can change and checked before each process uses them (compared with the executable's copy, on every
 * use): a tampered, truncated, replaced,
 * loosened or in-place changed copy is written again and never run; a directory others can write,
 * a noexec mount, a damaged executable each give one line and exit 125; concurrent first runs all work.
 * Node's own --env-file is renamed in the executable (scripts/make-sea.mjs): the option is skiff's.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtures, isRootless, REPO, skiff, tempStore, type TempStore } from '../helpers/fixtures.js';

const DIST = path.join(REPO, 'dist', 'skiff');
const PARTS = ['skiff_native.node', 'skiff_layer.node', 'skiff-shim', 'skiff-init'];
const ID = /^[0-9a-f]{64}$/;

describe('the single executable (dist/skiff)', () => {
  let dir: string;
  let exe: string;
  let store: TempStore;
  let image: string;
  let fakebin: string;
  let home: string;
  const uid = process.getuid!();

  before(async () => {
    assert.ok(fs.existsSync(DIST), `${DIST} is missing: run 'make dist' (make test does)`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-sea-'));
    exe = path.join(dir, 'skiff');
    fs.copyFileSync(DIST, exe);
    fs.chmodSync(exe, 0o755);
    // every command of /usr/bin but node's: PATH without node (Debian 12: /bin is /usr/bin)
    fakebin = path.join(dir, 'bin');
    fs.mkdirSync(fakebin);
    for (const f of fs.readdirSync('/usr/bin')) {
      if (!/^(node|nodejs|npm|npx|corepack)$/.test(f)) fs.symlinkSync(path.join('/usr/bin', f), path.join(fakebin, f));
    }
    home = path.join(dir, 'home');
    fs.mkdirSync(home, { mode: 0o700 });
    store = await tempStore();
    image = fixtures().images.busybox.ref;
  });
  after(async () => {
    await store.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const PATH = (): string => `${fakebin}:/usr/sbin:/sbin`;
  const env = (extra: Record<string, string> = {}): Record<string, string> => ({ PATH: PATH(), HOME: home, XDG_CACHE_HOME: '', ...extra });
  const sea = (args: string[], extra: Record<string, string> = {}) => skiff(args, { bin: exe, store, env: env(extra), cwd: dir });
  const same = (file: string, part: string): boolean =>
    fs.existsSync(file) && fs.readFileSync(file).equals(fs.readFileSync(path.join(REPO, 'dist', part)));
  /** the <id> directory under `base` that holds this build's parts (root's may hold other builds' too, some with the same shim) */
  const partsIn = (base: string): string => {
    // its skiff-shim, and every other part written there so far (a command writes those it uses), are this build's
    const ours = (n: string): boolean =>
      same(path.join(base, n, 'skiff-shim'), 'skiff-shim') &&
      ['skiff-init', 'skiff_native.node', 'skiff_layer.node'].every((p) => !fs.existsSync(path.join(base, n, p)) || same(path.join(base, n, p), p));
    const ids = fs.readdirSync(base).filter((n) => ID.test(n) && ours(n));
    assert.equal(ids.length, 1, `${base}: ${fs.readdirSync(base).join(' ')}`);
    return path.join(base, ids[0]!);
  };
  const oneLine = (stderr: string): string => {
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0]!, /^Error: /);
    return lines[0]!;
  };

  test('copied alone into an empty directory with no node on PATH: --version, pull, run, build, ps, rm', async () => {
    assert.notEqual(spawnSync('sh', ['-c', 'command -v node'], { env: { PATH: PATH() } }).status, 0, 'node is on the test PATH');
    const v = await sea(['--version']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^skiff version \S+, build [0-9a-f]{12}\n$/);

    const p = await sea(['pull', '-q', image]);
    assert.equal(p.code, 0, p.stderr);
    const r = await sea(['run', '--rm', image, 'echo', 'hello']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello\n');

    const ctx = path.join(dir, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${image}\nRUN echo built > /f\nCMD ["cat", "/f"]\n`);
    const b = await sea(['build', '-q', '-t', 'sea-built', ctx]);
    assert.equal(b.code, 0, b.stderr);
    const rb = await sea(['run', '--rm', '--init', 'sea-built']);
    assert.equal(rb.code, 0, rb.stderr);
    assert.equal(rb.stdout, 'built\n');

    const d = await sea(['run', '-d', '--name', 'sea-d', image, 'sleep', '60']);
    assert.equal(d.code, 0, d.stderr);
    const native = await sea(['ps']); // the native listing (skiff-shim ps)
    assert.equal(native.code, 0, native.stderr);
    assert.match(native.stdout, /\bsea-d\n/);
    const cli = await sea(['ps', '--format', '{{.Names}} {{.Status}}']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /^sea-d Up /m);
    assert.equal((await sea(['rm', '-f', 'sea-d'])).code, 0);

    // the parts, written once where the user's (or root's) cache is, equal what make build made
    const parts = partsIn(isRootless() ? path.join(home, '.cache', 'skiff', 'native') : '/var/lib/skiff/native');
    assert.equal(fs.statSync(parts).mode & 0o022, 0);
    for (const part of PARTS) {
      const st = fs.lstatSync(path.join(parts, part));
      assert.ok(st.isFile() && st.uid === uid && (st.mode & 0o777) === 0o755, `${part}: mode ${(st.mode & 0o777).toString(8)}, uid ${st.uid}`);
      assert.ok(same(path.join(parts, part), part), `${part} differs from dist/${part}`);
    }
  });

  test("--env-file is skiff's, not node's: the file's variables reach the container only, NODE_OPTIONS too", async () => {
    const f = path.join(dir, 'env-file');
    fs.writeFileSync(f, 'NODE_OPTIONS=--version\nFROMFILE=yes\n');
    for (const args of [['--env-file', f], [`--env-file=${f}`]]) {
      const r = await sea(['run', '--rm', ...args, image, 'env']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^FROMFILE=yes$/m);
      assert.match(r.stdout, /^NODE_OPTIONS=--version$/m);
    }
    fs.writeFileSync(f, 'BAD NAME=1\n');
    const bad = await sea(['run', '--rm', '--env-file', f, image, 'true']);
    assert.equal(bad.code, 125);
    assert.match(oneLine(bad.stderr), /variable 'BAD NAME' contains whitespaces/);
  });

  test('a tampered, truncated, replaced or loosened part is written again before use and never run', async () => {
    const base = path.join(dir, 'parts-tamper');
    fs.mkdirSync(base, { mode: 0o700 });
    const e = { SKIFF_NATIVE_DIR: base };
    // every part written once: a pull extracts with skiff_layer.node, run --init uses the shim and skiff-init
    const first = await sea(['pull', '-q', fixtures().images.multilayer.ref], e);
    assert.equal(first.code, 0, first.stderr);
    assert.equal((await sea(['run', '--rm', '--init', image, 'true'], e)).code, 0);
    const parts = partsIn(base);
    const marker = path.join(dir, 'tampered-ran');
    // replaced, as one who could write there would (a part still running, e.g. the --rm deleter's
    // skiff-shim, cannot be written in place: ETXTBSY; a loaded addon must not be truncated under it)
    const replace = (part: string, bytes: Buffer | string): void => {
      fs.writeFileSync(path.join(dir, 'tamper.tmp'), bytes, { mode: 0o755 });
      fs.renameSync(path.join(dir, 'tamper.tmp'), path.join(parts, part));
    };
    replace('skiff-shim', `#!/bin/sh\ntouch ${marker}\n`);
    replace('skiff_native.node', fs.readFileSync(path.join(parts, 'skiff_native.node')).subarray(0, 4096));
    fs.rmSync(path.join(parts, 'skiff-init'));
    fs.symlinkSync('/usr/bin/true', path.join(parts, 'skiff-init'));
    fs.chmodSync(path.join(parts, 'skiff_layer.node'), 0o777); // loosened

    const r = await sea(['run', '--rm', '--init', image, 'echo', 'ok'], e);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ok\n');
    const p = await sea(['pull', '-q', fixtures().images.opaque.ref], e); // skiff_layer.node again
    assert.equal(p.code, 0, p.stderr);
    assert.ok(!fs.existsSync(marker), 'the tampered skiff-shim ran');
    for (const part of PARTS) {
      const st = fs.lstatSync(path.join(parts, part));
      assert.ok(st.isFile() && (st.mode & 0o777) === 0o755, `${part} was not written again`);
      assert.ok(same(path.join(parts, part), part), `${part} differs from dist/${part}`);
    }
    assert.deepEqual(fs.readdirSync(parts).filter((n) => n.startsWith('.')), [], 'temporary files left');
  });

  test('a part used before, then changed in place (same size, mode, owner), is compared again, written again and never run', async () => {
    const base = path.join(dir, 'parts-inplace');
    fs.mkdirSync(base, { mode: 0o700 });
    const e = { SKIFF_NATIVE_DIR: base };
    const ps = async (): Promise<void> => {
      const r = await sea(['ps', '-a'], e);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^CONTAINER ID/);
    };
    await ps();
    await ps();
    const shim = path.join(partsIn(base), 'skiff-shim');
    const marker = path.join(dir, 'inplace-ran');
    // skiff-shim overwritten in place by a script of the same size that leaves a marker when run:
    // inode, size, mode and owner stay; only the bytes tell
    const size = fs.statSync(shim).size;
    const bytes = Buffer.alloc(size, '#');
    bytes.write(`#!/bin/sh\ntouch ${marker}\nexit 0\n`);
    const fd = fs.openSync(shim, 'r+');
    fs.writeSync(fd, bytes, 0, size, 0);
    fs.closeSync(fd);
    await ps();
    assert.ok(!fs.existsSync(marker), 'the changed skiff-shim ran');
    assert.ok(same(shim, 'skiff-shim'), 'skiff-shim was not written again');
  });

  test('concurrent first runs all work and leave one complete copy', async () => {
    const base = path.join(dir, 'parts-race');
    fs.mkdirSync(base, { mode: 0o700 });
    const runs = await Promise.all(Array.from({ length: 6 }, () => sea(['ps', '-a'], { SKIFF_NATIVE_DIR: base })));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    assert.equal(new Set(runs.map((r) => r.stdout)).size, 1);
    const parts = partsIn(base);
    assert.deepEqual(fs.readdirSync(parts).sort(), ['skiff-shim', 'skiff_native.node']);
    for (const part of ['skiff-shim', 'skiff_native.node']) assert.ok(same(path.join(parts, part), part), part);
  });

  test('a parts directory others can write is refused: one line, 125, nothing written or run', async () => {
    const open = path.join(dir, 'parts-open');
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o777);
    for (const args of [['ps', '-a'], ['run', '--rm', image, 'true']]) {
      const r = await sea(args, { SKIFF_NATIVE_DIR: open });
      assert.equal(r.code, 125, r.stderr);
      assert.match(oneLine(r.stderr), /native parts .*writable by another user.*SKIFF_NATIVE_DIR/);
    }
    // a command that needs no native part still works there (its bundle text is then copied)
    const images = await sea(['images'], { SKIFF_NATIVE_DIR: open });
    assert.equal(images.code, 0, images.stderr);
    assert.match(images.stdout, /^REPOSITORY/);
    assert.deepEqual(fs.readdirSync(open), []);
    const left = await skiff(['ps', '-aq'], { store });
    assert.equal(left.stdout, '', 'a container was left');
  });

  test('a damaged executable says so and writes or runs nothing', async () => {
    const damaged = path.join(dir, 'skiff-damaged');
    const bytes = fs.readFileSync(exe);
    const shim = fs.readFileSync(path.join(REPO, 'dist', 'skiff-shim'));
    const at = bytes.indexOf(shim);
    assert.ok(at > 0, 'the executable holds no copy of dist/skiff-shim');
    bytes[at + (shim.length >> 1)] ^= 0xff;
    fs.writeFileSync(damaged, bytes, { mode: 0o755 });
    const base = path.join(dir, 'parts-damaged');
    fs.mkdirSync(base, { mode: 0o700 });
    const r = await skiff(['ps', '-a'], { bin: damaged, store, env: env({ SKIFF_NATIVE_DIR: base }), cwd: dir });
    assert.equal(r.code, 125, r.stderr);
    assert.match(oneLine(r.stderr), /is damaged .*skiff-shim.*install it again/);
    assert.ok(!fs.readdirSync(base).some((id) => fs.existsSync(path.join(base, id, 'skiff-shim'))), 'the damaged skiff-shim was written');
  });

  test('a noexec mount for the parts: one line that says so and what to do, 125', { skip: isRootless() && 'mounts a tmpfs (root)' }, async () => {
    const mnt = path.join(dir, 'noexec');
    fs.mkdirSync(mnt, { mode: 0o700 });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'noexec,mode=0700,size=16m', 'skiff-sea-test', mnt]);
    try {
      const r = await sea(['ps', '-a'], { SKIFF_NATIVE_DIR: mnt });
      assert.equal(r.code, 125, r.stderr);
      assert.match(oneLine(r.stderr), /does not allow executables \(noexec\).*SKIFF_NATIVE_DIR/);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });

  test('rootless: an unwritable cache falls back to XDG_RUNTIME_DIR; with neither, one line', { skip: !isRootless() && 'root writes anywhere' }, async () => {
    const ro = path.join(dir, 'cache-ro');
    fs.mkdirSync(ro, { mode: 0o500 });
    const run = path.join(dir, 'runtime');
    fs.mkdirSync(run, { mode: 0o700 });
    const r = await sea(['ps', '-a'], { XDG_CACHE_HOME: ro, XDG_RUNTIME_DIR: run });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(same(path.join(partsIn(path.join(run, 'skiff', 'native')), 'skiff-shim'), 'skiff-shim'));
    const none = await sea(['ps', '-a'], { XDG_CACHE_HOME: ro, XDG_RUNTIME_DIR: '' });
    assert.equal(none.code, 125, none.stderr);
    assert.match(oneLine(none.stderr), /cache-ro.*permission denied.*SKIFF_NATIVE_DIR/);
  });
});
