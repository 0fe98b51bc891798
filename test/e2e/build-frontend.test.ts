/**
 * `build` with BuildKit's newer inputs, through the CLI binary: named contexts (--build-context),
 * COPY --parents / --exclude, --cache-from IMAGE (classic), --progress rawjson and tty. On the
 * fixture busybox image; runs rootful and rootless.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { buildSuite } from '../helpers/build.js';
import { registry, SKIFF_BIN, skiff, tempStore } from '../helpers/fixtures.js';
import { Terminal } from '../helpers/terminal.js';

describe('build: named contexts, COPY --parents/--exclude, classic --cache-from, progress', () => {
  const b = buildSuite('skiff-fe-ctx-');
  const { ctx, sk } = b;
  /** `find` of a directory in an image: sorted paths with their contents. */
  const listing = async (image: string, dir: string): Promise<string> => {
    const r = await sk(['run', '--rm', image, 'sh', '-c', `cd ${dir} && find . -type f | sort | while read f; do echo "$f=$(cat "$f")"; done`]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  test('--build-context NAME=DIR: COPY --from=NAME and FROM NAME read the directory (its .dockerignore applies)', async () => {
    const docs = ctx({ 'a.txt': 'A', 'sub/b.txt': 'B', 'secret.key': 'K', '.dockerignore': '*.key\n' });
    const dir = ctx({
      'Dockerfile': `FROM docs AS files
FROM ${b.busybox}
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
      '--build-context', `base-image=docker-image://${b.busybox}`, '--build-context', `tools=docker-image://${b.busybox}`,
      '--build-context', `img=docker-image://${b.busybox}`, dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stderr.includes('this stage is replaced'), r.stderr);
    assert.match(r.stderr, new RegExp(`#1 \\[tools 1/1\\] FROM docker-image://${b.busybox.replace(/[.]/g, '\\.')} AS tools`));
    assert.equal((await sk(['run', '--rm', 'fe/ctximg', 'cat', '/same'])).stdout, 'same\n');
  });

  test('--build-context faults: one Error line, exit 125, no image', async () => {
    const dir = ctx({ 'Dockerfile': `FROM ${b.busybox}\nCOPY --from=docs / /d/\n` });
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
      'Dockerfile': `FROM ${b.busybox}
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
    fs.writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${b.busybox}\nCOPY --exclude=*.sh hom* /ex1/\n`);
    const other = await sk(['build', '-t', 'fe/copy3', dir]);
    assert.equal(other.code, 0, other.stderr);
    assert.equal(await listing('fe/copy3', '/ex1'), './home.txt=5\n');
  });

  test('--cache-from IMAGE (classic): a pulled image\'s layers and history stand in for its steps (same image id); a changed COPY and what follows run', async () => {
    const ref = `${registry()}/fe/cachefrom:1`;
    const dir = ctx({
      'f.txt': 'one',
      'Dockerfile': `FROM ${b.busybox}
ENV A=1
COPY f.txt /f.txt
RUN echo ran > /ran && cat /f.txt
WORKDIR /w
RUN echo second > s
LABEL x=y
`,
    });
    const first = await sk(['build', '-q', '-t', ref, dir]);
    assert.equal(first.code, 0, first.stderr);
    const id = first.stdout.trim();
    assert.equal((await sk(['push', '-q', ref])).code, 0);
    // an empty store (a fresh CI runner): the image is pulled as cache, no RUN runs
    const s2 = await tempStore();
    try {
      const sk2 = (args: string[]) => skiff(args, { store: s2 });
      const r = await sk2(['build', '--progress', 'plain', '--cache-from', ref, dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((r.stderr.match(/^#\d+ CACHED$/gm) ?? []).length, 4, r.stderr);
      assert.ok(!/^#\d+ \d/m.test(r.stderr), `a RUN step ran:\n${r.stderr}`);
      assert.equal(r.stdout, `Successfully built ${id.slice(7, 19)}\n`);
      // a changed file: COPY makes another layer, so it and every step after it run
      fs.writeFileSync(path.join(dir, 'f.txt'), 'two');
      const c = await sk2(['build', '--progress', 'plain', '-t', 'fe/changed', '--cache-from', ref, dir]);
      assert.equal(c.code, 0, c.stderr);
      assert.equal((c.stderr.match(/^#\d+ CACHED$/gm) ?? []).length, 0, c.stderr);
      assert.match(c.stderr, /^#4 \d+\.\d+ two$/m);
      assert.equal((await sk2(['run', '--rm', 'fe/changed', 'cat', '/f.txt'])).stdout, 'two');
    } finally {
      await s2.cleanup();
    }
  });

  test('--cache-from IMAGE from the store; a RUN with a build arg in scope is not taken from it; an image that cannot be had is a warning', async () => {
    const dir = ctx({ 'Dockerfile': `FROM ${b.busybox}\nRUN echo a > /a\nARG V=1\nRUN echo $V > /v\n` });
    const first = await sk(['build', '-q', '-t', 'fe/localcache', dir]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal((await sk(['builder', 'prune', '-a', '-f'])).code, 0);
    const missing = `${registry()}/fe/no-such-image:1`;
    const r = await sk(['build', '--progress', 'plain', '--cache-from', 'fe/localcache', '--cache-from', missing, dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^#2 CACHED$/m);
    assert.match(r.stderr, /^#4 DONE /m);
    assert.match(r.stderr, new RegExp(`^\\[Warning\\] cache ${missing.replace(/[.]/g, '\\.')} not used: .+$`, 'm'));
  });

  test('--progress rawjson: one BuildKit SolveStatus a line (vertexes, base64 logs, cached, error); stdout keeps its lines', async () => {
    const dir = ctx({ 'Dockerfile': `FROM ${b.busybox}\nRUN echo json-step-output\nRUN echo second\n` });
    const statuses = (stderr: string): { vertexes?: { digest: string; name: string; started?: string; completed?: string; cached?: boolean; error?: string }[]; logs?: { vertex: string; stream: number; data: string }[] }[] =>
      stderr.split('\n').filter((l) => l !== '' && !l.startsWith('Error:')).map((l) => JSON.parse(l) as ReturnType<typeof statuses>[number]);
    const r = await sk(['build', '--progress', 'rawjson', '--network', 'none', '-t', 'fe/json', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Successfully built [0-9a-f]{12}\nSuccessfully tagged fe\/json\n$/);
    const st = statuses(r.stderr);
    const completed = st.flatMap((x) => x.vertexes ?? []).filter((v) => v.completed);
    assert.deepEqual(completed.map((v) => v.name), [`[1/3] FROM ${b.busybox}`, '[2/3] RUN echo json-step-output', '[3/3] RUN echo second']);
    const run = completed[1]!;
    assert.match(run.digest, /^sha256:[0-9a-f]{64}$/);
    assert.ok(run.started && Date.parse(run.completed!) >= Date.parse(run.started));
    const logs = st.flatMap((x) => x.logs ?? []).filter((l) => l.vertex === run.digest);
    assert.equal(logs.map((l) => Buffer.from(l.data, 'base64').toString()).join(''), 'json-step-output\n');
    assert.equal(logs[0]!.stream, 1);
    const again = await sk(['build', '--progress', 'rawjson', '--network', 'none', dir]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(statuses(again.stderr).flatMap((x) => x.vertexes ?? []).filter((v) => v.completed && v.cached).map((v) => v.name), ['[2/3] RUN echo json-step-output', '[3/3] RUN echo second']);
    // a failing step: its vertex has the error; one Error line; no image
    fs.writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${b.busybox}\nRUN exit 3\n`);
    const bad = await sk(['build', '--progress', 'rawjson', '--network', 'none', '-t', 'fe/jsonbad', dir]);
    assert.equal(bad.code, 1, bad.stderr);
    const failed = statuses(bad.stderr).flatMap((x) => x.vertexes ?? []).filter((v) => v.error);
    assert.equal(failed.length, 1, bad.stderr);
    assert.match(failed[0]!.error!, /exit code: 3$/);
    assert.equal(bad.stderr.split('\n').filter((l) => l.startsWith('Error:')).length, 1);
    assert.notEqual((await sk(['image', 'inspect', 'fe/jsonbad'])).code, 0);
  });

  test('--progress tty: a live view redrawn in place on a terminal (colour unless NO_COLOR); piped, plain lines and never a redraw', async () => {
    const dir = ctx({ 'Dockerfile': `FROM ${b.busybox}\nRUN echo tty-step-output && sleep 1\nENV X=1\n` });
    const run = async (env: Record<string, string>): Promise<string> => {
      const t = new Terminal([SKIFF_BIN, 'build', '--progress', 'tty', '--network', 'none', '--no-cache', dir], { env: { ...b.store.env, ...env } });
      try {
        const e = await t.exited;
        assert.equal(e.code, 0, t.output);
        return t.output;
      } finally {
        await t.close();
      }
    };
    const colour = await run({ NO_COLOR: '' });
    assert.match(colour, /\[\+\] Building \d+\.\ds \(3\/3\)\n/);
    assert.match(colour, /\x1b\[\d+A/, 'no redraw (cursor up)');
    assert.match(colour, /=> \[2\/3\] RUN echo tty-step-output && sleep 1 +\d+\.\ds/);
    assert.match(colour, /=> => # tty-step-output/);
    assert.match(colour, /\x1b\[34m/);
    const plain = await run({ NO_COLOR: '1' });
    assert.match(plain, /\[\+\] Building \d+\.\ds \(3\/3\)\n/);
    assert.ok(!/\x1b\[3\dm/.test(plain), 'colour despite NO_COLOR');
    const piped = await sk(['build', '--progress', 'tty', '--network', 'none', '--no-cache', dir]);
    assert.equal(piped.code, 0, piped.stderr);
    assert.ok(!piped.stderr.includes('\x1b'), piped.stderr);
    assert.match(piped.stderr, /^#1 \[1\/3\] FROM .*\n#1 DONE \d+\.\ds\n#2 \[2\/3\] RUN echo tty-step-output && sleep 1\n#2 \d+\.\d+ tty-step-output\n#2 DONE/);
  });
});
