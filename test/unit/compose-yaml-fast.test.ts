/** The fast YAML path (src/compose/yaml-fast.ts) against the `yaml` package: same values and lines wherever it takes a file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fastYaml } from '../../src/compose/yaml-fast.js';
import { readWithYaml } from '../../src/compose/yaml.js';
import { conformanceDir } from '../helpers/conformance.js';

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (/\.ya?ml$/.test(e.name)) out.push(p);
  }
  return out;
}

/** Both readers on one text: where the fast path answers, the yaml package's answer is the same. */
function agree(text: string, what: string): boolean {
  const fast = fastYaml(text);
  if (!fast) return false;
  let slow;
  try {
    slow = readWithYaml(text, what);
  } catch (e) {
    assert.fail(`${what}: the fast path read a file the yaml package refuses (${(e as Error).message})`);
  }
  assert.equal(slow.length, 1, what);
  assert.deepEqual(fast.value, slow[0]!.value, what);
  assert.deepEqual(Object.fromEntries(fast.lines), Object.fromEntries(slow[0]!.lines), what);
  assert.deepEqual(slow[0]!.resets, [], what);
  return true;
}

const corpus = conformanceDir('compose');

test('the corpus: every compose file the fast path reads, it reads as the yaml package does', { skip: corpus.skip }, () => {
  let taken = 0;
  const all = files(corpus.dir);
  for (const f of all) if (agree(fs.readFileSync(f, 'utf8'), f)) taken++;
  assert.ok(taken > all.length / 3, `the fast path took ${taken} of ${all.length} files`);
});

test('scalars, keys, sequences and comments as the yaml package types them', () => {
  const cases = [
    'a: 1\nb: 0440\nc: 0o17\nd: 0x1F\ne: 1.5\nf: .5\ng: 1e3\nh: -2\ni: +3\nj: 08\n',
    'a: true\nb: False\nc: yes\nd: ~\ne: null\nf:\ng: ""\nh: \'it\'\'s\'\ni: "x: y"\n',
    'a: b # comment\nc: "d" # comment\ne: f#g\n# top\nh: [1, "two", three, 4.5, true, null]\ni: []\nj: {}\n',
    'services:\n  web:\n    image: busybox\n    command: ["sh", "-c", "echo hi"]\n    ports:\n    - "80:80"\n    - 127.0.0.1:8080:80\n    environment:\n      - A=1\n      - B\n',
    'services:\n  web:\n    volumes:\n      - type: bind\n        source: ./x\n        target: /x\n      - v:/data\n    depends_on:\n      db:\n        condition: service_healthy\n',
    'x:\n  - key:\n    - c\n  -   spaced: 1\n      more: 2\n',
    'url: http://example.com/a?b=c\npath: /a/b:c\nneg: -1\nflag: --rm\ndash: a-b\n',
    'a: [v1:/data, "x"]\nb: [ a , b ]\n',
  ];
  for (const c of cases) assert.ok(agree(c, JSON.stringify(c)), `fast path declined: ${JSON.stringify(c)}`);
});

test('what the fast path leaves to the yaml package', () => {
  const declined = [
    'a: &x 1\nb: *x\n', 'a: !reset []\n', 'a: |\n  text\n', 'a: >\n  text\n', 'a: {b: 1}\n', '---\na: 1\n', 'a: 1\n---\nb: 2\n',
    'a: "x\\ty"\n', 'a: 1\na: 2\n', '<<: {}\n', 'a:\n\tb: 1\n', 'a: b\n  c\n', 'a: [1,\n  2]\n', '80: x\n', 'true: x\n', 'a: [1, 2,]\n',
    'a: .inf\n', '- a\n', 'a: "unterminated\n', 'a: b: c\n', '? a\n: b\n', '__proto__: 1\n', 'a:\n  -\n    b\n',
  ];
  for (const c of declined) assert.equal(fastYaml(c), undefined, JSON.stringify(c));
});

test('generated documents: wherever the fast path answers, the yaml package agrees', () => {
  // block maps and sequences at random indents, with keys and scalars near the subset's edges
  const scalars = ['plain', '80', '"s"', 'true', '1.5', 'yes', 'on', '0x1F', '1_000', '1:2', 'a #b', 'a#b', "'q''s'", '-x', ':x', 'x:', '~', '.5', '1.', '+1',
    '-.inf', '0o7', '07', '09', '1e5', '1E+5', 'a: b', '[a, b]', '[ "x" , y ]', '[a,]', '[]', '{}', '@x', '!x', '&a x', '*a', '|', '"a\\nb"', 'é', 'NULL',
    'tRue', 'a  # c', '"x" # c', "'x'#c", '"x"y', 'http://a/b', '0', '-0', '1.5e-3', '<<', '"a: b"', 'a b c', '- x', '1.2.3', '2001-01-01', '-1'];
  const keys = ['a', 'b', 'web', 'x-y', 'com.example.k', '"q k"', "'s k'", '80', 'true', 'null', '<<', '__proto__', 'a b', 'a:b', '-a', 'k #1', '[k]', 'é', 'yes'];
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const pick = (a: string[]): string => (rnd(4) ? a[rnd(6)]! : a[rnd(a.length)]!);
  const gen = (depth: number, indent: number): string[] => {
    const pad = ' '.repeat(indent);
    const out: string[] = [];
    const seq = depth <= 2 && rnd(3) === 2;
    for (let i = 0, n = 1 + rnd(3); i < n; i++) {
      if (rnd(10) === 0) out.push(`${pad}# comment`);
      if (seq) {
        if (depth < 3 && rnd(4) === 0) {
          const sub = gen(depth + 1, indent + 2);
          sub[0] = `${pad}- ${sub[0]!.trimStart()}`;
          out.push(...sub);
        } else out.push(`${pad}- ${pick(scalars)}`);
      } else if (depth < 3 && rnd(4) === 0) {
        out.push(`${pad}${pick(keys)}:${rnd(5) === 0 ? ' # c' : ''}`, ...gen(depth + 1, rnd(6) === 0 ? indent : indent + 1 + rnd(3)));
      } else out.push(`${pad}${pick(keys)}: ${pick(scalars)}${rnd(8) === 0 ? ' # t' : ''}`);
    }
    if (rnd(15) === 0) out.push(' '.repeat(indent + 1) + pick(scalars));
    return out;
  };
  let taken = 0;
  for (let t = 0; t < 20_000; t++) if (agree(`${gen(0, 0).join('\n')}\n`, `generated #${t}`)) taken++;
  assert.ok(taken > 2000, `the fast path took ${taken} documents`);
});
