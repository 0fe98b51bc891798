/**
 * `build` with BuildKit's newer inputs, through the CLI binary: named contexts (--build-context),
 * COPY --parents / --exclude, --cache-from IMAGE (classic), --progress rawjson and tty. On the
 * fixture busybox image; runs rootful and rootless.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtures, skiff, tempStore, type TempStore } from '../helpers/fixtures.js';

/** A context directory with these files. */
function context(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-fe-ctx-'));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  fs.chmodSync(dir, 0o755);
  return dir;
}

describe('build: named contexts, COPY --parents/--exclude, classic --cache-from, progress', () => {
  let store: TempStore;
  let busybox: string;
  const dirs: string[] = [];
  const ctx = (files: Record<string, string>): string => {
    const d = context(files);
    dirs.push(d);
    return d;
  };
  const sk = (args: string[], env?: Record<string, string>) => skiff(args, { store, ...(env ? { env } : {}) });
  /** `find` of a directory in an image: sorted paths with their contents. */
  const listing = async (image: string, dir: string): Promise<string> => {
    const r = await sk(['run', '--rm', image, 'sh', '-c', `cd ${dir} && find . -type f | sort | while read f; do echo "$f=$(cat "$f")"; done`]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  before(async () => {
    store = await tempStore();
    busybox = fixtures().busybox;
    const r = await sk(['pull', '-q', busybox]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    await store.cleanup();
  });

  test('--build-context NAME=DIR: COPY --from=NAME and FROM NAME read the directory (its .dockerignore applies)', async () => {
    const docs = ctx({ 'a.txt': 'A', 'sub/b.txt': 'B', 'secret.key': 'K', '.dockerignore': '*.key\n' });
    const dir = ctx({
      'Dockerfile': `FROM docs AS files
FROM ${busybox}
COPY --from=docs / /d1/
COPY --from=files /sub /d2/
RUN --mount=from=docs,target=/m cat /m/a.txt > /from-mount
`,
    });
    const r = await sk(['build', '-t', 'fe/ctxdir', '--build-context', `docs=${docs}`, dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await listing('fe/ctxdir', '/d1'), './.dockerignore=*.key\n./a.txt=A\n./sub/b.txt=B\n');
    assert.equal(await listing('fe/ctxdir', '/d2'), './b.txt=B\n');
    assert.equal((await sk(['run', '--rm', 'fe/ctxdir', 'cat', '/from-mount'])).stdout, 'A');
    // a changed file in the named context is a changed step
    fs.writeFileSync(path.join(docs, 'a.txt'), 'A2');
    const again = await sk(['build', '-t', 'fe/ctxdir', '--build-context', `docs=${docs}`, dir]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await listing('fe/ctxdir', '/d1'), './.dockerignore=*.key\n./a.txt=A2\n./sub/b.txt=B\n');
  });

  test('--build-context NAME=docker-image://REF: FROM NAME (names compared as references), COPY --from=NAME; a stage named NAME is replaced', async () => {
    const dir = ctx({
      'Dockerfile': `FROM toolbox AS tools
RUN echo this stage is replaced && exit 7
FROM docker.io/library/base-image:latest
COPY --from=tools /bin/busybox /bb
COPY --from=img /bin/busybox /bb2
RUN cmp /bb /bb2 && echo same > /same
`,
    });
    const r = await sk(['build', '--progress', 'plain', '-t', 'fe/ctximg',
      '--build-context', `base-image=docker-image://${busybox}`, '--build-context', `tools=docker-image://${busybox}`,
      '--build-context', `img=docker-image://${busybox}`, dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stderr.includes('this stage is replaced'), r.stderr);
    assert.match(r.stderr, new RegExp(`#1 \\[tools 1/1\\] FROM docker-image://${busybox.replace(/[.]/g, '\\.')} AS tools`));
    assert.equal((await sk(['run', '--rm', 'fe/ctximg', 'cat', '/same'])).stdout, 'same\n');
  });

  test('--build-context faults: one Error line, exit 125, no image', async () => {
    const dir = ctx({ 'Dockerfile': `FROM ${busybox}\nCOPY --from=docs / /d/\n` });
    const cases: [string, RegExp][] = [
      ['docs', /^Error: invalid context value: docs, expected key=value\n$/],
      ['docs=https://example.invalid/x.tar', /^Error: invalid context docs=https:\/\/example\.invalid\/x\.tar: skiff supports a local directory or docker-image:\/\/REF as a named context\n$/],
      ['Docs=/tmp', /^Error: invalid context name Docs: .*\n$/],
      ['docs=/nonexistent-skiff-dir', /^Error: build context docs: unable to prepare context: path "\/nonexistent-skiff-dir" not found\n$/],
      ['docs=docker-image://UPPER', /^Error: invalid context docs: .*\n$/],
    ];
    for (const [v, re] of cases) {
      const r = await sk(['build', '-t', 'fe/ctxbad', '--build-context', v, dir]);
      assert.equal(r.code, 125, `${v}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
    assert.notEqual((await sk(['image', 'inspect', 'fe/ctxbad'])).code, 0);
  });

  test('COPY --parents keeps each source\'s path (from the ./ pivot; ** matches directories); COPY/ADD --exclude skip what the patterns match', async () => {
    const dir = ctx({
      'x/y/a.txt': '1', 'x/z/a.txt': '2', 'x/y/b.md': '3', 'p/q/c.txt': '4', 'home.txt': '5', 'homer.sh': '6',
      'Dockerfile': `FROM ${busybox}
COPY --parents x/*/a.txt /par1/
COPY --parents ./x/./y/a.txt /par2/
COPY --parents **/*.txt /par3/
COPY --parents p /par4/
COPY --exclude=*.txt hom* /ex1/
COPY --exclude=*.md --exclude=z x /ex2/
ADD --exclude=**/*.txt x /ex3/
`,
    });
    const r = await sk(['build', '-t', 'fe/copy', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await listing('fe/copy', '/par1'), './x/y/a.txt=1\n./x/z/a.txt=2\n');
    assert.equal(await listing('fe/copy', '/par2'), './y/a.txt=1\n');
    assert.equal(await listing('fe/copy', '/par3'), './home.txt=5\n./p/q/c.txt=4\n./x/y/a.txt=1\n./x/z/a.txt=2\n');
    assert.equal(await listing('fe/copy', '/par4'), './p/q/c.txt=4\n');
    assert.equal(await listing('fe/copy', '/ex1'), './homer.sh=6\n');
    // patterns below a directory source match the path under it (*.md is not y/b.md, as in .dockerignore)
    assert.equal(await listing('fe/copy', '/ex2'), './y/a.txt=1\n./y/b.md=3\n');
    assert.equal(await listing('fe/copy', '/ex3'), './y/b.md=3\n');
    // another pattern is another step
    fs.appendFileSync(path.join(dir, 'Dockerfile'), '');
    const again = await sk(['build', '--progress', 'plain', '-t', 'fe/copy2', '--build-arg', 'X=1', dir]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((again.stderr.match(/ CACHED$/gm) ?? []).length, 7, again.stderr);
    fs.writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${busybox}\nCOPY --exclude=*.sh hom* /ex1/\n`);
    const other = await sk(['build', '-t', 'fe/copy3', dir]);
    assert.equal(other.code, 0, other.stderr);
    assert.equal(await listing('fe/copy3', '/ex1'), './home.txt=5\n');
  });
});
