/**
 * More compose verbs (issue 14), end to end through the CLI: `compose cp` both ways (into every
 * replica, out of #index, tar streams), `compose wait` (Docker Compose's line and exit code,
 * --down-project), `compose attach` (a running replica's output until it ends, its exit code) and
 * `compose events` (the project's container events from skiff's event log, text and --json,
 * SERVICE filter, one-off and other projects' containers left out). Errors exit 1 as docker compose.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { skiff, SKIFF_BIN, storeWithImage, until, type TempStore } from '../helpers/fixtures.js';

const composeFile = (image: string): string => `name: more
services:
  web:
    image: ${image}
    command: ["sh", "-c", "while true; do echo tick; sleep 0.2; done"]
    network_mode: none
    deploy:
      replicas: 2
  job:
    image: ${image}
    command: ["sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 3"]
    network_mode: none
`;

describe('compose cp, wait, attach, events', () => {
  let store: TempStore;
  let image: string;
  let dir: string;
  const compose = (args: string[], input?: string) => skiff(['compose', ...args], { store, cwd: dir, ...(input !== undefined ? { input } : {}) });
  const ok = async (args: string[]): Promise<string> => {
    const r = await compose(args);
    assert.equal(r.code, 0, `compose ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const id = async (name: string): Promise<string> => (await skiff(['inspect', '-f', '{{.Id}}', name], { store })).stdout.trim();

  before(async () => {
    ({ store, image } = await storeWithImage('busybox'));
    dir = fs.mkdtempSync(path.join(store.home, 'proj-'));
    fs.writeFileSync(path.join(dir, 'compose.yaml'), composeFile(image));
    fs.writeFileSync(path.join(dir, 'note.txt'), 'from the host\n');
    await ok(['up', '-d']);
  });
  after(async () => {
    await compose(['down', '-t', '0']);
    await store.cleanup();
  });

  test('cp: into every replica, out of one (--index), a tar stream out; Docker Compose\'s errors', async () => {
    await ok(['cp', 'note.txt', 'web:/tmp/']);
    for (const n of ['more-web-1', 'more-web-2']) assert.equal((await skiff(['exec', n, 'cat', '/tmp/note.txt'], { store })).stdout, 'from the host\n');
    await skiff(['exec', 'more-web-2', 'sh', '-c', 'echo two > /tmp/which'], { store });
    await ok(['cp', '--index', '2', 'web:/tmp/which', path.join(dir, 'which')]);
    assert.equal(fs.readFileSync(path.join(dir, 'which'), 'utf8'), 'two\n');
    const tar = await ok(['cp', 'web:/tmp/note.txt', '-']);
    assert.ok(tar.includes('note.txt') && tar.includes('from the host'), 'a tar stream of the file');
    const missing = await compose(['cp', 'nosuch:/x', path.join(dir, 'y')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error: no such service: nosuch$/m);
    const both = await compose(['cp', 'web:/a', 'job:/b']);
    assert.equal(both.code, 1);
    const none = await compose(['cp', '--index', '7', 'web:/tmp/which', path.join(dir, 'z')]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^Error: no container found for service "web"$/m);
  });

  test('attach: a running replica\'s output until it ends; its exit code', async () => {
    const child = spawn(SKIFF_BIN, ['compose', 'attach', '--no-stdin', '--index', '1', 'web'], { cwd: dir, env: { ...process.env, ...store.env } });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await until('attach to show the output', () => out.includes('tick\n'));
    await ok(['kill', 'web']);
    assert.equal(await exited, 137);
    const stopped = await compose(['attach', 'web']);
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /^Error: service "web" is not running$/m);
  });

  test('wait: the line of each container that stops and the exit code; events saw the run, in order', async () => {
    const jobId = await id('more-job-1');
    const waiting = compose(['wait', 'job']);
    await skiff(['exec', 'more-job-1', 'touch', '/tmp/go'], { store });
    const w = await waiting;
    assert.equal(w.code, 3, w.stderr);
    assert.equal(w.stdout, `container "${jobId}" exited with status code 3\n`);
    // the project's events, read back (--since/--until): text and JSON, the service filter, compose labels left out
    const text = (await ok(['events', '--since', '10m', '--until', '0s', 'job'])).trim().split('\n');
    const actions = text.map((l) => / container (\w+) /.exec(l)?.[1]);
    assert.deepEqual(actions.slice(0, 2), ['create', 'start']);
    assert.equal(actions.at(-1), 'die');
    for (const l of text) assert.match(l, new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6} container \\w+ ${jobId} \\(.*name=more-job-1.*\\)$`));
    const json = (await ok(['events', '--json', '--since', '10m', '--until', '0s'])).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(json.every((e) => e.type === 'container' && (e.service === 'web' || e.service === 'job')));
    assert.deepEqual(Object.keys(json[0]!), ['action', 'attributes', 'id', 'service', 'time', 'type']);
    const die = json.find((e) => e.action === 'die' && e.id === jobId)!;
    assert.equal((die.attributes as Record<string, string>).exitCode, '3');
    assert.ok(!Object.keys(die.attributes as object).some((k) => k.startsWith('com.docker.compose.')));
    assert.match(String(die.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  });

  test('events follows new events until interrupted; wait --down-project removes the project', async () => {
    const child = spawn(SKIFF_BIN, ['compose', 'events', '--json', 'job'], { cwd: dir, env: { ...process.env, ...store.env } });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // a start of the job (followed) and nothing of web (filtered out); retried until the follower is reading
    await until('events to show the job\'s start', async () => {
      await ok(['restart', 'job']);
      return out.split('\n').filter(Boolean).some((l) => (JSON.parse(l) as { action: string }).action === 'start');
    });
    assert.ok(out.split('\n').filter(Boolean).every((l) => (JSON.parse(l) as { service: string }).service === 'job'), out);
    child.kill('SIGINT');
    assert.equal(await exited, 0);
    const waiting = compose(['wait', '--down-project', 'job']);
    await skiff(['exec', 'more-job-1', 'touch', '/tmp/go'], { store });
    const w = await waiting;
    assert.equal(w.code, 3, w.stderr);
    assert.equal((await skiff(['ps', '-aq', '--filter', 'label=com.docker.compose.project=more'], { store })).stdout, '');
    const gone = await compose(['wait', 'job']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /^Error: no containers for project "more"$/m);
  });
});
