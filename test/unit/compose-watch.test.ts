/** `develop.watch` in the model and compose watch's rule matching (src/compose/engine/watch-rules.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProject } from '../../src/compose/index.js';
import { activeRules, boundByMount, quoteList, ruleTarget } from '../../src/compose/engine/watch-rules.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-watch-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

const yaml = `services:
  web:
    build: ./app
    volumes:
      - ./mounted:/m
    develop:
      watch:
        - path: ./app/src
          action: sync
          target: /srv
          ignore: node_modules/
        - path: ./app/docs
          action: sync+restart
          target: /docs
          include: ["*.md"]
        - path: ./app/run
          action: sync+exec
          target: /run
          exec:
            command: make -C /run
            environment: {A: "1"}
        - path: ./app/package.json
          action: rebuild
        - path: ./mounted
          action: sync
          target: /m
  db:
    image: x
`;

function load(text = yaml): ReturnType<typeof loadProject> {
  const d = fs.mkdtempSync(path.join(tmp, 'p-'));
  fs.mkdirSync(path.join(d, 'app'));
  fs.writeFileSync(path.join(d, 'app', '.dockerignore'), '# comment\nsrc/*.log\n');
  fs.writeFileSync(path.join(d, 'compose.yaml'), text);
  return loadProject({ files: [path.join(d, 'compose.yaml')], env: {}, projectName: 'w' });
}

test('develop.watch: typed rules with absolute paths, string ignore as a list, exec command split; no warning', () => {
  const p = load();
  const w = p.services.web!.watch;
  const dir = path.dirname(p.services.web!.build!.context);
  assert.deepEqual(w[0], { path: path.join(dir, 'app', 'src'), action: 'sync', target: '/srv', ignore: ['node_modules/'], include: [], initialSync: false });
  assert.deepEqual(w[2]!.exec, { command: ['make', '-C', '/run'], privileged: false, environment: ['A=1'] });
  assert.equal(p.services.db!.watch.length, 0);
  assert.ok(!p.warnings.some((x) => x.message.includes('develop')), JSON.stringify(p.warnings));
});

test('ruleTarget: under path, ignore patterns, .dockerignore, include, editors\' files, .git', () => {
  const p = load();
  const rules = activeRules(p, []);
  const [src, docs, , rebuild] = rules;
  const base = src!.path;
  assert.equal(ruleTarget(src!, path.join(base, 'a', 'b.txt')), '/srv/a/b.txt');
  assert.equal(ruleTarget(src!, base), '/srv');
  assert.equal(ruleTarget(src!, `${base}x/y`), undefined, 'a sibling with the same prefix');
  assert.equal(ruleTarget(src!, path.join(base, 'node_modules', 'x', 'y.js')), undefined);
  assert.equal(ruleTarget(src!, path.join(base, 'x.log')), undefined, '.dockerignore of the context');
  assert.equal(ruleTarget(src!, path.join(base, 'sub', 'x.log')), '/srv/sub/x.log');
  for (const f of ['.index.html.swp', 'a~', '4913', '.#x', '.git/HEAD']) assert.equal(ruleTarget(src!, path.join(base, f)), undefined, f);
  assert.equal(ruleTarget(docs!, path.join(docs!.path, 'a.md')), '/docs/a.md');
  assert.equal(ruleTarget(docs!, path.join(docs!.path, 'a.txt')), undefined);
  assert.equal(ruleTarget(rebuild!, rebuild!.path), '');
  assert.ok(boundByMount(p.services.web!, rules[4]!.path));
  assert.ok(!boundByMount(p.services.web!, base));
  assert.equal(quoteList(['a', 'b']), '["a" "b"]');
});

test('activeRules: Docker Compose\'s errors', () => {
  const p = load();
  assert.throws(() => activeRules(p, ['db']), /^Error: none of the selected services is configured for watch, consider setting a 'develop' section$|none of the selected services is configured for watch/);
  const q = load(`services:\n  s:\n    image: x\n    develop:\n      watch:\n        - path: .\n          action: rebuild\n`);
  assert.throws(() => activeRules(q, []), /can't watch service "s" with action rebuild without a build context/);
});
