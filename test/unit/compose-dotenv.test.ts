import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseDotenv, readDotenvFiles, envFromFiles, readEnvFile } from '../../src/compose/dotenv.js';
import { conformanceDir, throwsMsg } from '../helpers/conformance.js';

const { dir, skip } = conformanceDir('compose', 'compose-go/dotenv/fixtures');
const fx = (name: string): string => path.join(dir, 'compose-go/dotenv/fixtures', name);
const read = (name: string, env: Record<string, string> = {}): Record<string, string> =>
  Object.fromEntries(readDotenvFiles([fx(name)], (k) => env[k]));

test('plain.env: spaces around =, empty values, inline comment, digit keys dropped', { skip }, () => {
  assert.deepEqual(read('plain.env'), {
    OPTION_A: '1', OPTION_B: '2', OPTION_C: '3', OPTION_D: '4', OPTION_E: '5', OPTION_F: '', OPTION_G: '', OPTION_H: 'my string',
  });
});

test('exported.env and equals.env', { skip }, () => {
  assert.deepEqual(read('exported.env'), { OPTION_A: '2', OPTION_B: '\\n' });
  assert.deepEqual(read('equals.env'), { OPTION_A: 'postgres://localhost:5432/database?sslmode=disable' });
});

test('quoted.env: single quotes literal, double quotes escape, multi-line, escaped quote', { skip }, () => {
  assert.deepEqual(read('quoted.env'), {
    OPTION_A: '1', OPTION_B: '2', OPTION_C: '', OPTION_D: '\\n', OPTION_E: '1', OPTION_F: '2', OPTION_G: '', OPTION_H: '\n',
    OPTION_I: "echo 'asd'", OPTION_J: 'first line\nsecond line\nthird line\nand so on', OPTION_K: "Let's go!", OPTION_Z: 'last value',
  });
});

test('unquoted.env keeps inner spaces and UTF-8', { skip }, () => {
  assert.deepEqual(read('unquoted.env'), {
    OPTION_A: 'some quoted phrase',
    OPTION_B: 'first one with an unquoted phrase',
    OPTION_C: 'then another one with an unquoted phrase',
    OPTION_D: 'then another one with an unquoted phrase special \u00e8 char',
    OPTION_E: 'then another one quoted phrase',
  });
});

test('substitutions.env: earlier keys, then the process env first', { skip }, () => {
  assert.deepEqual(read('substitutions.env'), { OPTION_A: '1', OPTION_B: '1', OPTION_C: '1', OPTION_D: '1_1', OPTION_E: '' });
  assert.deepEqual(read('substitutions.env', { OPTION_A: '5' }), { OPTION_A: '1', OPTION_B: '5', OPTION_C: '5', OPTION_D: '5_5', OPTION_E: '' });
  assert.deepEqual(read('substitutions-default.env', { OPTION_A: '5' }), { OPTION_A: '5', OPTION_B: '5', OPTION_C: '5', OPTION_D: '5_5', OPTION_E: '' });
  assert.deepEqual(read('substitutions-default.env'), { OPTION_A: '1', OPTION_B: '1', OPTION_C: '1', OPTION_D: '1_1', OPTION_E: '' });
});

test('inherited bare keys take the process value, or are absent', { skip }, () => {
  const env = { VAR_TO_BE_LOADED_FROM_OS_ENV: 'SOME_RANDOM_VALUE' };
  assert.deepEqual(read('inherited-single-var.env', env), env);
  assert.deepEqual(read('inherited-multi-var.env', env), { foo: 'bar', VAR_TO_BE_LOADED_FROM_OS_ENV: 'SOME_RANDOM_VALUE', bar: 'baz' });
  assert.deepEqual(read('inherited-not-found.env'), {});
});

test('invalid1.env, special.env, BOM, directories', { skip }, () => {
  throwsMsg(() => read('invalid1.env'), /failed to read .*invalid1\.env: line 7: key cannot contain a space/);
  assert.deepEqual(read('special.env'), { 'VAR.WITH.DOTS': 'dots', VAR_WITH_UNDERSCORES: 'underscores', 'VAR-WITH-DASHES': 'dashes' });
  assert.deepEqual(read('utf8-bom.env'), { OPTION_A: '1', OPTION_B: '2', OPTION_C: '3', OPTION_D: '4', OPTION_E: '5', OPTION_F: '', OPTION_G: '', OPTION_H: 'my string' });
  throwsMsg(() => readEnvFile(dir), /is a directory/);
  throwsMsg(() => envFromFiles(new Map(), [path.join(dir, 'nope.env')]), /couldn't find env file: .*nope\.env/);
});

test('inline rules: THREE = "3", quotes and expansion, \\$ stops it', () => {
  const env = (text: string, lookup: Record<string, string> = {}): Record<string, string> => Object.fromEntries(parseDotenv(text, (k) => lookup[k]));
  assert.deepEqual(env('THREE = "3"'), { THREE: '3' });
  assert.deepEqual(env('A="x${BAR}"\nB=\'x${BAR}\'\nC="foo\\${BAR}"\nD=$BAR-y', { BAR: 'b' }), { A: 'xb', B: 'x${BAR}', C: 'foo${BAR}', D: 'b-y' });
  assert.deepEqual(env('K: v\nexport  L=w\n# c\n\nM="a\\tb\\"c"\nLAST'), { K: 'v', L: 'w', M: 'a\tb"c' });
  assert.deepEqual(env('LAST', { LAST: 'x' }), { LAST: 'x' }, 'a bare key on the last line, without a newline');
  assert.throws(() => env('A="open'), /line 1: unterminated quoted value "open/);
  assert.throws(() => env('A$B=1'), /unexpected character "\$" in variable name/);
});

test('--env-file files: later wins, the process env resolves references', () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-dotenv-'));
  try {
    fs.writeFileSync(path.join(d, 'a.env'), 'X=1\nY=${Z}\n');
    fs.writeFileSync(path.join(d, 'b.env'), 'X=2\nW=$X\n');
    const out = envFromFiles(new Map([['Z', 'z']]), ['a.env', 'b.env'], d);
    assert.deepEqual(Object.fromEntries(out), { X: '2', Y: 'z', W: '2' });
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});
