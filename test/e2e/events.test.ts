/**
 * `events` through the CLI: the store's event log as Docker's events (a run's lifecycle in order, the
 * die the monitor records when no CLI runs, images, volumes, networks), --filter, --since/--until in
 * Docker's time forms, the default line and `{{json .}}`, follow mode ended by SIGINT (exit 0),
 * rotation at the size limit, concurrent writers. Rootful and rootless.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { isRootless, SKIFF_BIN, storeCli, storeWithImage, type TempStore, until } from '../helpers/fixtures.js';

interface Message {
  status?: string;
  id?: string;
  from?: string;
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: string;
  time: number;
  timeNano: number;
}

const lines = (s: string): string[] => s.split('\n').filter(Boolean);

describe('events', () => {
  let store: TempStore;
  let image: string;
  const { sk, ok } = storeCli(() => store);
  /** Unix seconds with nanoseconds, as `--since`/`--until` take them */
  const stamp = (): string => (Date.now() / 1000).toFixed(3);
  const events = async (...args: string[]): Promise<Message[]> =>
    lines(await ok(['events', '--until', stamp(), '--format', '{{json .}}', ...args])).map((l) => JSON.parse(l) as Message);
  const actions = async (...args: string[]): Promise<string[]> => (await events(...args)).map((m) => m.Action);

  before(async () => {
    ({ store, image } = await storeWithImage());
  });
  after(async () => {
    await store.cleanup();
  });

  test('run --rm: create, start, die, destroy in order, with Docker\'s fields', async () => {
    const since = stamp();
    assert.equal((await sk(['run', '--rm', '--name', 'ev-rm', '--label', 'team=a', image, 'sh', '-c', 'exit 3'])).code, 3);
    const r = await sk(['run', '--rm', '--name', 'ev-rm2', image, 'true']);
    assert.equal(r.code, 0, r.stderr);
    const ms = await events('--since', since, '--filter', 'container=ev-rm');
    assert.deepEqual(ms.map((m) => m.Action), ['create', 'start', 'die', 'destroy']);
    const die = ms[2]!;
    assert.equal(die.Type, 'container');
    assert.equal(die.status, 'die');
    assert.equal(die.from, image);
    assert.equal(die.id, die.Actor.ID);
    assert.match(die.Actor.ID, /^[0-9a-f]{64}$/);
    assert.deepEqual(die.Actor.Attributes, { exitCode: '3', image, name: 'ev-rm', team: 'a', 'org.skiff.fixture': 'busybox' }); // the image's labels too, as Docker's
    assert.equal(die.scope, 'local');
    assert.equal(die.time, Math.floor(die.timeNano / 1e9));
    assert.ok(ms.every((m, i) => i === 0 || m.timeNano >= ms[i - 1]!.timeNano), 'times in order');
    // Docker's default line: fixed 9-digit time, type, action, id, sorted attributes
    const text = lines(await ok(['events', '--since', since, '--until', stamp(), '--filter', 'container=ev-rm2']));
    assert.equal(text.length, 4);
    assert.match(text[2]!, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}(Z|[+-]\\d\\d:\\d\\d) container die [0-9a-f]{64} \\(exitCode=0, image=${image.replace(/[.]/g, '\\.')}, name=ev-rm2, org\\.skiff\\.fixture=busybox\\)$`));
  });

  test('detached: the monitor records die with no CLI running; stop, kill, rename, rm', async () => {
    const since = stamp();
    const id = (await ok(['run', '-d', '--name', 'ev-d', image, 'sh', '-c', 'exit 7'])).trim();
    assert.equal((await ok(['wait', 'ev-d'])).trim(), '7'); // wait reads; only the monitor writes
    const die = (await events('--since', since, '--filter', `container=${id}`, '--filter', 'event=die'))[0];
    assert.equal(die?.Actor.Attributes.exitCode, '7');
    await ok(['rename', 'ev-d', 'ev-d2']);
    await ok(['rm', 'ev-d2']);
    assert.deepEqual(await actions('--since', since, '--filter', `container=${id}`), ['create', 'start', 'die', 'rename', 'destroy']);
    const rename = (await events('--since', since, '--filter', 'event=rename'))[0]!;
    assert.equal(rename.Actor.Attributes.name, 'ev-d2');
    assert.equal(rename.Actor.Attributes.oldName, '/ev-d');

    const s2 = stamp();
    await ok(['run', '-d', '--name', 'ev-stop', image, 'sleep', '60']);
    await ok(['stop', '-t', '0', 'ev-stop']);
    const stop = await events('--since', s2, '--filter', 'container=ev-stop');
    assert.deepEqual(stop.map((m) => m.Action), ['create', 'start', 'kill', 'die', 'stop']);
    assert.equal(stop[2]!.Actor.Attributes.signal, '9');
    assert.equal(stop[3]!.Actor.Attributes.exitCode, '137');
    await ok(['start', 'ev-stop']);
    await ok(['kill', '-s', 'USR1', 'ev-stop']); // sleep as pid 1 ignores it: still running
    await ok(['kill', 'ev-stop']);
    await ok(['wait', 'ev-stop']);
    const kill = await events('--since', s2, '--filter', 'container=ev-stop', '--filter', 'event=kill');
    assert.deepEqual(kill.map((m) => m.Actor.Attributes.signal), ['9', '10', '9']);
    await ok(['rm', 'ev-stop']);
  });

  test('images, volumes and networks; --filter type/event/image/label/volume', async () => {
    const since = stamp();
    await ok(['tag', image, 'evtest/other:1']);
    await ok(['rmi', 'evtest/other:1']);
    await ok(['volume', 'create', '--label', 'k=v', 'ev-vol']);
    await ok(['volume', 'rm', 'ev-vol']);
    const img = await events('--since', since, '--filter', 'type=image');
    assert.deepEqual(img.map((m) => `${m.Action} ${m.Actor.Attributes.name}`), ['tag evtest/other:1', 'untag evtest/other:1']);
    assert.match(img[0]!.Actor.ID, /^sha256:[0-9a-f]{64}$/);
    assert.equal(img[0]!.status, 'tag');
    assert.deepEqual(await actions('--since', since, '--filter', 'image=evtest/other'), ['tag', 'untag']);
    assert.deepEqual(await actions('--since', since, '--filter', 'image=evtest/other:2'), []);
    const vol = await events('--since', since, '--filter', 'volume=ev-vol');
    assert.deepEqual(vol.map((m) => `${m.Type} ${m.Action} ${m.Actor.ID}`), ['volume create ev-vol', 'volume destroy ev-vol']);
    assert.equal(vol[0]!.status, undefined); // Docker sets the deprecated fields for containers and images only
    // keys are ANDed, one key's values ORed
    assert.deepEqual(await actions('--since', since, '--filter', 'type=volume', '--filter', 'event=destroy', '--filter', 'event=create'), ['create', 'destroy']);
    assert.deepEqual(await actions('--since', since, '--filter', 'type=volume', '--filter', 'event=tag'), []);
    const s2 = stamp();
    await ok(['create', '--name', 'ev-lab', '--label', 'tier=web', image, 'true']);
    await ok(['rm', 'ev-lab']);
    assert.deepEqual(await actions('--since', s2, '--filter', 'label=tier=web'), ['create', 'destroy']);
    assert.deepEqual(await actions('--since', s2, '--filter', 'label=tier'), ['create', 'destroy']);
    assert.deepEqual(await actions('--since', s2, '--filter', 'label=tier=db'), []);
    if (!isRootless()) {
      const s3 = stamp();
      await ok(['network', 'create', 'ev-net']);
      await ok(['network', 'rm', 'ev-net']);
      const net = await events('--since', s3, '--filter', 'network=ev-net');
      assert.deepEqual(net.map((m) => `${m.Type} ${m.Action} ${m.Actor.Attributes.name} ${m.Actor.Attributes.type}`), ['network create ev-net bridge', 'network destroy ev-net bridge']);
    }
  });

  test('--since/--until: RFC 3339, Unix seconds and durations; bad values are one Error line', async () => {
    const before = stamp();
    await ok(['volume', 'create', 'ev-t1']);
    const mid = new Date().toISOString();
    await ok(['volume', 'create', 'ev-t2']);
    const names = async (...args: string[]): Promise<string[]> => (await events('--filter', 'type=volume', ...args)).map((m) => m.Actor.ID).filter((n) => n.startsWith('ev-t'));
    assert.deepEqual(await names('--since', before), ['ev-t1', 'ev-t2']);
    assert.deepEqual(await names('--since', mid), ['ev-t2']);
    assert.deepEqual(await names('--since', '10m'), ['ev-t1', 'ev-t2']);
    const r = await sk(['events', '--since', before, '--until', mid, '--filter', 'type=volume', '--format', '{{.Actor.ID}}']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines(r.stdout).filter((n) => n.startsWith('ev-t')), ['ev-t1']);
    const bad = await sk(['events', '--since', 'yesterday', '--until', stamp()]);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: invalid value for "since".*yesterday/);
    assert.equal(lines(bad.stderr).length, 1);
    const badFilter = await sk(['events', '--filter', 'colour=red', '--until', stamp()]);
    assert.equal(badFilter.code, 125);
    assert.match(badFilter.stderr, /^Error: invalid filter 'colour'\n$/);
  });

  test('follow: events as they happen; SIGINT ends it with exit 0', async () => {
    const since = stamp();
    const child = spawn(SKIFF_BIN, ['events', '--since', since, '--filter', 'container=ev-follow', '--format', '{{.Action}}'], {
      env: { ...process.env, ...store.env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    try {
      await ok(['run', '--rm', '--name', 'ev-follow', image, 'true']);
      await until('the follower to see the destroy', () => out.includes('destroy'));
      assert.equal(out, 'create\nstart\ndie\ndestroy\n');
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0, err);
    assert.equal(err, '');
  });

  test('rotation at the size limit; concurrent writers never interleave', async () => {
    const file = path.join(store.root, 'events', 'events.log');
    const env = { SKIFF_EVENTS_MAX_SIZE: '2000' };
    for (let i = 0; i < 30; i++) await ok(['volume', 'create', `ev-rot${i}`], { env }); // ~150 bytes each: two rotations at least
    assert.ok(fs.existsSync(`${file}.1`), 'rotated');
    for (const f of [file, `${file}.1`]) assert.ok(fs.statSync(f).size < 2000 + 4096, `${f} bounded`);
    const seen = (await events('--filter', 'type=volume')).map((m) => m.Actor.ID);
    assert.ok(seen.includes('ev-rot29'), 'the newest event is read back');
    assert.ok(!seen.includes('ev-rot0'), 'the oldest went with the second rotation');
    // 16 writers at once: every line whole
    const since = stamp();
    await Promise.all(Array.from({ length: 16 }, (_, i) => ok(['volume', 'create', `ev-par${i}`])));
    for (const l of lines(fs.readFileSync(file, 'utf8'))) JSON.parse(l);
    const par = (await events('--since', since, '--filter', 'type=volume')).map((m) => m.Actor.ID).sort();
    assert.deepEqual(par, Array.from({ length: 16 }, (_, i) => `ev-par${i}`).sort());
  });
});
