import { test } from 'node:test';
import assert from 'node:assert/strict';
import { substitute, InvalidTemplateError, MissingRequiredError } from '../../src/compose/template.js';

const env: Record<string, string> = { FOO: 'first', BAR: '', NUM: '42' };
const lookup = (k: string): string | undefined => env[k];
const sub = (s: string): string => substitute(s, lookup);

test('plain, braced, escaped and literal dollars', () => {
  assert.equal(sub('$FOO ${FOO}'), 'first first');
  assert.equal(sub('$$FOO $${foo}'), '$FOO ${foo}');
  assert.equal(sub('a $ string'), 'a $ string');
  assert.equal(sub('^REGEX$'), '^REGEX$');
  assert.equal(sub('$}'), '$}');
  assert.equal(sub('$FOO-bar'), 'first-bar');
  assert.equal(sub('${FOO}_${NUM}'), 'first_42');
  assert.equal(sub('no vars'), 'no vars');
});

test('missing and empty variables, with warnings for unset ones', () => {
  const unset: string[] = [];
  assert.equal(substitute('${missing}|${BAR}|$missing2', lookup, { onUnset: (n) => unset.push(n) }), '||');
  assert.deepEqual(unset, ['missing', 'missing2']);
});

test('defaults, alternatives, nesting', () => {
  assert.equal(sub('${missing:-def}'), 'def');
  assert.equal(sub('${BAR:-def}'), 'def');
  assert.equal(sub('${BAR-def}'), '');
  assert.equal(sub('${missing-def}'), 'def');
  assert.equal(sub('${FOO:-def}'), 'first');
  assert.equal(sub('${FOO:+alt}|${BAR:+alt}|${BAR+alt}|${missing+alt}'), 'alt||alt|');
  assert.equal(sub('${missing:-${FOO}}'), 'first');
  assert.equal(sub('${missing:-${other:-deep}}-x'), 'deep-x');
  assert.equal(sub('${missing:-a} and ${FOO}'), 'a and first');
  assert.equal(sub('${missing:-$$}'), '$');
});

test('required variables', () => {
  assert.equal(sub('${FOO:?oops}'), 'first');
  assert.equal(sub('${BAR?oops}'), '');
  assert.throws(() => sub('${BAR:?must be set}'), (e: unknown) => e instanceof MissingRequiredError && /required variable BAR is missing a value: must be set/.test(e.message));
  assert.throws(() => sub('${missing?}'), /required variable missing is missing a value$/);
  assert.throws(() => sub('${missing:?$FOO is bad}'), /missing a value: first is bad/);
});

test('invalid templates', () => {
  for (const t of ['${', '${}', '${ }', '${ foo}', '${foo }', '${foo!}', 'x ${-a}']) {
    assert.throws(() => sub(t), (e: unknown) => e instanceof InvalidTemplateError && e.message === `Invalid template: ${JSON.stringify(t)}`, t);
  }
});
