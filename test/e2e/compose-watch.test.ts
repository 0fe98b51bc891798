/**
 * `compose watch` (issue 14), end to end through the CLI: the project started by watch itself, then
 * `develop.watch` rules applied as files change in the project directory: `sync` (a new file, a file
 * in a new directory, a changed file, a removed file; `ignore` patterns and .dockerignore honoured),
 * `sync+exec`, `rebuild` (a new image, the service's container recreated); Docker Compose's lines;
 * SIGTERM ends watch. Bounded polls for each state, no timing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { isRootless, registry, skiff, SKIFF_BIN, storeWithImage, until, type TempStore } from '../helpers/fixtures.js';

const composeFile = (image: string, appImage: string): string => `name: watchp
services:
  web:
    build: ./web
    image: ${appImage}
    command: ["sleep", "1000"]
    network_mode: none
    stop_grace_period: 1s
    develop:
      watch:
        - path: ./web/src
          action: sync
          target: /srv
          ignore:
            - "*.tmp"
        - path: ./web/hook
          action: sync+exec
          target: /hook
          exec:
            command: ["sh", "-c", "cat /hook/trigger > /srv/from-exec"]
        - path: ./web/Dockerfile
          action: rebuild
        - path: ./web/init
          action: sync
          target: /init
          initial_sync: true
  db:
    image: ${image}
    command: ["sleep", "1000"]
    network_mode: none
    stop_grace_period: 1s
`;

describe('compose watch', () => {
  let store: TempStore;
  let image: string;
  let dir: string;
  let watch: ChildProcess | undefined;
  let out = '';
  let err = '';
  const appImage = `${registry()}/compose-watch/web:${isRootless() ? 'rootless' : 'rootful'}-${process.pid}`;
  const compose = (args: string[]) => skiff(['compose', ...args], { store, cwd: dir });
  const catIn = async (file: string): Promise<string | undefined> => {
    const r = await compose(['exec', '-T', 'web', 'cat', file]);
    return r.code === 0 ? r.stdout : undefined;
  };

  before(async () => {
    ({ store, image } = await storeWithImage('busybox'));
    dir = fs.mkdtempSync(path.join(store.home, 'watch-'));
    fs.writeFileSync(path.join(dir, 'compose.yaml'), composeFile(image, appImage));
    fs.mkdirSync(path.join(dir, 'web', 'src'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'web', 'hook'));
    fs.writeFileSync(path.join(dir, 'web', 'Dockerfile'), `FROM ${image}\nRUN echo one >/version\n`);
    fs.writeFileSync(path.join(dir, 'web', '.dockerignore'), 'src/secret*\n');
    fs.writeFileSync(path.join(dir, 'web', 'src', 'old.txt'), 'old\n');
    fs.mkdirSync(path.join(dir, 'web', 'init', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'web', 'init', 'sub', 'pre.txt'), 'pre\n');
  });
  after(async () => {
    if (watch && watch.exitCode === null && watch.signalCode === null) watch.kill('SIGKILL');
    await compose(['down', '-t', '0']);
    await skiff(['rmi', '-f', appImage], { store });
    await store.cleanup();
  });

  test('config carries develop.watch: paths absolute, Docker Compose\'s key order', async () => {
    const r = await compose(['config']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(`        - path: ${path.join(dir, 'web', 'src')}\n          action: sync\n          target: /srv\n          ignore:\n            - "*.tmp"\n`), r.stdout);
    assert.ok(!r.stderr.includes('develop'), `no warning for develop: ${r.stderr}`);
    const none = await compose(['watch', 'db']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^Error: none of the selected services is configured for watch, consider setting a 'develop' section$/m);
  });

  test('watch: starts the project, then syncs, execs and rebuilds as files change; SIGTERM ends it', async () => {
    watch = spawn(SKIFF_BIN, ['compose', 'watch'], { cwd: dir, env: { ...process.env, ...store.env } });
    watch.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    watch.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((resolve) => watch!.on('close', (code) => resolve(code)));
    await until('watch to start', () => out.includes('Watch enabled\n') || watch!.exitCode !== null, 120_000);
    assert.ok(out.includes('Watch enabled\n'), `stdout:\n${out}\nstderr:\n${err}`);
    assert.ok(err.includes(' Container watchp-web-1 Started \n'), err);
    assert.equal(await catIn('/version'), 'one\n');
    assert.equal(await catIn('/init/sub/pre.txt'), 'pre\n', 'initial_sync: copied before watching');
    assert.equal(await catIn('/srv/old.txt'), undefined, 'no initial sync without initial_sync');

    // sync: a new file, a file in a new directory; the ignored ones stay out
    fs.writeFileSync(path.join(dir, 'web', 'src', 'skip.tmp'), 'no\n');
    fs.writeFileSync(path.join(dir, 'web', 'src', 'secret.txt'), 'no\n');
    fs.writeFileSync(path.join(dir, 'web', 'src', 'index.html'), 'hello\n');
    fs.mkdirSync(path.join(dir, 'web', 'src', 'a', 'b'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'web', 'src', 'a', 'b', 'deep.txt'), 'deep\n');
    await until('the new file in the container', async () => (await catIn('/srv/index.html')) === 'hello\n');
    await until('the file of the new directory in the container', async () => (await catIn('/srv/a/b/deep.txt')) === 'deep\n');
    assert.match(out, /^Syncing service "web" after \d+ changes were detected$/m);
    assert.equal(await catIn('/srv/skip.tmp'), undefined, 'ignore: pattern');
    assert.equal(await catIn('/srv/secret.txt'), undefined, '.dockerignore');

    // a changed file, then a removed one
    fs.writeFileSync(path.join(dir, 'web', 'src', 'index.html'), 'changed\n');
    await until('the changed file in the container', async () => (await catIn('/srv/index.html')) === 'changed\n');
    fs.rmSync(path.join(dir, 'web', 'src', 'index.html'));
    await until('the removed file gone from the container', async () => (await catIn('/srv/index.html')) === undefined);

    // sync+exec: the file synced, then the command run in the container
    fs.writeFileSync(path.join(dir, 'web', 'hook', 'trigger'), 'ran\n');
    await until('the exec command\'s output in the container', async () => (await catIn('/srv/from-exec')) === 'ran\n');

    // rebuild: a new image, the container recreated from it
    const before = (await skiff(['inspect', '-f', '{{.Id}}', 'watchp-web-1'], { store })).stdout;
    const oldImage = (await skiff(['inspect', '-f', '{{.Image}}', 'watchp-web-1'], { store })).stdout.trim();
    fs.writeFileSync(path.join(dir, 'web', 'Dockerfile'), `FROM ${image}\nRUN echo two >/version\n`);
    await until('the rebuilt service', async () => (await catIn('/version')) === 'two\n', 120_000);
    assert.notEqual((await skiff(['inspect', '-f', '{{.Id}}', 'watchp-web-1'], { store })).stdout, before);
    assert.ok(out.includes('Rebuilding service(s) ["web"] after changes were detected...\n'), out);
    assert.ok(out.includes('service(s) ["web"] successfully built\n'), out);
    // --prune (the default): the image the rebuild replaced is gone
    await until('the replaced image removed', async () => (await skiff(['image', 'inspect', oldImage], { store })).code !== 0);

    watch.kill('SIGTERM');
    assert.equal(await exited, 130);
    assert.ok(out.endsWith('Watch disabled\n'), out);
    assert.ok(!/^Error/m.test(err), err);
  });

  test('up --watch: the services attached and watched; Ctrl-C stops both', async () => {
    let upOut = '';
    const up = spawn(SKIFF_BIN, ['compose', 'up', '--watch'], { cwd: dir, env: { ...process.env, ...store.env } });
    up.stdout.setEncoding('utf8').on('data', (d: string) => (upOut += d));
    up.stderr.resume();
    const exited = new Promise<number | null>((resolve) => up.on('close', (code) => resolve(code)));
    try {
      await until('up --watch to watch', () => upOut.includes('Watch enabled\n') || up.exitCode !== null, 120_000);
      assert.ok(upOut.includes('Attaching to '), upOut);
      fs.writeFileSync(path.join(dir, 'web', 'src', 'later.txt'), 'later\n');
      await until('the file synced by up --watch', async () => (await catIn('/srv/later.txt')) === 'later\n');
      up.kill('SIGINT');
      assert.equal(await exited, 130);
      assert.ok(upOut.includes('Watch disabled\n'), upOut);
    } finally {
      if (up.exitCode === null && up.signalCode === null) up.kill('SIGKILL');
    }
  });

  test('up --watch refuses -d', async () => {
    const r = await compose(['up', '-d', '--watch']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: --watch and -d cannot be combined$/m);
  });
});
