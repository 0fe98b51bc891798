/**
 * `volume create|ls|inspect|rm|prune|exists` through the CLI: Docker's records, filters, formats,
 * errors and exit codes; volumes in use by containers (created and running); anonymous volumes
 * (`rm -v`, `volume prune` without and with `-a`); volumes with options (`type=tmpfs`, a bind of
 * `device`) as a container sees them. Rootful and rootless.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { skiff, storeCli, storeWithImage, tempStore, type TempStore } from '../helpers/fixtures.js';
import { mountAt, parseMountinfo } from '../helpers/mountinfo.js';
import { leftSince, storeSnapshot } from '../helpers/leftovers.js';

const lines = (s: string): string[] => s.split('\n').filter(Boolean);

describe('volume commands', () => {
  let store: TempStore;
  let image: string;
  let dir: string;
  const { sk, ok } = storeCli(() => store);
  const names = async (...filters: string[]): Promise<string[]> => lines(await ok(['volume', 'ls', '-q', ...filters.flatMap((f) => ['--filter', f])]));

  before(async () => {
    ({ store, image } = await storeWithImage());
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-volume-'));
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(path.join(dir, 'in'), 'from-host\n');
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await store.cleanup();
  });

  test('create, inspect (Docker\'s fields), ls (table, -q, --format), exists, rm', async () => {
    assert.equal(await ok(['volume', 'create', '--label', 'team=a', '--label', 'tier', 'v1']), 'v1\n');
    const [v] = JSON.parse(await ok(['volume', 'inspect', 'v1'])) as Record<string, unknown>[];
    assert.deepEqual(Object.keys(v!).sort(), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
    assert.equal(v!.Name, 'v1');
    assert.equal(v!.Driver, 'local');
    assert.equal(v!.Scope, 'local');
    assert.deepEqual(v!.Labels, { team: 'a', tier: '' });
    assert.equal(v!.Options, null);
    assert.equal(v!.Mountpoint, path.join(store.root, 'volumes/v1/_data'));
    assert.match(String(v!.CreatedAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    assert.ok(fs.statSync(String(v!.Mountpoint)).isDirectory());
    // creating an existing volume is not an error and changes nothing (Docker)
    assert.equal(await ok(['volume', 'create', '--label', 'other=1', 'v1']), 'v1\n');
    assert.deepEqual((JSON.parse(await ok(['volume', 'inspect', 'v1'])) as Record<string, unknown>[])[0]!.Labels, { team: 'a', tier: '' });
    // a generated name: 64 hex, as Docker
    const gen = (await ok(['volume', 'create'])).trim();
    assert.match(gen, /^[0-9a-f]{64}$/);
    assert.equal(await ok(['volume', 'inspect', '--format', '{{.Name}} {{.Driver}} {{.Scope}}', 'v1', gen]), `v1 local local\n${gen} local local\n`);
    assert.equal(await ok(['volume', 'inspect', '--format', '{{index .Labels "team"}}', 'v1']), 'a\n');
    const table = lines(await ok(['volume', 'ls']));
    assert.match(table[0]!, /^DRIVER +VOLUME NAME$/);
    assert.deepEqual(table.slice(1).map((l) => l.split(/ +/)).sort(), [['local', gen], ['local', 'v1']].sort());
    assert.deepEqual((await names()).sort(), [gen, 'v1'].sort());
    assert.deepEqual(lines(await ok(['volume', 'ls', '--format', '{{.Name}}|{{.Labels}}|{{.Label "team"}}|{{.Scope}}', '--filter', 'name=v1'])), ['v1|team=a,tier=|a|local']);
    assert.deepEqual(lines(await ok(['volume', 'ls', '--format', 'table {{.Name}}\t{{.Driver}}', '-f', 'name=v1'])).map((l) => l.split(/\t| +/)), [['VOLUME', 'NAME', 'DRIVER'], ['v1', 'local']]);
    assert.equal((await sk(['volume', 'exists', 'v1'])).code, 0);
    const no = await sk(['volume', 'exists', 'nosuch']);
    assert.deepEqual([no.code, no.stdout, no.stderr], [1, '', '']);
    assert.equal(await ok(['volume', 'rm', 'v1', gen]), `v1\n${gen}\n`);
    assert.deepEqual(await names(), []);
    assert.equal(fs.existsSync(path.join(store.root, 'volumes/v1')), false);
  });

  test('filters: name (substring), label (key, key=value), label!, dangling, driver; bad filters', async () => {
    await ok(['volume', 'create', '--label', 'env=prod', 'f-prod']);
    await ok(['volume', 'create', '--label', 'env=dev', 'f-dev']);
    await ok(['volume', 'create', 'f-plain']);
    await ok(['create', '--name', 'f-user', '-v', 'f-dev:/d', image, 'true']);
    assert.deepEqual(await names('name=f-'), ['f-dev', 'f-plain', 'f-prod']);
    assert.deepEqual(await names('name=prod', 'name=plain'), ['f-plain', 'f-prod']);
    assert.deepEqual(await names('label=env'), ['f-dev', 'f-prod']);
    assert.deepEqual(await names('label=env=prod'), ['f-prod']);
    assert.deepEqual(await names('label!=env', 'name=f-'), ['f-plain']);
    assert.deepEqual(await names('dangling=true', 'name=f-'), ['f-plain', 'f-prod']);
    assert.deepEqual(await names('dangling=false'), ['f-dev']);
    assert.deepEqual(await names('driver=local', 'name=f-'), ['f-dev', 'f-plain', 'f-prod']);
    assert.deepEqual(await names('driver=nfs'), []);
    for (const [f, msg] of [['bogus=1', "invalid filter 'bogus'"], ['dangling=maybe', "invalid filter 'dangling=maybe'"], ['noequals', 'bad format of filter (expected name=value): noequals']]) {
      const r = await sk(['volume', 'ls', '--filter', f]);
      assert.equal(r.code, 125, f);
      assert.equal(r.stderr, `Error: ${msg}\n`);
    }
    await ok(['rm', 'f-user']);
    await ok(['volume', 'rm', 'f-prod', 'f-dev', 'f-plain']);
  });

  test("errors: Docker's words, exit 1 for a missing or refused volume; nothing is made", async () => {
    const snap = storeSnapshot(store);
    const cases: [string[], number, string][] = [
      [['volume', 'inspect', 'nosuch'], 1, 'No such volume: nosuch'],
      [['volume', 'rm', 'nosuch'], 1, 'No such volume: nosuch'],
      [['volume', 'create', 'a/b'], 1, '"a/b" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path'],
      [['volume', 'create', '..'], 1, '".." includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path'],
      [['volume', 'create', '-o', 'foo=1', 'x1'], 1, 'invalid option key: "foo"'],
      [['volume', 'create', '-o', 'device=/tmp', 'x1'], 1, 'missing required option: "type"'],
      [['volume', 'create', '-o', 'type=none', '-o', 'device=/tmp', 'x1'], 1, 'invalid option: type=none needs o=bind'],
      [['volume', 'create', '-d', 'nfsplugin', 'x1'], 1, 'error looking up volume plugin nfsplugin: plugin "nfsplugin" not found'],
      [['volume', 'create', '-o', 'novalue', 'x1'], 125, 'invalid key value pair format in driver options: "novalue"'],
    ];
    for (const [args, code, msg] of cases) {
      const r = await sk(args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, `Error: ${msg}\n`, args.join(' '));
    }
    assert.deepEqual(await leftSince(store, snap), {});
    assert.deepEqual(await names(), []);
    // inspect of one missing among found ones: the found ones printed, the error, exit 1 (Docker)
    await ok(['volume', 'create', 'e1']);
    const r = await sk(['volume', 'inspect', '--format', '{{.Name}}', 'e1', 'nosuch']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, 'e1\n', 'Error: No such volume: nosuch\n']);
    // rm -f of a missing volume is not an error (Docker)
    assert.equal((await sk(['volume', 'rm', '-f', 'nosuch'])).code, 0);
    await ok(['volume', 'rm', 'e1']);
  });

  test('a volume in use: refused without -f; -f refuses while a running container uses it, then removes it', async () => {
    const id = (await ok(['create', '--name', 'u-created', '-v', 'u1:/d', image, 'true'])).trim();
    assert.deepEqual(await names('name=u1'), ['u1'], 'a container made the named volume');
    const r = await sk(['volume', 'rm', 'u1']);
    assert.deepEqual([r.code, r.stderr], [1, `Error: remove u1: volume is in use - [${id}]\n`]);
    const runId = (await ok(['run', '-d', '--name', 'u-running', '-v', 'u1:/d', image, 'sleep', '1000'])).trim();
    const f = await sk(['volume', 'rm', '-f', 'u1']);
    assert.equal(f.code, 1);
    assert.equal(f.stderr, `Error: remove u1: volume is in use - [${runId}]\n`, 'only the running container blocks -f');
    assert.deepEqual(await names('name=u1'), ['u1']);
    await ok(['rm', '-f', 'u-running']);
    assert.equal(await ok(['volume', 'rm', '-f', 'u1']), 'u1\n', '-f removes a volume only created containers use');
    assert.deepEqual(await names('name=u1'), []);
    await ok(['rm', 'u-created']);
  });

  test('rm -v removes the anonymous volumes only; prune removes unused anonymous ones, -a every unused one', async () => {
    await ok(['volume', 'create', 'p-named']);
    await ok(['volume', 'create', '--label', 'keep=1', 'p-labelled']);
    const before = await names();
    // an anonymous volume made by -v /path carries Docker's anonymous label
    await ok(['create', '--name', 'p-c1', '-v', '/anon', '-v', 'p-withc:/named', image, 'true']);
    const anon = (await names()).filter((n) => !before.includes(n) && n !== 'p-withc');
    assert.equal(anon.length, 1);
    assert.match(anon[0]!, /^[0-9a-f]{64}$/);
    assert.deepEqual((JSON.parse(await ok(['volume', 'inspect', anon[0]!])) as Record<string, unknown>[])[0]!.Labels, { 'com.docker.volume.anonymous': '' });
    await ok(['rm', '-v', 'p-c1']);
    assert.deepEqual((await names()).sort(), [...before, 'p-withc'].sort(), 'rm -v removed the anonymous volume, kept the named one');
    // prune: an unused anonymous volume goes, a used one and named ones stay
    await ok(['create', '--name', 'p-c2', '-v', '/anon', image, 'true']);
    await ok(['create', '--name', 'p-c3', '-v', '/anon', image, 'true']);
    const anon3 = lines(await ok(['inspect', '--format', '{{range .Mounts}}{{.Name}}{{end}}', 'p-c3']))[0]!;
    await ok(['rm', 'p-c2']); // without -v: its anonymous volume stays, unused
    const withAnon = await names();
    const unusedAnon = withAnon.filter((n) => /^[0-9a-f]{64}$/.test(n) && n !== anon3);
    assert.equal(unusedAnon.length, 1);
    const p = await ok(['volume', 'prune', '-f']);
    assert.equal(p, `Deleted Volumes:\n${unusedAnon[0]}\n\nTotal reclaimed space: 0B\n`);
    assert.deepEqual((await names()).sort(), withAnon.filter((n) => n !== unusedAnon[0]).sort());
    // -a with a filter: unused volumes with that label
    assert.equal(await ok(['volume', 'prune', '-a', '-f', '--filter', 'label=keep']), 'Deleted Volumes:\np-labelled\n\nTotal reclaimed space: 0B\n');
    // -a: every unused volume, never one a container has
    const all = lines(await ok(['volume', 'prune', '--all', '--force']));
    assert.deepEqual(all.slice(1, -1).sort(), ['p-named', 'p-withc'].sort());
    assert.deepEqual(await names(), [anon3]);
    await ok(['rm', '-v', 'p-c3']);
    assert.deepEqual(await names(), []);
    const bad = await sk(['volume', 'prune', '-f', '--filter', 'name=x']);
    assert.deepEqual([bad.code, bad.stderr], [125, "Error: invalid filter 'name'\n"]);
  });

  test('volumes with options: type=tmpfs (size) and type=none,o=bind,device= as the container sees them', async () => {
    await ok(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=1m,mode=1770', 'o-tmp']);
    await ok(['volume', 'create', '--opt', 'type=none', '--opt', 'o=bind', '--opt', `device=${dir}`, 'o-bind']);
    assert.deepEqual((JSON.parse(await ok(['volume', 'inspect', 'o-tmp'])) as Record<string, unknown>[])[0]!.Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=1m,mode=1770' });
    const r = await sk(['run', '--rm', '-v', 'o-tmp:/t', '-v', 'o-bind:/b', image, 'sh', '-c',
      'stat -c "%a" /t; cat /b/in; dd if=/dev/zero of=/t/f bs=1024 count=2048 2>/dev/null || echo t-full; echo ==; cat /proc/self/mountinfo']);
    assert.equal(r.code, 0, r.stderr);
    const [out, mi] = r.stdout.split('==\n') as [string, string];
    assert.deepEqual(lines(out), ['1770', 'from-host', 't-full']);
    const mounts = parseMountinfo(mi);
    assert.equal(mountAt(mounts, '/t')?.fstype, 'tmpfs');
    assert.ok(mountAt(mounts, '/t')?.superOptions.includes('size=1024k'));
    assert.ok(mountAt(mounts, '/b')?.root.endsWith(path.basename(dir)), mountAt(mounts, '/b')?.root);
    // a bind volume whose device is gone: the container is refused, nothing is left
    fs.mkdirSync(path.join(dir, 'gone'));
    await ok(['volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', `device=${dir}/gone`, 'o-gone']);
    fs.rmdirSync(path.join(dir, 'gone'));
    const snap = storeSnapshot(store);
    const gone = await sk(['run', '--rm', '-v', 'o-gone:/g', image, 'true']);
    assert.equal(gone.code, 125);
    assert.equal(lines(gone.stderr).length, 1, gone.stderr);
    assert.match(gone.stderr, /^Error: error while mounting volume .*no such file or directory\n$/);
    assert.deepEqual(await leftSince(store, snap), {});
    await ok(['volume', 'rm', 'o-tmp', 'o-bind', 'o-gone']);
    assert.ok(fs.existsSync(path.join(dir, 'in')), 'removing a bind volume leaves its device alone');
  });

  test('a container that fails to be created leaves no volume it made, and keeps one that was there', async () => {
    await ok(['volume', 'create', 'k-pre']);
    await ok(['create', '--name', 'k-taken', image, 'true']);
    const snap = storeSnapshot(store);
    // the name is found taken only when the container's record is written, after its volumes
    const r = await sk(['create', '-v', 'k-pre:/a', '-v', 'k-new:/b', '-v', '/anon', '--name', 'k-taken', image, 'true']);
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /^Error: .*k-taken.*\n$/);
    assert.deepEqual(await leftSince(store, snap), {});
    assert.deepEqual(await names(), ['k-pre']);
    await ok(['rm', 'k-taken']);
    await ok(['volume', 'rm', 'k-pre']);
  });
});

describe('volumes of a store from before volume records', () => {
  test('a volumes/<name>/_data with no record is listed, inspected and removed', async () => {
    const store = await tempStore();
    try {
      assert.equal((await skiff(['volume', 'ls'], { store })).code, 0); // makes the store's dirs
      fs.mkdirSync(path.join(store.root, 'volumes/old1/_data'), { recursive: true });
      const ls = await skiff(['volume', 'ls', '-q'], { store });
      assert.equal(ls.stdout, 'old1\n');
      const [v] = JSON.parse((await skiff(['volume', 'inspect', 'old1'], { store })).stdout) as Record<string, unknown>[];
      assert.equal(v!.Driver, 'local');
      assert.equal(v!.Labels, null);
      assert.equal((await skiff(['volume', 'rm', 'old1'], { store })).code, 0);
      assert.equal(fs.existsSync(path.join(store.root, 'volumes/old1')), false);
    } finally {
      await store.cleanup();
    }
  });
});
