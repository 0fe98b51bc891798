/** .dockerignore reading and matching, checked against moby/patternmatcher's documented behaviour. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanPath, IgnoreMatcher, readIgnorePatterns } from '../../src/builder/dockerignore.js';

test('reading: comments, blanks, trimming, cleaning, leading slash, exclusions', () => {
  const text = '# comment\n\n  *.log  \n/build/\n!build/keep.txt\n./a/../b//c\n! spaced\n/\n';
  assert.deepEqual(readIgnorePatterns(text), ['*.log', 'build', '!build/keep.txt', 'b/c', '!spaced', '/']);
});

test('cleanPath is Go filepath.Clean', () => {
  for (const [i, o] of [['', '.'], ['a//b/./c/..', 'a/b'], ['/../x', '/x'], ['../../x', '../../x'], ['a/', 'a']]) {
    assert.equal(cleanPath(i!), o, i);
  }
});

const m = (patterns: string): IgnoreMatcher => new IgnoreMatcher(readIgnorePatterns(patterns));

test('* and ? stay inside one path element', () => {
  const x = m('*.log\nfile?.txt\n');
  assert.equal(x.ignored('a.log'), true);
  assert.equal(x.ignored('dir/a.log'), false);
  assert.equal(x.ignored('file1.txt'), true);
  assert.equal(x.ignored('file10.txt'), false);
});

test('** matches any number of directories, including none', () => {
  const x = m('**/*.tmp\ndocs/**\n');
  assert.equal(x.ignored('a.tmp'), true);
  assert.equal(x.ignored('a/b/c.tmp'), true);
  assert.equal(x.ignored('docs/x/y.md'), true);
  assert.equal(x.ignored('src/docs.md'), false);
});

test('a matching parent directory excludes what is under it', () => {
  const x = m('build\n');
  assert.equal(x.ignored('build'), true);
  assert.equal(x.ignored('build/out/bin'), true);
  assert.equal(x.ignored('src/build'), false);
});

test('! re-includes, and the last matching pattern wins', () => {
  const x = m('*.md\n!README.md\nREADME*.md\n');
  assert.equal(x.ignored('a.md'), true);
  assert.equal(x.ignored('README.md'), true);
  const y = m('logs\n!logs/keep.log\n');
  assert.equal(y.ignored('logs/other.log'), true);
  assert.equal(y.ignored('logs/keep.log'), false);
  assert.equal(y.hasExclusions, true);
});

test('character classes and escapes', () => {
  const x = m('[ab].txt\nlit\\*.txt\n');
  assert.equal(x.ignored('a.txt'), true);
  assert.equal(x.ignored('c.txt'), false);
  assert.equal(x.ignored('lit*.txt'), true);
  assert.equal(x.ignored('litx.txt'), false);
});
