/**
 * Malicious build contexts and Dockerfiles (issue 12: escape 2, items 5, 8, 10, 11): links that
 * lead out of the context (absolute, relative with `..`, chained, to directories, in the middle of
 * a path) named by COPY, ADD, RUN --mount=type=bind (from the context, a stage, an image),
 * .dockerignore and the Dockerfile itself; context tars on stdin with `..`, absolute paths, links
 * to write through, paths deeper than PATH_MAX; a very deep context directory; ENV with a NUL;
 * expansion that doubles. Each case asserts the one-line error (or the safe result), that a
 * secret marker kept next to the context is in no layer, config or output, that nothing was written
 * outside the store, and the store still builds and runs afterwards. Rootful and rootless.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fixtures, skiff, tempStore, until, type RunResult, type TempStore } from '../helpers/fixtures.js';
import { rawTar } from '../helpers/rawtar.js';

const MARKER = `skiff-secret-${crypto.randomBytes(8).toString('hex')}`;

/** A raw archive of [name, type, data or link target] (test/helpers/rawtar.ts). */
const rawTarOf = (entries: [string, '0' | '2' | '5', string][]): Buffer =>
  rawTar(entries.map(([name, type, v]) => (type === '2' ? { name, type, link: v } : { name, type, data: v })));

describe('build: malicious contexts and Dockerfiles', () => {
  let store: TempStore;
  let busybox: string;
  let base: string;
  let outside: string;

  /** A fresh context holding `files` plus links to the secret outside it in every form. */
  const context = (files: Record<string, string> = {}): string => {
    const dir = fs.mkdtempSync(path.join(base, 'ctx-'));
    for (const [name, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), content);
    }
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    const depth = dir.split('/').length;
    fs.symlinkSync(outside, path.join(dir, 'abs')); // absolute host path of the secret's directory
    fs.symlinkSync(`${'../'.repeat(depth)}${outside.slice(1)}`, path.join(dir, 'rel')); // relative, climbing with ..
    fs.symlinkSync('abs', path.join(dir, 'chain')); // a link to a link
    fs.symlinkSync(`../${'../'.repeat(depth)}${outside.slice(1)}`, path.join(dir, 'sub/up')); // in the middle of a path
    fs.symlinkSync(path.join(outside, 'secret'), path.join(dir, 'file')); // straight at the file
    fs.symlinkSync('/etc', path.join(dir, 'etclink')); // the issue's own case
    fs.chmodSync(dir, 0o755);
    return dir;
  };
  const build = (args: string[], input?: string | Buffer): Promise<RunResult> =>
    skiff(['build', '-q', ...args], { store, ...(input !== undefined ? { input } : {}) });

  /** The one line a refused build prints, exit 125, no image, the secret nowhere. */
  const refused = (r: RunResult, re: RegExp): void => {
    assert.equal(r.code, 125, r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^Error: /);
    assert.doesNotMatch(lines[0]!, /\bE[A-Z]{3,}\b: |TAR_[A-Z]|\bat [a-z]+ \(/, 'a raw error code or stack');
    assert.match(lines[0]!, re);
    assert.ok(!r.stderr.includes(MARKER));
  };

  /** Every layer blob and the config of `image` (skiff save), unpacked: the secret must be in none. */
  const assertClean = async (image: string): Promise<void> => {
    const dir = fs.mkdtempSync(path.join(base, 'save-'));
    const r = await skiff(['save', '-o', path.join(dir, 'i.tar'), image], { store });
    assert.equal(r.code, 0, r.stderr);
    execFileSync('tar', ['-xf', 'i.tar'], { cwd: dir });
    const blobs = path.join(dir, 'blobs/sha256');
    for (const b of fs.readdirSync(blobs)) {
      let bytes = fs.readFileSync(path.join(blobs, b));
      if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = zlib.gunzipSync(bytes);
      assert.ok(!bytes.includes(MARKER), `the secret is in blob ${b} of ${image}`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };

  /**
   * Nothing of a build is left in the store's staging (a `run --rm` hands its removal to a child that
   * ends by itself: waited for), and the secret's directory is untouched.
   */
  const noLeftovers = async (): Promise<void> => {
    const tmp = path.join(store.root, 'tmp');
    const staged = (): string[] => (fs.existsSync(tmp) ? fs.readdirSync(tmp) : []);
    await until('the store\'s staging to be empty', () => staged().length === 0, 10_000).catch(() => undefined);
    assert.deepEqual(staged(), []);
    assert.deepEqual(fs.readdirSync(outside).sort(), ['Dockerfile', 'ignore', 'secret']);
    for (const name of fs.readdirSync(path.dirname(store.root))) assert.ok(['home', 'root', 'run'].includes(name), name);
  };

  before(async () => {
    store = await tempStore();
    busybox = fixtures().busybox;
    const r = await skiff(['pull', '-q', busybox], { store });
    assert.equal(r.code, 0, r.stderr);
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-adv-build-'));
    fs.chmodSync(base, 0o755);
    outside = path.join(base, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'secret'), `${MARKER}\n`);
    fs.writeFileSync(path.join(outside, 'ignore'), 'keep.txt\n');
    fs.writeFileSync(path.join(outside, 'Dockerfile'), `FROM scratch\nLABEL m=${MARKER}\n`);
  });
  after(async () => {
    await store.cleanup();
    fs.rmSync(base, { recursive: true, force: true });
  });

  test('COPY and ADD of links out of the context find nothing there (absolute, .., chained, mid-path, to a file, /etc)', async () => {
    const dir = context();
    for (const src of ['abs/secret', 'rel/secret', 'chain/secret', 'sub/up/secret', 'file', 'etclink/passwd', 'abs/../abs/secret']) {
      for (const kind of ['COPY', 'ADD']) {
        const r = await build(['-f', '-', dir], `FROM scratch\n${kind} ${src} /s\n`);
        refused(r, new RegExp(`^Error: Dockerfile:2: ${kind}: "/[^"]+": not found$`));
      }
    }
    // a wildcard does not enter a linked directory either
    refused(await build(['-f', '-', dir], 'FROM scratch\nCOPY */secret /s/\n'), /no source files were specified$/);
    await noLeftovers();
  });

  test('links resolve inside the context as if it were /: the context\'s own files are found, links are copied as links', async () => {
    const dir = context({ [`${outside.slice(1)}/secret`]: 'the context\'s copy\n', 'etc/passwd': 'ctx passwd\n', 'd/f': 'f\n' });
    fs.symlinkSync('d', path.join(dir, 'dirlink'));
    const r = await build(['-t', 'adv-inside', '-f', '-', dir],
      `FROM ${busybox}\nCOPY abs/secret /a\nCOPY rel/secret /b\nCOPY chain/secret /c\nCOPY sub/up/secret /d\nCOPY file /e\nCOPY etclink/passwd /p\nCOPY dirlink /dl/\nCOPY dirlink/f /g\nCOPY . /ctx/\n`);
    assert.equal(r.code, 0, r.stderr);
    const out = await skiff(['run', '--rm', 'adv-inside', 'sh', '-c', 'cat /a /b /c /d /e /p /dl/f /g; for l in /ctx/abs /ctx/etclink; do readlink $l; done'], { store });
    assert.equal(out.stdout, `${"the context's copy\n".repeat(5)}ctx passwd\nf\nf\n${outside}\n/etc\n`, out.stderr);
    await assertClean('adv-inside');
    await noLeftovers();
  });

  test('RUN --mount=type=bind: a source that is a link out of the context, a stage or an image is not found', async () => {
    const dir = context();
    for (const src of ['abs', 'rel', 'chain', 'sub/up', 'file', 'etclink']) {
      const r = await build(['-f', '-', dir], `FROM ${busybox}\nRUN --mount=type=bind,source=${src},target=/m cat /m/secret /m /m/passwd\n`);
      refused(r, new RegExp(`^Error: Dockerfile:2: RUN: mount source "/${src}" not found$`));
    }
    // an image that holds a link to the host's secret: mounting from it (as a stage, as an image) resolves inside it
    const img = await build(['-t', 'adv-links', '-f', '-', dir], 'FROM scratch\nCOPY . /\n');
    assert.equal(img.code, 0, img.stderr);
    for (const from of ['adv-links', 'stage']) {
      const r = await build(['-f', '-', dir], `FROM adv-links AS stage\nFROM ${busybox}\nRUN --mount=type=bind,from=${from},source=abs,target=/m cat /m/secret\n`);
      refused(r, /^Error: Dockerfile:3: RUN: mount source "\/abs" not found$/);
      const copy = await build(['-f', '-', dir], `FROM adv-links AS stage\nFROM scratch\nCOPY --from=${from} /abs/secret /s\n`);
      refused(copy, /^Error: Dockerfile:3: COPY: "\/abs\/secret": not found$/);
    }
    await assertClean('adv-links');
    await noLeftovers();
  });

  test('.dockerignore and the Dockerfile are read inside the context: links out of it read nothing', async () => {
    const dir = context({ 'keep.txt': 'kept\n' });
    fs.symlinkSync(path.join(outside, 'ignore'), path.join(dir, '.dockerignore'));
    fs.symlinkSync(path.join(outside, 'Dockerfile'), path.join(dir, 'Dockerfile'));
    refused(await build([dir]), /^Error: unable to prepare context: cannot find Dockerfile in /);
    fs.rmSync(path.join(dir, 'Dockerfile'));
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM scratch\nCOPY keep.txt /\n');
    const r = await build(['-t', 'adv-ignore', dir]);
    assert.equal(r.code, 0, r.stderr); // the outside file would have ignored keep.txt
    await assertClean('adv-ignore');
    await noLeftovers();
  });

  test('a context tar on stdin: link targets kept as written, entry paths contained, nothing written through a link', async () => {
    const ok = rawTarOf([
      ['Dockerfile', '0', 'FROM scratch\nCOPY . /c/\n'],
      ['abs', '2', '/etc/passwd'],
      ['up', '2', '../../../../etc'],
      ['/rooted/f', '0', 'rooted\n'],
    ]);
    const r = await build(['-t', 'adv-tar', '-'], ok);
    assert.equal(r.code, 0, r.stderr);
    const withSh = await build(['-t', 'adv-tar-run', '-f', '-', context()], `FROM ${busybox}\nCOPY --from=adv-tar /c /c\n`);
    assert.equal(withSh.code, 0, withSh.stderr);
    const out = await skiff(['run', '--rm', 'adv-tar-run', 'sh', '-c', 'readlink /c/abs; readlink /c/up; cat /c/rooted/f'], { store });
    assert.equal(out.stdout, '/etc/passwd\n../../../../etc\nrooted\n', out.stderr);
    const target = fs.mkdtempSync(path.join(base, 'target-'));
    const cases: [Buffer, RegExp][] = [
      [rawTarOf([['Dockerfile', '0', 'FROM scratch\n'], ['../x', '0', MARKER]]), /^Error: the build context from stdin: entry "\.\.\/x" is outside of the destination/],
      [rawTarOf([['Dockerfile', '0', 'FROM scratch\n'], ['a/../../../x', '0', MARKER]]), /is outside of the destination/],
      [rawTarOf([['l', '2', target], ['l/pwned', '0', MARKER]]), /^Error: the build context from stdin: entry "l\/pwned" would be written through "l", which is a symbolic link$/],
      [rawTarOf([['Dockerfile', '0', 'FROM scratch\n'], [`${'d/'.repeat(2100)}f`, '0', 'deep']]), /has a path longer than 4095 bytes \(PATH_MAX\)$/],
      [Buffer.concat([rawTarOf([['Dockerfile', '0', 'FROM scratch\n']]).subarray(0, 512), Buffer.from('x')]), /^Error: cannot read the build context from stdin as a tar archive: /],
    ];
    for (const [tar, re] of cases) refused(await build(['-'], tar), re);
    assert.deepEqual(fs.readdirSync(target), []);
    assert.equal(fs.existsSync(path.join(store.root, 'x')), false);
    await noLeftovers();
  });

  test('ADD of a tar with an absolute link keeps it; one with .. or a write through a link is refused in words', async () => {
    const dir = context();
    fs.writeFileSync(path.join(dir, 'links.tar'), rawTarOf([['etc/', '5', ''], ['etc/mtab', '2', '/proc/self/mounts'], ['abs', '2', '/bin/busybox']]));
    fs.writeFileSync(path.join(dir, 'dotdot.tar'), rawTarOf([['../../x', '0', MARKER]]));
    fs.writeFileSync(path.join(dir, 'through.tar'), rawTarOf([['l', '2', outside], ['l/secret', '0', 'overwritten']]));
    const r = await build(['-t', 'adv-add', '-f', '-', dir], `FROM ${busybox}\nADD links.tar /x/\n`);
    assert.equal(r.code, 0, r.stderr);
    const out = await skiff(['run', '--rm', 'adv-add', 'sh', '-c', 'readlink /x/etc/mtab; readlink /x/abs'], { store });
    assert.equal(out.stdout, '/proc/self/mounts\n/bin/busybox\n', out.stderr);
    refused(await build(['-f', '-', dir], 'FROM scratch\nADD dotdot.tar /x/\n'), /^Error: Dockerfile:2: ADD: archive "\/dotdot.tar": entry "\.\.\/\.\.\/x" is outside of the destination/);
    refused(await build(['-f', '-', dir], 'FROM scratch\nADD through.tar /x/\n'), /^Error: Dockerfile:2: ADD: archive "\/through.tar": entry "l\/secret" would be written through "l", which is a symbolic link$/);
    assert.equal(fs.readFileSync(path.join(outside, 'secret'), 'utf8'), `${MARKER}\n`);
    await noLeftovers();
  });

  test('a context directory deeper than PATH_MAX: one line in words', async () => {
    const dir = context();
    // made one level at a time (relative to the last): no single path may exceed PATH_MAX
    const mk = `import os\nos.chdir(${JSON.stringify(dir)})\nfor _ in range(2100):\n    os.mkdir('dd'); os.chdir('dd')\nopen('f','w').write('x')\n`;
    execFileSync('python3', ['-c', mk]);
    refused(await build(['-f', '-', dir], 'FROM scratch\nCOPY . /x/\n'), /^Error: Dockerfile:2: COPY: .*(path is too long|longer than 4095 bytes)/);
    refused(await build(['-f', '-', dir], 'FROM scratch\nCOPY dd /x/\n'), /^Error: Dockerfile:2: COPY: .*(path is too long|longer than 4095 bytes)/);
    execFileSync('rm', ['-rf', dir]);
    await noLeftovers();
  });

  test('ENV, LABEL, WORKDIR with a NUL byte and expansion that doubles fail with the instruction named', async () => {
    const dir = context();
    for (const [line, re] of [
      ['ENV A=x\0y', /^Error: Dockerfile:2: ENV: the value of "A" holds a NUL byte/],
      ['LABEL a=x\0y', /^Error: Dockerfile:2: LABEL: the value of "a" holds a NUL byte/],
      ['WORKDIR /a\0b', /^Error: Dockerfile:2: WORKDIR: an argument holds a NUL byte/],
      ['ARG A=\0', /^Error: Dockerfile:2: ARG: the default of "A" holds a NUL byte/],
    ] as const) refused(await build(['-t', 'adv-nul', '-f', '-', dir], `FROM scratch\n${line}\n`), re);
    assert.equal((await skiff(['image', 'inspect', 'adv-nul'], { store })).code, 1);
    const bomb = `FROM scratch\nENV X=x\n${'ENV X=$X$X\n'.repeat(28)}`;
    refused(await build(['-f', '-', dir], bomb), /^Error: Dockerfile:23: ENV: failed to process "\$X\$X": the expansion is larger than 1048576 characters/);
    await noLeftovers();
  });

  test('after all of it the store still builds and runs', async () => {
    const dir = context({ 'hello.txt': 'still fine\n' });
    const r = await build(['-t', 'adv-after', '-f', '-', dir], `FROM ${busybox}\nCOPY hello.txt /\nRUN cat /hello.txt > /copy\n`);
    assert.equal(r.code, 0, r.stderr);
    const out = await skiff(['run', '--rm', 'adv-after', 'cat', '/copy'], { store });
    assert.equal(out.stdout, 'still fine\n', out.stderr);
    await noLeftovers();
  });
});
