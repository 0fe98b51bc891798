/**
 * Resolving paths inside a root (tree.ts): symlinks are followed as if the root were `/` (absolute
 * targets start at the root, `..` stops there), never on the host; what a COPY source names
 * (context.ts matchSources) follows the same rules; .dockerignore hides paths from resolution too.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SkiffError } from '../../src/errors.js';
import { archiveKind, hashSources, matchSources } from '../../src/builder/context.js';
import { IgnoreMatcher } from '../../src/builder/dockerignore.js';
import { ContextTree } from '../../src/builder/tree.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-tree-'));
after(() => fs.rmSync(base, { recursive: true, force: true }));

/** A context: `outside/secret` next to it (never reachable), links of every kind inside. */
function context(): string {
  const dir = fs.mkdtempSync(path.join(base, 'ctx-'));
  fs.mkdirSync(path.join(dir, 'outside'));
  fs.writeFileSync(path.join(dir, 'outside/secret'), 'SECRET');
  const ctx = path.join(dir, 'ctx');
  fs.mkdirSync(path.join(ctx, 'etc'), { recursive: true });
  fs.mkdirSync(path.join(ctx, 'd/sub'), { recursive: true });
  fs.writeFileSync(path.join(ctx, 'etc/hostname'), 'inside');
  fs.writeFileSync(path.join(ctx, 'd/f'), 'f');
  fs.writeFileSync(path.join(ctx, 'd/sub/g'), 'g');
  fs.symlinkSync('/etc', path.join(ctx, 'abs')); // absolute: re-rooted at the context
  fs.symlinkSync('../../../../../../etc', path.join(ctx, 'up')); // `..` stops at the root
  fs.symlinkSync('abs', path.join(ctx, 'chain')); // a link to a link
  fs.symlinkSync('d', path.join(ctx, 'dirlink')); // a directory
  fs.symlinkSync('sub/../../..', path.join(ctx, 'd/mid')); // in the middle of a path, climbing out
  fs.symlinkSync('../outside/secret', path.join(ctx, 'rel')); // relative, out of the root
  fs.symlinkSync(path.join(dir, 'outside'), path.join(ctx, 'hostdir')); // absolute host path of a real dir outside
  fs.symlinkSync('loop2', path.join(ctx, 'loop1'));
  fs.symlinkSync('loop1', path.join(ctx, 'loop2'));
  fs.symlinkSync('nothing', path.join(ctx, 'dangling'));
  return ctx;
}

function withTree<T>(dir: string, fn: (t: ContextTree) => T, ignore: string[] = []): T {
  const t = new ContextTree(dir, new IgnoreMatcher(ignore));
  try {
    return fn(t);
  } finally {
    t.close();
  }
}

test('resolve: absolute, relative with .., chained, directory and mid-path links stay inside the root', () => {
  const ctx = context();
  withTree(ctx, (t) => {
    assert.equal(t.resolve('abs/hostname'), 'etc/hostname');
    assert.equal(t.resolve('up/hostname'), 'etc/hostname');
    assert.equal(t.resolve('chain/hostname'), 'etc/hostname');
    assert.equal(t.resolve('dirlink/sub/g'), 'd/sub/g');
    assert.equal(t.resolve('d/mid/etc/hostname'), 'etc/hostname');
    assert.equal(t.resolve('rel'), 'outside/secret'); // inside the context: not there
    assert.equal(t.entry(t.resolve('rel')), undefined);
    assert.equal(t.resolve('hostdir/secret'), `${path.dirname(ctx).slice(1)}/outside/secret`); // the host path, re-rooted
    assert.equal(t.entry(t.resolve('hostdir/secret')), undefined);
    // the last component is followed only when asked
    assert.equal(t.resolve('abs', false), 'abs');
    assert.equal(t.resolve('abs'), 'etc');
    assert.equal(t.resolve('dangling'), 'nothing');
    assert.throws(() => t.resolve('loop1'), (e: unknown) => e instanceof SkiffError && /too many levels of symbolic links/.test(e.message));
  });
});

test('entry, children, open, readlink never follow a link on the way', () => {
  withTree(context(), (t) => {
    assert.equal(t.entry('abs/hostname'), undefined); // `abs` is a link, not a directory of the tree
    assert.equal(t.entry('hostdir/secret'), undefined);
    assert.equal(t.entry('rel')!.st.isSymbolicLink(), true);
    assert.deepEqual(t.children('abs'), []);
    assert.deepEqual(t.children('dirlink'), []);
    assert.equal(t.readlink('abs'), '/etc');
    assert.throws(() => t.open('rel'), SkiffError); // O_NOFOLLOW: the link itself is not a file
    const fd = t.open('etc/hostname');
    try {
      assert.equal(fs.readFileSync(fd, 'utf8'), 'inside');
    } finally {
      fs.closeSync(fd);
    }
    assert.equal(t.readFile('/abs/hostname'), 'inside');
    assert.equal(t.readFile('rel'), undefined);
  });
});

test('a directory swapped for a link after it was looked at does not lead outside', () => {
  const ctx = context();
  withTree(ctx, (t) => {
    assert.ok(t.entry('d/f')?.st.isFile());
    // an attacker replaces d with a link to the directory holding the secret, with the same names
    fs.renameSync(path.join(ctx, 'd'), path.join(ctx, 'd.old'));
    fs.symlinkSync(path.join(ctx, '../outside'), path.join(ctx, 'd'));
    fs.copyFileSync(path.join(ctx, '../outside/secret'), path.join(ctx, '../outside/f'));
    let got = '';
    try {
      const fd = t.open('d/f');
      got = fs.readFileSync(fd, 'utf8');
      fs.closeSync(fd);
    } catch (e) {
      assert.ok(e instanceof SkiffError, String(e));
    }
    assert.notEqual(got, 'SECRET');
  });
});

test('matchSources follows a named source inside the context; wildcards do not enter linked directories', () => {
  withTree(context(), (t) => {
    assert.deepEqual(matchSources(t, 'abs/hostname'), [{ name: 'abs/hostname', rel: 'etc/hostname' }]);
    assert.deepEqual(matchSources(t, '/dirlink'), [{ name: 'dirlink', rel: 'd' }]);
    assert.deepEqual(matchSources(t, 'chain'), [{ name: 'chain', rel: 'etc' }]);
    for (const s of ['rel', 'hostdir/secret', 'dangling', 'abs/shadow', '../outside/secret']) {
      assert.throws(() => matchSources(t, s), (e: unknown) => e instanceof SkiffError && /not found$/.test(e.message), s);
    }
    assert.deepEqual(matchSources(t, 'dirlink/*').map((s) => s.name), ['d/f', 'd/mid', 'd/sub']);
    assert.deepEqual(matchSources(t, '*/hostname').map((s) => s.rel), ['etc/hostname']); // not abs/hostname nor chain/...
    assert.deepEqual(matchSources(t, 'd/mi?'), [{ name: 'd/mid', rel: '' }]); // climbs to the root, no further
  });
});

test('.dockerignore hides paths from resolution: a link to an ignored file finds nothing', () => {
  const ctx = context();
  fs.symlinkSync('etc/hostname', path.join(ctx, 'tohost'));
  withTree(ctx, (t) => {
    assert.equal(t.entry(t.resolve('tohost')), undefined);
    assert.throws(() => matchSources(t, 'tohost'), /not found/);
    assert.ok(t.entry('d/f'));
  }, ['etc']);
});

test('hashSources: the source name, contents reached through links, and hard links count', () => {
  const ctx = context();
  const h = (): string => withTree(ctx, (t) => hashSources(t, matchSources(t, 'dirlink')));
  const h1 = h();
  fs.writeFileSync(path.join(ctx, 'd/f'), 'changed');
  const h2 = h();
  assert.notEqual(h2, h1);
  fs.writeFileSync(path.join(ctx, 'd/f2'), 'changed');
  const h3 = h();
  fs.rmSync(path.join(ctx, 'd/f2'));
  fs.linkSync(path.join(ctx, 'd/f'), path.join(ctx, 'd/f2'));
  assert.notEqual(h(), h3, 'a hard link hashed like a copy');
});

test('archiveKind: what Docker takes for an archive on stdin', () => {
  const tarHeader = Buffer.alloc(512);
  tarHeader.write('Dockerfile', 0);
  tarHeader.write('0000644\0', 100);
  tarHeader.write('00000000020\0', 124);
  tarHeader.write('ustar\0' + '00', 257);
  tarHeader.fill(' ', 148, 156);
  let sum = 0;
  for (const b of tarHeader) sum += b;
  tarHeader.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  assert.equal(archiveKind(tarHeader), 'tar');
  const bad = Buffer.from(tarHeader);
  bad[0] = 0x41;
  assert.equal(archiveKind(bad), undefined);
  assert.equal(archiveKind(Buffer.alloc(512)), undefined); // an end-of-archive block is not an archive
  assert.equal(archiveKind(Buffer.from('FROM scratch\nCOPY . /\n')), undefined);
  assert.equal(archiveKind(Buffer.from([0x1f, 0x8b, 0x08, 0])), 'gzip');
  assert.equal(archiveKind(Buffer.from('BZh91AY')), 'bzip2');
  assert.equal(archiveKind(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])), 'xz');
});
